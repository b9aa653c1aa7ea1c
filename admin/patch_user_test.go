package admin_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

// PATCH /admin/api/users/{username} is a JSON merge patch (RFC 7396) of
// the user: only the keys sent change, null removes an optional one. A PUT
// of the password alone, as an operator sends it, drops the user's
// groups, email and admin flag; the PATCH keeps them.
func TestUsersAPI_PatchChangesOnlyWhatItSends(t *testing.T) {
	p := editable(t)
	merge := []string{"Content-Type", "application/merge-patch+json"}

	resp, body := p.send(t, http.MethodPatch, "/admin/api/users/bob", "alice",
		`{"password": "bob-new-pw", "email": "bob@example.com", "claims": {"dept": "sales", "n": 12345678901234567890}}`, merge...)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == "" {
		t.Fatalf("PATCH of bob's password, email and claims: %d, ETag %q: %s", resp.StatusCode, resp.Header.Get("ETag"), body)
	}
	u := p.userOnDisk(t, "bob")
	if !slices.Equal(u.Groups, []string{"mkt"}) || u.Email != "bob@example.com" || u.Password != "bob-new-pw" || u.Claims["dept"] != "sales" {
		t.Fatalf("after the PATCH bob is %+v; want his groups kept and the patch applied", u)
	}
	if strings.Contains(string(body), "bob-new-pw") {
		t.Errorf("the answer holds the password: %s", body)
	}
	if !strings.Contains(string(p.fileText(t)), "12345678901234567890") {
		t.Errorf("a whole number claim was not written as sent:\n%s", p.fileText(t))
	}
	// A claims patch merges into the claims; null removes a key.
	resp, body = p.send(t, http.MethodPatch, "/admin/api/users/bob", "alice", `{"claims": {"title": "rep", "n": null}, "email": null}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH with nulls, as application/json: %d %s", resp.StatusCode, body)
	}
	u = p.userOnDisk(t, "bob")
	if u.Email != "" || u.Claims["dept"] != "sales" || u.Claims["title"] != "rep" || u.Claims["n"] != nil || !slices.Equal(u.Groups, []string{"mkt"}) {
		t.Fatalf("after the second PATCH bob is %+v", u)
	}

	// An admin disabled by a PATCH stays an admin in its groups.
	resp, body = p.send(t, http.MethodPut, "/admin/api/users/carol", "alice", `{"password": "carol-pw", "admin": true, "groups": ["eng"]}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT carol: %d %s", resp.StatusCode, body)
	}
	resp, body = p.send(t, http.MethodPatch, "/admin/api/users/carol", "alice", `{"disabled": true}`, merge...)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH carol disabled: %d %s", resp.StatusCode, body)
	}
	if u := p.userOnDisk(t, "carol"); !u.Disabled || !u.Admin || u.Password != "carol-pw" || !slices.Equal(u.Groups, []string{"eng"}) {
		t.Fatalf("after PATCH {disabled: true} carol is %+v; want only disabled changed", u)
	}
	changes := p.events(t, "admin_change")
	last := changes[len(changes)-1]
	before, _ := last.Details["before"].(map[string]any)
	after, _ := last.Details["after"].(map[string]any)
	if last.User != "carol" || last.Admin != "alice" || before["disabled"] != nil || after["disabled"] != true || after["admin"] != true || after["password"] != nil {
		t.Errorf("the PATCH's admin_change: user %q admin %q, before %v, after %v", last.User, last.Admin, before, after)
	}

	// Refused as a PUT would be, nothing changed.
	for _, c := range []struct {
		body   string
		header []string
		status int
		code   string
	}{
		{`{"groups": ["nope"]}`, merge, http.StatusBadRequest, "invalid_config"},
		{`{"username": "bobby"}`, merge, http.StatusBadRequest, "invalid_request"},
		{`{"colour": "red"}`, merge, http.StatusBadRequest, "invalid_request"},
		{`{"password": null}`, merge, http.StatusBadRequest, "invalid_request"},
		{`{"Password_Bcrypt": null}`, merge, http.StatusBadRequest, "invalid_request"},
		{`{"client_secret": null}`, merge, http.StatusBadRequest, "invalid_request"},
		{`["disabled"]`, merge, http.StatusBadRequest, "invalid_request"},
		{`{"disabled": true}`, []string{"Content-Type", "text/plain"}, http.StatusUnsupportedMediaType, "unsupported_media_type"},
		{`{"disabled": true}`, []string{"If-Match", `"stale"`}, http.StatusPreconditionFailed, "precondition_failed"},
	} {
		resp, body := p.send(t, http.MethodPatch, "/admin/api/users/bob", "alice", c.body, c.header...)
		if e := decode[apiError](t, body); resp.StatusCode != c.status || e.Error != c.code {
			t.Errorf("PATCH %s %v: %d %s; want %d %s", c.body, c.header, resp.StatusCode, body, c.status, c.code)
		}
	}
	if u := p.userOnDisk(t, "bob"); u.Disabled || u.Username != "bob" {
		t.Errorf("a refused PATCH changed bob: %+v", u)
	}
	resp, body = p.send(t, http.MethodPatch, "/admin/api/users/nobody", "alice", `{"disabled": true}`)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("PATCH of a user that does not exist: %d %s", resp.StatusCode, body)
	}
	resp, body = p.send(t, http.MethodPatch, "/admin/api/users/bob", "bob", `{"admin": true}`, "Authorization", basic("bob", "bob-new-pw"))
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("PATCH by a user who is not an admin: %d %s", resp.StatusCode, body)
	}

	// With the ETag a GET answered, If-Match works as for PUT.
	tag := p.etagOf(t, "/admin/api/users/bob")
	resp, body = p.send(t, http.MethodPatch, "/admin/api/users/bob", "alice", `{"name": "Bob B"}`, "If-Match", tag)
	if resp.StatusCode != http.StatusOK || p.userOnDisk(t, "bob").Name != "Bob B" {
		t.Fatalf("PATCH with the current ETag: %d %s", resp.StatusCode, body)
	}
	var view map[string]any
	if err := json.Unmarshal(body, &view); err != nil || view["name"] != "Bob B" || view["access"] == nil {
		t.Errorf("the PATCH answers the user view: %s", body)
	}
}

