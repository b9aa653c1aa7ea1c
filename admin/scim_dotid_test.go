package admin_test

import (
	"encoding/json"
	"net/http"
	"testing"
)

// A resource whose SCIM id is "." or ".." (a group so named, a user
// with that sub) has a location that leads to it: written as it is, the
// segment is a dot segment (RFC 3986 section 3.3), which every client
// resolves away, and meta.location, the Location header and a member's
// $ref named the collection above it (GET answered a redirect).
func TestSCIM_DotIDLocationLeadsToResource(t *testing.T) {
	p := editable(t)
	if resp, _ := p.send(t, "PUT", "/admin/api/users/dots", "alice", `{"username":"dots","sub":"..","password":"dots-password"}`); resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT user dots: %d", resp.StatusCode)
	}
	for _, name := range []string{".", ".."} {
		resp, g := p.scim(t, "POST", "/Groups", `{"displayName":`+quote(name)+`,"members":[{"value":".."}]}`)
		if resp.StatusCode != http.StatusCreated || g["id"] != name {
			t.Fatalf("POST group %q: %d %v", name, resp.StatusCode, g)
		}
		loc, _ := g["meta"].(map[string]any)["location"].(string)
		if resp.Header.Get("Location") != loc {
			t.Errorf("group %q: Location %q, meta.location %q", name, resp.Header.Get("Location"), loc)
		}
		members, _ := g["members"].([]any)
		if len(members) != 1 {
			t.Fatalf("group %q: members %v", name, members)
		}
		ref, _ := members[0].(map[string]any)["$ref"].(string)
		for what, u := range map[string]string{"group " + name + " meta.location": loc, "member .. $ref": ref} {
			want := name
			if what == "member .. $ref" {
				want = ".."
			}
			if id := getSCIMAt(t, u); id != want {
				t.Errorf("%s %s: GET leads to id %q, want %q", what, u, id, want)
			}
		}
	}
}

// getSCIMAt GETs a SCIM resource by its absolute URL, as a provisioning
// client follows a location, not following redirects, and answers its id.
func getSCIMAt(t *testing.T, u string) string {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("alice", "alice-pw")
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.Status
	}
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	id, _ := m["id"].(string)
	return id
}
