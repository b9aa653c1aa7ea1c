package admin_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestSCIM_RenameKeepsPendingRequests: a SCIM userName change (Entra's
// PATCH Replace userName) denied the user's pending access requests as
// "the user was removed"; they follow the user to its new name.
func TestSCIM_RenameKeepsPendingRequests(t *testing.T) {
	p := editable(t)
	at, _ := p.login(t, "bob")["access_token"].(string)
	status, req := p.request(t, at, `{"server": "files", "scopes": ["files.read"]}`)
	id, _ := req["id"].(string)
	if status != http.StatusCreated || id == "" {
		t.Fatalf("request: %d %v", status, req)
	}
	resp, u := p.scim(t, "PATCH", "/Users/u-bob", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Replace","path":"userName","value":"bobby"}]}`)
	if resp.StatusCode != http.StatusOK || u["userName"] != "bobby" {
		t.Fatalf("PATCH: %d %v", resp.StatusCode, u)
	}
	if list := p.pending(t); len(list) != 1 || list[0].ID != id || list[0].User != "bobby" {
		t.Fatalf("pending after the rename: %+v", list)
	}
	if resp, body := p.send(t, http.MethodPost, "/admin/api/access-requests/"+id+"/approve", "alice", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("approve: %d %s", resp.StatusCode, body)
	}
	if file := readFile(t, p.file); !strings.Contains(file, "users: [bobby]") && !strings.Contains(file, "- bobby") {
		t.Errorf("the approval's entry:\n%s", file)
	}
}

// TestAccessRequest_ReplacedUserDeniesPendingRequests: a pending request
// belongs to the user who made it, whose sub the IdP follows through a
// rename. A user replaced by another of the same name (a PUT with another
// sub, the old account gone) left the request pending under the name, so
// that an admin approving "bob" gave the new bob what the old one asked
// for, with the old one's reason. It is denied as for a removed user.
// A rename (the sub kept) still moves the request with its user.
func TestAccessRequest_ReplacedUserDeniesPendingRequests(t *testing.T) {
	p := editable(t)
	at, _ := p.login(t, "bob")["access_token"].(string)
	status, req := p.request(t, at, `{"server": "files", "scopes": ["files.read"]}`)
	id, _ := req["id"].(string)
	if status != http.StatusCreated || id == "" {
		t.Fatalf("request: %d %v", status, req)
	}
	old := p.store.Config().User("bob").Sub
	if resp, body := p.send(t, http.MethodPut, "/admin/api/users/bob", "alice", `{"password": "bob-pw", "sub": "u-another-bob", "groups": ["mkt"]}`); resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT bob with another sub: %d %s", resp.StatusCode, body)
	}
	if old == "u-another-bob" {
		t.Fatal("bob had the new sub already")
	}
	if list := p.pending(t); len(list) != 0 {
		t.Fatalf("pending after bob was replaced: %+v", list)
	}
	if resp, body := p.send(t, http.MethodPost, "/admin/api/access-requests/"+id+"/approve", "alice", nil); resp.StatusCode != http.StatusConflict {
		t.Errorf("approving the old bob's request: %d %s, want 409", resp.StatusCode, body)
	}

	at, _ = p.login(t, "bob")["access_token"].(string)
	_, req = p.request(t, at, `{"server": "files", "scopes": ["files.read"]}`)
	id, _ = req["id"].(string)
	resp, u := p.scim(t, "PATCH", "/Users/u-another-bob", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Replace","path":"userName","value":"robert"}]}`)
	if resp.StatusCode != http.StatusOK || u["userName"] != "robert" {
		t.Fatalf("PATCH: %d %v", resp.StatusCode, u)
	}
	if list := p.pending(t); len(list) != 1 || list[0].ID != id || list[0].User != "robert" {
		t.Fatalf("pending after the rename: %+v", list)
	}
}

// TestSCIM_RenameFollowsAccessEntries: a user whose access request was
// approved is named by a users: entry; a SCIM userName change (Okta's PUT
// of the whole user) was refused 400 for it, and retried for ever. The
// access and deny entries now follow the user to its new name, in the
// same edit.
func TestSCIM_RenameFollowsAccessEntries(t *testing.T) {
	p := editableYAML(t, deleteConfig)
	resp, u := p.scim(t, "PUT", "/Users/u-carol", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"caroline",
		"name":{"givenName":"Carol","familyName":"C"},"emails":[{"primary":true,"value":"caroline@example.com","type":"work"}],"active":true}`)
	if resp.StatusCode != http.StatusOK || u["userName"] != "caroline" {
		t.Fatalf("PUT: %d %v", resp.StatusCode, u)
	}
	file := readFile(t, p.file)
	if strings.Contains(file, "carol]") || !strings.Contains(file, "users: [bob, caroline]") || !strings.Contains(file, "users: [caroline]") {
		t.Errorf("the file after the rename:\n%s", file)
	}
	if _, err := p.loginAs("caroline", "carol-pw"); err != nil {
		t.Errorf("caroline logs in: %v", err)
	}
}