// userOnDisk is the user as the configuration file holds it now.
func (p *product) userOnDisk(t *testing.T, name string) policy.User {
	t.Helper()
	cfg, err := policy.Load(p.file)
	if err != nil {
		t.Fatal(err)
	}
	u := cfg.User(name)
	if u == nil {
		t.Fatalf("%s holds no user %q", p.file, name)
	}
	return *u
}

// fileText is the configuration file as it is now.
func (p *product) fileText(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(p.file)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// PATCHes of one user sent at once without If-Match are all made, each
// on the version the one before it wrote: none is refused as stale (the
// sender named no version) and none undoes another.
func TestUsersAPI_ConcurrentPatchesAreAllMade(t *testing.T) {
	p := editable(t)
	const n = 12
	codes := make(chan int, n)
	for i := range n {
		go func() {
			resp, _ := p.send(t, http.MethodPatch, "/admin/api/users/bob", "alice", fmt.Sprintf(`{"claims": {"k%d": %d}}`, i, i))
			codes <- resp.StatusCode
		}()
	}
	for range n {
		if code := <-codes; code != http.StatusOK {
			t.Errorf("a PATCH sent with others: %d, want 200", code)
		}
	}
	if u := p.userOnDisk(t, "bob"); len(u.Claims) != n || !slices.Equal(u.Groups, []string{"mkt"}) {
		t.Errorf("after %d PATCHes of one claim each, bob is %+v", n, u)
	}
}
