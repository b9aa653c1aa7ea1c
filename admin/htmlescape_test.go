package admin_test

import (
	"bytes"
	"net/http"
	"net/url"
	"testing"
)

// The admin API's and SCIM's answers are read from curl and jq: a
// description or value with &, < or > is written as it is, not as
// encoding/json's HTML escapes (\u0026, \u003c, \u003e), in an object
// answer, a list answer and an error alike.
func TestAdminAPI_AnswersAreNotHTMLEscaped(t *testing.T) {
	base, _ := serveConfig(t, `
users:
  - {username: alice, password: alice-pw, admin: true, claims: {org: "R&D <lab>"}}
scim:
  tokens:
    - {name: entra, token: scim-token-0123456789abcdef0123456789}
`, "x.yaml")
	scim := func(path string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("Authorization", "Bearer scim-token-0123456789abcdef0123456789")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp, b.Bytes()
	}
	for _, c := range []struct {
		path, want string
		scim       bool
	}{
		{"/admin/api/users/alice", `"R&D <lab>"`, false},
		{"/admin/api/users", `"R&D <lab>"`, false},
		{"/admin/api/config", `"R&D <lab>"`, false},
		{"/admin/api/users/a%26b%3Cc%3E", `a&b<c>`, false},
		{"/admin/api/audit?a%26b=1", `a&b`, false},
		{"/admin/api/scim/v2/Users/a%26b%3Cc%3E", `a&b<c>`, true},
	} {
		var body []byte
		if c.scim {
			_, body = scim(c.path)
		} else {
			_, body = get(t, base, c.path, "alice", "alice-pw")
		}
		if !bytes.Contains(body, []byte(c.want)) || bytes.Contains(body, []byte(`\u00`)) {
			t.Errorf("GET %s: want %s as it is:\n%s", c.path, c.want, body)
		}
	}
}

// An answer with "warnings" is written as the others are: the value's
// "&" as it is.
func TestConfigAPI_AnswerWithWarningsIsNotHTMLEscaped(t *testing.T) {
	p := editable(t)
	put := func(username, body string) (*http.Response, []byte) {
		t.Helper()
		return p.send(t, http.MethodPut, "/admin/api/users/"+url.PathEscape(username), "alice", body, "If-Match", p.etagOf(t, "/admin/api/status"))
	}
	if resp, out := put("carol", `{"password":"pw","email":"carol@acme.example"}`); resp.StatusCode != http.StatusCreated {
		t.Fatalf("carol: HTTP %d %s", resp.StatusCode, out)
	}
	resp, out := put("carol@acme.example", `{"password":"pw","claims":{"org":"R&D <lab>"}}`)
	if resp.StatusCode != http.StatusCreated || !bytes.Contains(out, []byte(`"warnings"`)) ||
		!bytes.Contains(out, []byte(`"R&D <lab>"`)) || bytes.Contains(out, []byte(`\u00`)) {
		t.Errorf("HTTP %d %s, want 201 with warnings and the claim as it is", resp.StatusCode, out)
	}
}
