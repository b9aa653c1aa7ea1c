package admin_test

import (
	"net/http"
	"testing"
)

// A member typed "Group" (RFC 7643 section 4.2: a nested group) is 400
// invalidValue and nothing changes: this IdP's groups hold users only,
// and the value was read as a user's id, so a group whose id is a user's
// sub put that user in the group, with the access the group gives. A
// member typed "User", or not typed, is a user as before.
func TestSCIM_MemberTypedGroupRefused(t *testing.T) {
	p := editable(t)
	if resp, g := p.scim(t, "POST", "/Groups", `{"displayName":"u-bob"}`); resp.StatusCode != http.StatusCreated || g["id"] != "u-bob" {
		t.Fatalf("POST group u-bob: %d %v", resp.StatusCode, g)
	}
	file := readFile(t, p.file)
	nested := `[{"value":"u-bob","type":"Group"}]`
	for _, c := range []struct{ method, path, body string }{
		{"PATCH", "/Groups/eng", `{"Operations":[{"op":"add","path":"members","value":` + nested + `}]}`},
		{"PATCH", "/Groups/eng", `{"Operations":[{"op":"replace","value":{"members":` + nested + `}}]}`},
		{"PUT", "/Groups/eng", `{"displayName":"eng","members":` + nested + `}`},
		{"POST", "/Groups", `{"displayName":"ops","members":` + nested + `}`},
	} {
		resp, m := p.scim(t, c.method, c.path, c.body)
		wantSCIMError(t, c.method+" "+c.path+" "+c.body, resp, m, http.StatusBadRequest, "invalidValue")
	}
	if readFile(t, p.file) != file {
		t.Fatal("a refused member typed Group changed the file")
	}
	for _, typ := range []string{`"User"`, `"user"`} {
		resp, g := p.scim(t, "PATCH", "/Groups/eng", `{"Operations":[{"op":"add","path":"members","value":[{"value":"u-bob","type":`+typ+`}]}]}`)
		if members, _ := g["members"].([]any); resp.StatusCode != http.StatusOK || len(members) != 2 {
			t.Errorf("member u-bob typed %s: %d %v", typ, resp.StatusCode, g)
		}
	}
}
