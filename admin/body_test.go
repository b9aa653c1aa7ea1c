package admin_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// writeEndpoints are the admin API's writes that take a JSON body, with a
// body each accepts.
var writeEndpoints = []struct{ path, good string }{
	{"/admin/api/servers/files/access", `[{"groups":["eng"],"scopes":["files.read"]}]`},
	{"/admin/api/servers/files/deny", `[{"users":["bob"]}]`},
	{"/admin/api/servers/zs", `{"issuer":"https://as.zs.example","resources":["https://mcp.zs.example/mcp"],"scopes":["zs.read"],"access":[]}`},
	{"/admin/api/users/zu", `{"password":"zu-pw","groups":["eng"],"claims":{"dept":"x"}}`},
	{"/admin/api/groups/zg", `{"description":"Z"}`},
	{"/admin/api/clients/zc", `{"redirect_uris":["http://127.0.0.1/cb"]}`},
}

// put sends body to path as alice, If-Match: *.
func (p *product) put(t testing.TB, path string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, p.base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("alice", "alice-pw")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("If-Match", "*")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestConfigAPI_BodiesMustHaveTheDocumentedShape(t *testing.T) {
	p := editable(t)
	version := p.store.Version()
	cases := []struct {
		what, path, body string
		status           int
		says             string
	}{
		{"null access list", "/admin/api/servers/files/access", `null`, 400, "null"},
		{"null deny list", "/admin/api/servers/files/deny", ` null `, 400, "null"},
		{"null list in its object", "/admin/api/servers/files/access", `{"access":null}`, 400, "access is null"},
		{"null member", "/admin/api/groups/eng", `{"description":null}`, 400, "description is null"},
		{"a list of a string", "/admin/api/servers/files/access", `"eng"`, 400, "array"},
		{"null entry", "/admin/api/servers/files/access", `[null]`, 400, "[0] is null"},
		{"null client", "/admin/api/clients/zc", `null`, 400, "null"},
		{"null group", "/admin/api/groups/zg", `null`, 400, "null"},
		{"null user", "/admin/api/users/zu", `null`, 400, "null"},
		{"null server", "/admin/api/servers/zs", `null`, 400, "null"},
		{"a group as a list", "/admin/api/groups/zg", `[]`, 400, "object"},
		{"a group as a number", "/admin/api/groups/zg", `7`, 400, "object"},
		{"duplicate key", "/admin/api/groups/eng", `{"description":"a","description":"b"}`, 400, `"description" twice`},
		{"duplicate key in another case", "/admin/api/groups/eng", `{"Description":"a","description":"b"}`, 400, "twice"},
		// encoding/json matches a key to a field as bytes.EqualFold does,
		// which takes ſ (U+017F) for s: the same key as well.
		{"duplicate key with a long s", "/admin/api/groups/eng", `{"description":"a","de\u017fcription":"b"}`, 400, "twice"},
		{"duplicate key in an entry", "/admin/api/servers/files/access", `[{"groups":["eng"],"groups":["mkt"]}]`, 400, `[0] has the key "groups" twice`},
		{"duplicate key deep down", "/admin/api/users/alice", `{"claims":{"a":{"b":1,"b":2}}}`, 400, "claims.a has"},
		{"unknown field", "/admin/api/groups/eng", `{"descripton":"x"}`, 400, "unknown field"},
		{"unknown field in an entry", "/admin/api/servers/files/deny", `[{"user":["bob"]}]`, 400, "unknown field"},
		{"wrong type", "/admin/api/groups/eng", `{"description":5}`, 400, "description has a number where a string belongs"},
		{"wrong type in an entry", "/admin/api/servers/files/access", `[{"groups":"eng"}]`, 400, "groups has a string where a list of strings belongs"},
		{"wrong element type", "/admin/api/users/alice", `{"groups":[1]}`, 400, "groups has a number where a string belongs"},
		{"a true/false as a string", "/admin/api/users/alice", `{"disabled":"yes"}`, 400, "disabled has a string where true or false belongs"},
		{"a time as a number", "/admin/api/servers/files/access", `[{"expires":5}]`, 400, "expires has a number where a string belongs"},
		{"a clock time as a number", "/admin/api/clock", `{"time":5}`, 400, "time has a number where a string belongs"},
		{"a clock change as a list", "/admin/api/clock", `[]`, 400, "the body has a list where an object belongs"},
		{"empty", "/admin/api/groups/eng", ``, 400, "the body is empty"},
		{"cut short", "/admin/api/groups/eng", `{`, 400, "ends before"},
		{"two values", "/admin/api/groups/eng", `{} {}`, 400, "more than one"},
		{"not JSON", "/admin/api/groups/eng", `{"description":`, 400, "not JSON"},
		{"too deep", "/admin/api/users/alice", `{"claims":{"a":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}}`, 400, "deeper"},
		{"too large", "/admin/api/groups/eng", `{"description":"` + strings.Repeat("x", 1<<20) + `"}`, 413, "larger"},
		{"null clock", "/admin/api/clock", `null`, 400, "null"},
		{"duplicate clock key", "/admin/api/clock", `{"frozen":true,"frozen":false}`, 400, "twice"},
	}
	for _, c := range cases {
		status, body := p.put(t, c.path, []byte(c.body))
		desc := decode[apiError](t, []byte(body)).Description
		if status != c.status || !strings.Contains(desc, c.says) {
			t.Errorf("%s: %d %s; want %d saying %q", c.what, status, body, c.status, c.says)
		}
		// Go's own texts name its types and say nothing of what to send;
		// "the body is refused: the body is not JSON" said it twice.
		for _, leak := range []string{"Go struct", "Go value", "unmarshal", "EOF", "json:", "policy.", "admin.", "refused: the body"} {
			if strings.Contains(desc, leak) {
				t.Errorf("%s: %q says Go's %q", c.what, desc, leak)
			}
		}
	}
	if p.store.Version() != version || readFile(t, p.file) != editConfig {
		t.Error("a refused body changed the configuration")
	}
	if n := len(p.events(t, "admin_change")); n != 0 {
		t.Errorf("%d admin_change events for refused bodies", n)
	}
	// The documented shapes still go through (GET answers "access": []
	// for a server without entries).
	for _, e := range writeEndpoints {
		if status, body := p.put(t, e.path, []byte(e.good)); status/100 != 2 {
			t.Errorf("%s %s: %d %s", e.path, e.good, status, body)
		}
	}
}

// FuzzAdminBodies sends arbitrary bytes to every write of the admin API:
// never a 5xx, and a 4xx changes nothing.
func FuzzAdminBodies(f *testing.F) {
	for _, e := range writeEndpoints {
		f.Add(e.good)
	}
	for _, s := range []string{`null`, `[null]`, `{"a":1,"a":2}`, `{"access":null}`, `[{"groups":["eng"],"groups":[]}]`, `{"claims":{"x":null}}`, `"x"`, `{}`, `[]`} {
		f.Add(s)
	}
	p := editable(f)
	f.Fuzz(func(t *testing.T, body string) {
		for _, e := range writeEndpoints {
			before := p.store.Version()
			status, answer := p.put(t, e.path, []byte(body))
			if status >= 500 {
				t.Fatalf("%s %q: %d %s", e.path, body, status, answer)
			}
			if status >= 400 && p.store.Version() != before {
				t.Fatalf("%s %q: %d, yet the configuration changed", e.path, body, status)
			}
		}
	})
}
