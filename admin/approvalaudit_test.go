package admin_test

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestAccessRequest_ApprovalChangeIsFoundByTheUser: the admin_change of an
// approval, the edit that gives the user the access, named only the MCP
// server, so that the audit's ?user= (and the console's filter by user)
// told the user's story without it: the request, its approval, then
// exchanges allowed by an entry no event of the user's added. It names the
// user, as a SCIM change of a group's members does.
func TestAccessRequest_ApprovalChangeIsFoundByTheUser(t *testing.T) {
	p := editable(t)
	at, _ := p.login(t, "bob")["access_token"].(string)
	status, req := p.request(t, at, `{"server": "files", "scopes": ["files.read"], "reason": "Q3 report"}`)
	id, _ := req["id"].(string)
	if status != http.StatusCreated || id == "" {
		t.Fatalf("request: %d %v", status, req)
	}
	if resp, body := p.send(t, http.MethodPost, "/admin/api/access-requests/"+id+"/approve", "alice", map[string]any{"expires_in": "1h"}); resp.StatusCode != http.StatusOK {
		t.Fatalf("approve: %d %s", resp.StatusCode, body)
	}
	resp, body := p.send(t, http.MethodGet, "/admin/api/audit?type=admin_change&user=bob", "alice", nil)
	var evs []map[string]any
	if err := json.Unmarshal(body, &evs); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("audit: %d %s", resp.StatusCode, body)
	}
	if len(evs) != 1 || evs[0]["user"] != "bob" || evs[0]["server"] != "files" || evs[0]["details"].(map[string]any)["object"] != "access approval" {
		t.Errorf("bob's admin_change events after the approval: %v; want the approval's, naming bob and files", evs)
	}
}
