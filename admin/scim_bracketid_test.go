package admin_test

import (
	"net/http"
	"net/url"
	"testing"
)

// A user id holding a ] (a username such as "ops [eu]", whose sub is
// "u-ops [eu]") is a JSON string in a filter: the ] inside its quotes
// does not close the value filter, so that the member is removed by
// members[value eq "<id>"] and found by a filter on it (found by the state
// model test: the PATCH was 400 invalidPath, the member could not be
// removed so).
func TestSCIM_BracketInAMemberID(t *testing.T) {
	p := editable(t)
	if resp, body := p.send(t, "PUT", userPath("ops [eu]"), "alice", map[string]any{"password": "x-pw", "groups": []string{"eng"}}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT user: %d %s", resp.StatusCode, body)
	}
	resp, list := p.scim(t, "GET", "/Groups?filter="+url.QueryEscape(`members[value eq "u-ops [eu]"]`), "")
	if resp.StatusCode != http.StatusOK || list["totalResults"] != 1.0 {
		t.Errorf("GET /Groups filtered by the member: %d %v", resp.StatusCode, list)
	}
	resp, g := p.scim(t, "PATCH", "/Groups/eng", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"remove","path":"members[value eq \"u-ops [eu]\"]"}]}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH remove the member: %d %v", resp.StatusCode, g)
	}
	if p.store.Config().User("ops [eu]").InGroup("eng") {
		t.Error("the member was not removed")
	}
	if !p.store.Config().User("alice").InGroup("eng") {
		t.Error("another member was removed")
	}
}

// An email address with a domain literal (alice@[192.0.2.1], RFC 5321
// section 4.1.3) holds a ]: inside the quotes of an emails path's value
// filter it does not close the brackets either, so that the email is
// replaced or removed by emails[value eq "<address>"] as any other (the
// PATCH was 400 invalidPath: the path was cut at the address's ]).
func TestSCIM_BracketInAnEmailPath(t *testing.T) {
	p := editable(t)
	set := `{"Operations":[{"op":"replace","path":"emails[type eq \"work\"].value","value":"bob@[192.0.2.1]"}]}`
	if resp, u := p.scim(t, "PATCH", "/Users/u-bob", set); resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH the work email: %d %v", resp.StatusCode, u)
	}
	resp, u := p.scim(t, "PATCH", "/Users/u-bob", `{"Operations":[{"op":"replace","path":"emails[value eq \"bob@[192.0.2.1]\"].value","value":"bob@example.com"}]}`)
	if resp.StatusCode != http.StatusOK || p.store.Config().User("bob").Email != "bob@example.com" {
		t.Fatalf("replace emails[value eq the address].value: %d %v; email %q", resp.StatusCode, u, p.store.Config().User("bob").Email)
	}
	p.scim(t, "PATCH", "/Users/u-bob", set)
	resp, u = p.scim(t, "PATCH", "/Users/u-bob", `{"Operations":[{"op":"remove","path":"emails[value eq \"bob@[192.0.2.1]\"]"}]}`)
	if resp.StatusCode != http.StatusOK || p.store.Config().User("bob").Email != "" {
		t.Errorf("remove emails[value eq the address]: %d %v; email %q", resp.StatusCode, u, p.store.Config().User("bob").Email)
	}
}
