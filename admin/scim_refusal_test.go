package admin_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

// rawSCIM sends a request to a SCIM endpoint with exactly the headers
// given (name, value pairs; a name given twice is sent twice) and decodes
// the answer's JSON object.
func (p *product) rawSCIM(t *testing.T, method, path, body string, header ...string) (*http.Response, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, p.base+scimBase+path, r)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s %s: %d, not JSON: %s", method, path, resp.StatusCode, raw)
	}
	return resp, m
}

func basic(user, password string) string {
	req, _ := http.NewRequest(http.MethodGet, "http://x", nil)
	req.SetBasicAuth(user, password)
	return req.Header.Get("Authorization")
}

// The refusals every admin API endpoint makes (authentication, throttle,
// the header checks, a DELETE with a body) are SCIM errors under the SCIM
// endpoints, which is what a SCIM client parses; WWW-Authenticate and
// Retry-After are kept. Nothing refused changes anything.
func TestSCIM_RefusalsAreSCIMErrors(t *testing.T) {
	p := editable(t)
	// A disabled admin.
	if _, err := p.store.PutUser(policy.User{Username: "dora", Password: "dora-pw", Admin: true, Disabled: true}, "*"); err != nil {
		t.Fatal(err)
	}
	file := readFile(t, p.file)
	alice := basic("alice", "alice-pw")
	patch := `{"Operations":[{"op":"replace","path":"active","value":false}]}`
	ct := "application/scim+json"

	resp, m := p.rawSCIM(t, "GET", "/Users", "")
	wantSCIMError(t, "no credentials", resp, m, 401, "")
	if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("401 without WWW-Authenticate: %v", resp.Header)
	}
	resp, m = p.rawSCIM(t, "GET", "/Users", "", "Authorization", basic("alice", "wrong"))
	wantSCIMError(t, "a wrong password", resp, m, 401, "")
	resp, m = p.rawSCIM(t, "PATCH", "/Users/u-bob", patch, "Authorization", basic("dora", "dora-pw"), "Content-Type", ct)
	wantSCIMError(t, "a disabled admin", resp, m, 401, "")
	resp, m = p.rawSCIM(t, "PATCH", "/Users/u-alice", patch, "Authorization", basic("bob", "bob-pw"), "Content-Type", ct)
	wantSCIMError(t, "a non-admin", resp, m, 403, "")
	resp, m = p.rawSCIM(t, "PATCH", "/Users/u-bob", patch, "Authorization", alice, "Content-Type", ct, "Origin", "https://evil.example")
	wantSCIMError(t, "a change from another site", resp, m, 403, "")
	resp, m = p.rawSCIM(t, "GET", "/Users", "", "Authorization", alice, "Authorization", basic("bob", "bob-pw"))
	wantSCIMError(t, "two Authorization headers", resp, m, 400, "invalidSyntax")
	resp, m = p.rawSCIM(t, "POST", "/Users", `{"userName":"x"}`, "Authorization", alice, "Content-Type", ct, "Content-Type", "text/plain")
	wantSCIMError(t, "two Content-Type headers", resp, m, 400, "invalidSyntax")
	resp, m = p.rawSCIM(t, "POST", "/Users", `{"userName":"x"}`, "Authorization", alice, "Content-Type", ct, "Content-Encoding", "gzip")
	wantSCIMError(t, "a content coding", resp, m, 415, "")
	resp, m = p.rawSCIM(t, "DELETE", "/Users/u-bob", `{"x":1}`, "Authorization", alice, "Content-Type", ct)
	wantSCIMError(t, "a DELETE with a body", resp, m, 400, "invalidSyntax")

	// The throttle: five failures, then 429 with Retry-After.
	for range 5 {
		p.rawSCIM(t, "GET", "/Users", "", "Authorization", basic("bob", "guess"))
	}
	resp, m = p.rawSCIM(t, "GET", "/Users", "", "Authorization", basic("bob", "bob-pw"))
	wantSCIMError(t, "a throttled username", resp, m, 429, "")
	if resp.Header.Get("Retry-After") == "" {
		t.Errorf("429 without Retry-After: %v", resp.Header)
	}

	if readFile(t, p.file) != file {
		t.Error("a refused request changed the file")
	}
	if p.store.Config().User("bob").Disabled {
		t.Error("a refused request disabled bob")
	}
	// Outside SCIM, the admin API's own JSON as before.
	resp, b := p.send(t, "GET", "/admin/api/users", "", nil)
	if resp.StatusCode != 401 || !strings.Contains(string(b), `"error": "unauthorized"`) {
		t.Errorf("admin API 401: %d %s", resp.StatusCode, b)
	}
}

// The SCIM base itself, without its slash, is under SCIM too: its 404 is
// a SCIM error.
func TestSCIM_BaseWithoutSlashIsSCIM(t *testing.T) {
	p := editable(t)
	resp, m := p.rawSCIM(t, "GET", "", "", "Authorization", basic("alice", "alice-pw"))
	wantSCIMError(t, "GET the base", resp, m, http.StatusNotFound, "")
	resp, m = p.rawSCIM(t, "GET", "", "")
	wantSCIMError(t, "GET the base without credentials", resp, m, http.StatusUnauthorized, "")
}
