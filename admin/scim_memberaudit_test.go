package admin_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"
)

// TestSCIM_MembershipChangeNamesTheUser: a SCIM change of a group's
// members gives or takes the access of the users it adds or removes, but
// its admin_change named only the group, so the audit's ?user= missed
// what changed a user's access. It names the user it changed (user),
// and every user changed in details.users.
func TestSCIM_MembershipChangeNamesTheUser(t *testing.T) {
	p := editable(t)
	userChanges := func(user string) []map[string]any {
		t.Helper()
		resp, body := p.send(t, http.MethodGet, "/admin/api/audit?type=admin_change&user="+user, "alice", nil)
		var evs []map[string]any
		if err := json.Unmarshal(body, &evs); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("audit: %d %s", resp.StatusCode, body)
		}
		return evs
	}
	// Okta adds one member.
	resp, g := p.scim(t, "PATCH", "/Groups/eng", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"add","path":"members","value":[{"value":"u-bob","display":"bob"}]}]}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH add: %d %v", resp.StatusCode, g)
	}
	evs := userChanges("bob")
	if len(evs) != 1 || evs[0]["details"].(map[string]any)["name"] != "eng" {
		t.Fatalf("bob's admin_change events after Okta's add: %v", evs)
	}
	// Entra removes him by value.
	resp, g = p.scim(t, "PATCH", "/Groups/eng", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Remove","path":"members","value":[{"value":"u-bob"}]}]}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH remove: %d %v", resp.StatusCode, g)
	}
	if evs := userChanges("bob"); len(evs) != 2 {
		t.Fatalf("bob's admin_change events after Entra's remove: %v", evs)
	}
	// A PUT that changes two members lists both.
	resp, g = p.scim(t, "PUT", "/Groups/mkt", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"mkt","members":[{"value":"u-alice"}]}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT: %d %v", resp.StatusCode, g)
	}
	resp, body := p.send(t, http.MethodGet, "/admin/api/audit?type=admin_change&limit=1", "alice", nil)
	var last []map[string]any
	if err := json.Unmarshal(body, &last); err != nil || resp.StatusCode != http.StatusOK || len(last) != 1 {
		t.Fatalf("audit: %d %s", resp.StatusCode, body)
	}
	users, _ := last[0]["details"].(map[string]any)["users"].([]any)
	if !slices.Equal(users, []any{"alice", "bob"}) {
		t.Errorf("the PUT's admin_change: %v", last[0])
	}
}

// TestSCIM_MembershipChangeFoundByEveryUser: a SCIM change of several
// members at once names them in details.users, and its user is empty, so
// the audit's ?user= found it for none of them. It finds it for each.
func TestSCIM_MembershipChangeFoundByEveryUser(t *testing.T) {
	p := editable(t)
	resp, g := p.scim(t, "PUT", "/Groups/mkt", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"mkt","members":[{"value":"u-alice"}]}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT: %d %v", resp.StatusCode, g)
	}
	for _, user := range []string{"alice", "bob"} {
		resp, body := p.send(t, http.MethodGet, "/admin/api/audit?type=admin_change&user="+user, "alice", nil)
		var evs []map[string]any
		if err := json.Unmarshal(body, &evs); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("audit: %d %s", resp.StatusCode, body)
		}
		if len(evs) != 1 || evs[0]["details"].(map[string]any)["name"] != "mkt" {
			t.Errorf("?user=%s: %v", user, evs)
		}
	}
	// Not a user the change did not name, nor a part of a name.
	for _, user := range []string{"carol", "ali", `alice","bob`} {
		resp, body := p.send(t, http.MethodGet, "/admin/api/audit?type=admin_change&user="+url.QueryEscape(user), "alice", nil)
		var evs []map[string]any
		if err := json.Unmarshal(body, &evs); err != nil || resp.StatusCode != http.StatusOK || len(evs) != 0 {
			t.Errorf("?user=%s: %d %s", user, resp.StatusCode, body)
		}
	}
	// After a restart, read back from the file.
	p.stop()
	q := serveStore(t, p.store, p.auditFile)
	resp, body := q.send(t, http.MethodGet, "/admin/api/audit?type=admin_change&user=bob", "alice", nil)
	var evs []map[string]any
	if err := json.Unmarshal(body, &evs); err != nil || resp.StatusCode != http.StatusOK || len(evs) != 1 {
		t.Errorf("?user=bob after a restart: %d %s", resp.StatusCode, body)
	}
}
