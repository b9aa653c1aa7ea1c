package admin_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
)

// nullsIn returns the JSON paths of every null in body ("" is the body).
func nullsIn(t *testing.T, body []byte) []string {
	t.Helper()
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("the answer is not JSON: %v: %s", err, body)
	}
	var out []string
	var walk func(v any, path string)
	walk = func(v any, path string) {
		switch x := v.(type) {
		case nil:
			out = append(out, path)
		case map[string]any:
			for k, e := range x {
				walk(e, path+"."+k)
			}
		case []any:
			for i, e := range x {
				walk(e, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
	walk(v, "")
	return out
}

// checkNoNull fails the test when an answer holds null anywhere.
func checkNoNull(t *testing.T, what string, resp *http.Response, body []byte) {
	t.Helper()
	if resp.StatusCode/100 != 2 {
		t.Errorf("%s: %d %s", what, resp.StatusCode, body)
		return
	}
	if len(body) == 0 {
		return
	}
	if nulls := nullsIn(t, body); len(nulls) > 0 {
		t.Errorf("%s answers null at %v", what, nulls)
	}
}

// TestAdminAPI_AnswersHoldNoNull: no answer of the admin API, GET or the
// body of a change, holds null anywhere (docs/http.md, "Changing the
// configuration", refuses null in a body, so what a GET answers must be sendable back): objects made with
// the fewest keys, lists emptied, requests pending, approved and denied,
// faults, the clock, keys and the audit log of all of it.
func TestAdminAPI_AnswersHoldNoNull(t *testing.T) {
	p := editable(t)
	changes := []struct{ method, path, body string }{
		{"PUT", "/admin/api/servers/bare", `{"issuer":"https://as.bare.example"}`},
		{"PUT", "/admin/api/servers/bare/access", `[]`},
		{"PUT", "/admin/api/servers/bare/deny", `[]`},
		{"PUT", "/admin/api/servers/files/deny", `[{"users":["bob"]}]`},
		{"PUT", "/admin/api/servers/files/deny", `{"deny":[]}`},
		{"PUT", "/admin/api/users/bare", `{"password":"bare-pw"}`},
		{"PUT", "/admin/api/groups/bare", `{}`},
		{"PUT", "/admin/api/clients/bare", `{}`},
		{"PUT", "/admin/api/clock", `{"frozen":true}`},
		{"PUT", "/admin/api/clock", `{"advance":"1m","frozen":false}`},
		{"POST", "/admin/api/keys/rotate", ``},
	}
	for _, c := range changes {
		var body any
		if c.body != "" {
			body = c.body
		}
		resp, answer := p.send(t, c.method, c.path, "alice", body)
		checkNoNull(t, c.method+" "+c.path+" "+c.body, resp, answer)
	}

	// bob asks, is decided, and asks again: one request per server may
	// wait at a time. The last one, without scopes, stays pending.
	at, _ := p.login(t, "bob")["access_token"].(string)
	for _, c := range []struct{ ask, decide, body string }{
		{`{"server": "files", "scopes": ["files.write"]}`, "approve", ``},
		{`{"server": "files", "scopes": ["files.write"], "reason": "r"}`, "approve", `{"expires_in":"8h","scopes":["files.write"]}`},
		{`{"server": "files", "scopes": ["files.write"]}`, "deny", `{"reason":"no"}`},
		{`{"server": "files"}`, "approve", `{}`},
		{`{"server": "files"}`, "", ``},
	} {
		status, req := p.request(t, at, c.ask)
		id, _ := req["id"].(string)
		if status != http.StatusCreated || id == "" {
			t.Fatalf("access request %s: %d %v", c.ask, status, req)
		}
		if c.decide == "" {
			continue
		}
		var body any
		if c.body != "" {
			body = c.body
		}
		resp, answer := p.send(t, http.MethodPost, "/admin/api/access-requests/"+id+"/"+c.decide, "alice", body)
		checkNoNull(t, "POST "+c.decide+" "+c.body, resp, answer)
	}
	// Faults last: the first would answer bob's login.
	for _, body := range []string{`{"http_status":503,"times":1}`, `[{"endpoint":"jwks","delay":"1s"}]`, `{"error":{"code":"invalid_grant"},"match":{"user":"bob"}}`} {
		resp, answer := p.send(t, http.MethodPost, "/admin/api/faults", "alice", body)
		checkNoNull(t, "POST /admin/api/faults "+body, resp, answer)
	}
	resp, answer := p.send(t, http.MethodGet, "/admin/api/faults", "alice", nil)
	checkNoNull(t, "GET /admin/api/faults", resp, answer)
	if resp, answer := p.send(t, http.MethodDelete, "/admin/api/faults", "alice", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE faults: %d %s", resp.StatusCode, answer)
	}
	if resp, answer := p.send(t, http.MethodDelete, "/admin/api/clients/bare", "alice", nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE client: %d %s", resp.StatusCode, answer)
	}

	explain := url.Values{"user": {"bob"}, "client": {"mcp-client"}, "audience": {"https://as.files.example"}}
	for _, path := range []string{
		"/admin/api/servers", "/admin/api/servers/bare", "/admin/api/servers/files",
		"/admin/api/users", "/admin/api/users/bare", "/admin/api/users/alice",
		"/admin/api/groups", "/admin/api/clients",
		"/admin/api/faults", "/admin/api/clock", "/admin/api/keys",
		"/admin/api/status", "/admin/api/config",
		"/admin/api/access-requests",
		"/admin/api/audit?limit=1000",
		"/admin/api/explain?" + explain.Encode(),
	} {
		resp, answer := p.send(t, http.MethodGet, path, "alice", nil)
		checkNoNull(t, "GET "+path, resp, answer)
	}
}

// TestConfigAPI_GetPutRoundTrip: what a GET answers for each kind of
// object, sent back unchanged with the GET's ETag, is accepted.
func TestConfigAPI_GetPutRoundTrip(t *testing.T) {
	p := editable(t)
	for _, c := range []struct{ method, path, body string }{
		{"PUT", "/admin/api/servers/bare", `{"issuer":"https://as.bare.example"}`},
		{"PUT", "/admin/api/users/bare", `{"password":"bare-pw"}`},
		{"PUT", "/admin/api/groups/bare", `{}`},
		{"PUT", "/admin/api/clients/bare", `{}`},
	} {
		if resp, answer := p.send(t, c.method, c.path, "alice", c.body); resp.StatusCode != http.StatusCreated {
			t.Fatalf("%s %s: %d %s", c.method, c.path, resp.StatusCode, answer)
		}
	}
	// Each: where the object is read, which member of a list answer it
	// is (-1: the answer is the object), and where it is sent back.
	cases := []struct {
		get   string
		index func([]map[string]any) int
		put   string
		field string // "" the whole object, else the member sent
	}{
		{"/admin/api/servers/files", nil, "/admin/api/servers/files", ""},
		{"/admin/api/servers/bare", nil, "/admin/api/servers/bare", ""},
		{"/admin/api/servers/files", nil, "/admin/api/servers/files/access", "access"},
		{"/admin/api/servers/bare", nil, "/admin/api/servers/bare/access", "access"},
		{"/admin/api/users/alice", nil, "/admin/api/users/alice", ""},
		{"/admin/api/users/bare", nil, "/admin/api/users/bare", ""},
		{"/admin/api/groups", named("name", "eng"), "/admin/api/groups/eng", ""},
		{"/admin/api/groups", named("name", "bare"), "/admin/api/groups/bare", ""},
		{"/admin/api/clients", named("client_id", "mcp-client"), "/admin/api/clients/mcp-client", ""},
		{"/admin/api/clients", named("client_id", "bare"), "/admin/api/clients/bare", ""},
	}
	for _, c := range cases {
		resp, answer := p.send(t, http.MethodGet, c.get, "alice", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", c.get, resp.StatusCode, answer)
		}
		tag := resp.Header.Get("ETag")
		var obj map[string]any
		if c.index != nil {
			var list []map[string]any
			if err := json.Unmarshal(answer, &list); err != nil {
				t.Fatal(err)
			}
			i := c.index(list)
			if i < 0 {
				t.Fatalf("GET %s: not listed: %s", c.get, answer)
			}
			obj = list[i]
		} else if err := json.Unmarshal(answer, &obj); err != nil {
			t.Fatal(err)
		}
		var send any = obj
		if c.field != "" {
			send = map[string]any{c.field: obj[c.field]}
		}
		resp, back := p.send(t, http.MethodPut, c.put, "alice", send, "If-Match", tag)
		if resp.StatusCode != http.StatusOK {
			b, _ := json.Marshal(send)
			t.Errorf("PUT %s with what GET %s answered: %d %s\nsent %s", c.put, c.get, resp.StatusCode, back, b)
		}
	}
}

func named(key, name string) func([]map[string]any) int {
	return func(list []map[string]any) int {
		for i, o := range list {
			if o[key] == name {
				return i
			}
		}
		return -1
	}
}

// TestAdminAPI_NullMembersAreRefused: null as a member's value, anywhere
// in a body of any write under /admin/api/, is 400 invalid_request naming
// the member; the file on disk, the ETag, the clock, the faults and the
// access requests stay as they were, and no change is audited
// (docs/http.md, "Changing the configuration").
func TestAdminAPI_NullMembersAreRefused(t *testing.T) {
	p := editable(t)
	at, _ := p.login(t, "bob")["access_token"].(string)
	_, req := p.request(t, at, `{"server": "files", "scopes": ["files.write"]}`)
	id, _ := req["id"].(string)
	approve, deny := "/admin/api/access-requests/"+id+"/approve", "/admin/api/access-requests/"+id+"/deny"

	cases := []struct {
		method, path, body, names string
	}{
		{"PUT", "/admin/api/servers/files", `{"issuer":"https://as.files.example","name":null}`, "name"},
		{"PUT", "/admin/api/servers/files", `{"issuer":"https://as.files.example","access":null}`, "access"},
		{"PUT", "/admin/api/servers/zs", `{"issuer":"https://as.zs.example","scopes":null}`, "scopes"},
		{"PUT", "/admin/api/servers/files", `{"issuer":"https://as.files.example","clients":{"mcp-client":null}}`, "clients.mcp-client"},
		{"PUT", "/admin/api/servers/files", `{"issuer":"https://as.files.example","etag":null}`, "etag"},
		{"PUT", "/admin/api/servers/files/access", `[{"groups":["eng"],"scopes":null}]`, "[0].scopes"},
		{"PUT", "/admin/api/servers/files/access", `[{"groups":["eng"],"max_auth_age":null}]`, "[0].max_auth_age"},
		{"PUT", "/admin/api/servers/files/access", `{"access":[{"groups":["eng"],"expires":null}]}`, "access[0].expires"},
		{"PUT", "/admin/api/servers/files/deny", `[{"users":null}]`, "[0].users"},
		{"PUT", "/admin/api/users/bob", `{"name":null}`, "name"},
		{"PUT", "/admin/api/users/bob", `{"password":null}`, "password"},
		{"PUT", "/admin/api/users/bob", `{"password_bcrypt":null}`, "password_bcrypt"},
		{"PUT", "/admin/api/users/bob", `{"groups":null}`, "groups"},
		{"PUT", "/admin/api/users/bob", `{"claims":{"dept":null}}`, "claims.dept"},
		{"PUT", "/admin/api/users/bob", `{"access":null}`, "access"},
		{"PUT", "/admin/api/users/zu", `{"password":"zu-pw","email":null}`, "email"},
		{"PUT", "/admin/api/groups/eng", `{"name":null}`, "name"},
		{"PUT", "/admin/api/groups/eng", `{"description":null}`, "description"},
		{"PUT", "/admin/api/groups/eng", `{"members":null}`, "members"},
		{"PUT", "/admin/api/clients/mcp-client", `{"client_secret":null}`, "client_secret"},
		{"PUT", "/admin/api/clients/mcp-client", `{"redirect_uris":null}`, "redirect_uris"},
		{"PUT", "/admin/api/clients/mcp-client", `{"token_exchange":null}`, "token_exchange"},
		{"PUT", "/admin/api/clients/mcp-client", `{"servers":null}`, "servers"},
		{"PUT", "/admin/api/clock", `{"frozen":null}`, "frozen"},
		{"PUT", "/admin/api/clock", `{"frozen":true,"advance":null}`, "advance"},
		{"POST", approve, `{"expires_in":null}`, "expires_in"},
		{"POST", approve, `{"scopes":null}`, "scopes"},
		{"POST", deny, `{"reason":null}`, "reason"},
		{"POST", "/admin/api/faults", `{"http_status":503,"times":null}`, "times"},
		{"POST", "/admin/api/faults", `[{"error":{"code":"temporarily_unavailable","description":null}}]`, "[0].error.description"},
	}
	version, tag, file := p.store.Version(), p.etagOf(t, "/admin/api/servers/files"), readFile(t, p.file)
	for _, c := range cases {
		resp, answer := p.send(t, c.method, c.path, "alice", c.body)
		var e apiError
		_ = json.Unmarshal(answer, &e)
		if resp.StatusCode != http.StatusBadRequest || e.Error != "invalid_request" ||
			!strings.Contains(e.Description, c.names+" is null") {
			t.Errorf("%s %s %s: %d %s; want 400 invalid_request saying %q", c.method, c.path, c.body, resp.StatusCode, answer, c.names+" is null")
		}
	}
	if p.store.Version() != version || p.etagOf(t, "/admin/api/servers/files") != tag || readFile(t, p.file) != file {
		t.Error("a body with a null member changed the configuration")
	}
	if _, now := p.send(t, http.MethodGet, "/admin/api/clock", "alice", nil); !strings.Contains(string(now), `"frozen": false`) {
		t.Errorf("a body with a null member changed the clock: %s", now)
	}
	if resp, faults := p.send(t, http.MethodGet, "/admin/api/faults", "alice", nil); resp.StatusCode != http.StatusOK || strings.TrimSpace(string(faults)) != "[]" {
		t.Errorf("a body with a null member added a fault: %s", faults)
	}
	if pending := p.pending(t); len(pending) != 1 || pending[0].ID != id {
		t.Errorf("a body with a null member decided the request: %+v", pending)
	}
	if evs := p.events(t, audit.TypeAdminChange); len(evs) != 0 {
		t.Errorf("%d admin_change events for refused bodies: %+v", len(evs), evs)
	}
	if evs := p.events(t, audit.TypeAccessRequest); len(evs) != 1 {
		t.Errorf("access_request events besides the request: %+v", evs)
	}
}
