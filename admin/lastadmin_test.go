package admin_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestConfigAPI_TheLastAdminStays: a change that would leave no enabled
// admin (the only one deleted, disabled or made a plain user, through the
// admin API or SCIM) is refused with 409 and changes nothing, since nobody
// could then use the console or the API; with a second admin it is made.
func TestConfigAPI_TheLastAdminStays(t *testing.T) {
	p := editable(t)
	before := readFile(t, p.file)
	for _, c := range []struct {
		what, method, path, body string
	}{
		{"deleted", http.MethodDelete, "/admin/api/users/alice", ""},
		{"disabled", http.MethodPut, "/admin/api/users/alice", `{"username": "alice", "groups": ["eng"], "admin": true, "disabled": true}`},
		{"made a plain user", http.MethodPut, "/admin/api/users/alice", `{"username": "alice", "groups": ["eng"]}`},
		{"deprovisioned by SCIM", http.MethodPatch, "/admin/api/scim/v2/Users/u-alice", `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "value": {"active": false}}]}`},
	} {
		var body any
		if c.body != "" {
			body = c.body
		}
		resp, b := p.send(t, c.method, c.path, "alice", body, "If-Match", "*")
		if resp.StatusCode != http.StatusConflict || !strings.Contains(string(b), "without an enabled admin") {
			t.Errorf("the only admin %s: %d %s; want 409 saying why", c.what, resp.StatusCode, b)
		}
	}
	if got := readFile(t, p.file); got != before {
		t.Errorf("a refused change wrote the file:\n%s", got)
	}

	resp, b := p.send(t, http.MethodPut, "/admin/api/users/bob", "alice", `{"username": "bob", "groups": ["mkt"], "admin": true}`, "If-Match", "*")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("making bob an admin: %d %s", resp.StatusCode, b)
	}
	if resp, b := p.send(t, http.MethodPut, "/admin/api/users/alice", "alice", `{"username": "alice", "groups": ["eng"], "admin": true, "disabled": true}`, "If-Match", "*"); resp.StatusCode != http.StatusOK {
		t.Errorf("disabling alice beside another admin: %d %s", resp.StatusCode, b)
	}
}
