package admin_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/admin"
	"github.com/xaa-idp/xaa-idp/policy/policytest"
)

// usersPage is GET path as user0: the users it answers and the path of
// its Link rel="next", "" without one.
func usersPage(t *testing.T, p *product, path string) ([]admin.UserView, string) {
	t.Helper()
	resp, body := p.send(t, http.MethodGet, path, "user0", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
	}
	users := decode[[]admin.UserView](t, body)
	link := resp.Header.Get("Link")
	if link == "" {
		return users, ""
	}
	next, ok := strings.CutSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
	if !ok || !strings.HasPrefix(next, "/admin/api/users?") {
		t.Fatalf("%s: Link %q", path, link)
	}
	return users, next
}

func names(users []admin.UserView) []string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u.Username
	}
	return out
}

// TestUsersAPI_PagesWithLink: a file of 2,500 users is answered 1,000 at a
// time in the file's order, each page with a Link to the next (RFC 8288),
// the last without; every user once.
func TestUsersAPI_PagesWithLink(t *testing.T) {
	p, _ := companyFile(t, policytest.Size{Users: 2500, Groups: 20, Servers: 2, Clients: 5})
	var all []string
	path, pages := "/admin/api/users", 0
	for path != "" {
		var users []admin.UserView
		users, path = usersPage(t, p, path)
		pages++
		if path != "" && len(users) != admin.DefaultUsersLimit {
			t.Fatalf("page %d: %d users and a Link, want %d", pages, len(users), admin.DefaultUsersLimit)
		}
		if len(users) > 0 && len(users[0].Access) != 2 {
			t.Fatalf("page %d: %s has access on %d servers, want 2", pages, users[0].Username, len(users[0].Access))
		}
		all = append(all, names(users)...)
	}
	if pages != 3 || len(all) != 2500 {
		t.Fatalf("%d pages, %d users; want 3 pages (the last without Link), 2500 users", pages, len(all))
	}
	for i, n := range all {
		if n != fmt.Sprint("user", i) {
			t.Fatalf("user %d is %s: not the file's order, or one twice", i, n)
		}
	}

	if users, next := usersPage(t, p, "/admin/api/users?limit=7"); strings.Join(names(users), " ") != "user0 user1 user2 user3 user4 user5 user6" ||
		next != "/admin/api/users?after=user6&limit=7" {
		t.Errorf("limit=7: %v, next %q", names(users), next)
	}
	if users, next := usersPage(t, p, "/admin/api/users?limit=100000"); len(users) != admin.MaxUsersLimit || next == "" {
		t.Errorf("limit=100000: %d users, next %q; want the cap, %d, and a Link", len(users), next, admin.MaxUsersLimit)
	}
	if users, next := usersPage(t, p, "/admin/api/users?after=user2497&limit=5"); strings.Join(names(users), " ") != "user2498 user2499" || next != "" {
		t.Errorf("the last page: %v, next %q; want user2498 user2499 and no Link", names(users), next)
	}
	if users, next := usersPage(t, p, "/admin/api/users?after=user2499"); len(users) != 0 || next != "" {
		t.Errorf("after the last user: %v, next %q; want [] and no Link", names(users), next)
	}
	// One user by name, or none.
	if users, next := usersPage(t, p, "/admin/api/users?user=user1234"); strings.Join(names(users), " ") != "user1234" || next != "" || len(users[0].Access) != 2 {
		t.Errorf("user=user1234: %+v, next %q", users, next)
	}
	// With after too, the user is still the one named (docs/http.md: that
	// user alone), not [] because the user is before after in the file.
	for _, q := range []string{"after=user2000&user=user1234", "after=user1234&user=user1234", "after=user5&user=user1234"} {
		if users, next := usersPage(t, p, "/admin/api/users?"+q); strings.Join(names(users), " ") != "user1234" || next != "" {
			t.Errorf("%s: %v, next %q; want user1234 alone", q, names(users), next)
		}
	}
	if users, next := usersPage(t, p, "/admin/api/users?user=nobody"); users == nil || len(users) != 0 || next != "" {
		t.Errorf("user=nobody: %v, next %q; want [] and no Link", users, next)
	}
	for _, q := range []string{"limit=-1", "limit=ten", "after=nobody", "after=" + url.QueryEscape(strings.Repeat("x", 5000))} {
		resp, body := p.send(t, http.MethodGet, "/admin/api/users?"+q, "user0", nil)
		e := decode[map[string]any](t, body)
		if resp.StatusCode != http.StatusBadRequest || e["error"] != "invalid_request" || len(body) > 1000 {
			t.Errorf("%s: %d %.300s; want 400 invalid_request, short", q, resp.StatusCode, body)
		}
	}
}

// TestUsersAPI_PagingIsStableUnderChanges: a user removed from a page
// already read, or added, moves no user of the next page to one already
// read or skipped.
func TestUsersAPI_PagingIsStableUnderChanges(t *testing.T) {
	p, _ := companyFile(t, policytest.Size{Users: 30, Groups: 5, Servers: 1, Clients: 5})
	users, next := usersPage(t, p, "/admin/api/users?limit=10")
	if len(users) != 10 || next == "" {
		t.Fatalf("first page: %v, next %q", names(users), next)
	}
	if resp, body := p.send(t, http.MethodDelete, "/admin/api/users/user3", "user0", nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d %s", resp.StatusCode, body)
	}
	if resp, body := p.send(t, http.MethodPut, "/admin/api/users/zed", "user0", map[string]any{"username": "zed", "password": "zed-pw"}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("put: %d %s", resp.StatusCode, body)
	}
	users, _ = usersPage(t, p, next)
	if len(users) != 10 || users[0].Username != "user10" || users[9].Username != "user19" {
		t.Errorf("second page after the changes: %v; want user10 to user19", names(users))
	}
	// The boundary user removed: the next page cannot say where it was.
	if resp, body := p.send(t, http.MethodDelete, "/admin/api/users/user19", "user0", nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d %s", resp.StatusCode, body)
	}
	resp, body := p.send(t, http.MethodGet, "/admin/api/users?after=user19&limit=10", "user0", nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"invalid_request"`) || !strings.Contains(string(body), "start again") {
		t.Errorf("after a removed user: %d %s", resp.StatusCode, body)
	}
}

// TestUsersAPI_SmallFileHasNoLink: a file with fewer users than a page is
// answered whole, as before paging.
func TestUsersAPI_SmallFileHasNoLink(t *testing.T) {
	p := editable(t)
	resp, body := p.send(t, http.MethodGet, "/admin/api/users", "alice", nil)
	if users := decode[[]admin.UserView](t, body); resp.StatusCode != http.StatusOK || len(users) != 2 || resp.Header.Get("Link") != "" {
		t.Errorf("%d, %d users, Link %q; want 200, both users, no Link", resp.StatusCode, len(users), resp.Header.Get("Link"))
	}
}

// TestUsersAPI_DefaultPageBoundedByDecisions: the default page holds at
// most DefaultUsersDecisions decisions (each user costs one per server and
// client the server lists): 300 users on 40 servers of 5 clients (200 a
// user) come 250 a page, not in one answer; a limit asked for is granted,
// up to 1000.
func TestUsersAPI_DefaultPageBoundedByDecisions(t *testing.T) {
	p, _ := companyFile(t, policytest.Size{Users: 300, Groups: 10, Servers: 40, Clients: 10})
	perPage := admin.DefaultUsersDecisions / (40 * 5)
	users, next := usersPage(t, p, "/admin/api/users")
	if len(users) != perPage || next == "" || !strings.Contains(next, fmt.Sprintf("limit=%d", perPage)) {
		t.Fatalf("default page: %d users, next %q; want %d and a Link with limit=%d", len(users), next, perPage, perPage)
	}
	if got := len(users[0].Access) * len(users[0].Access[0].ByClient); got != 200 {
		t.Fatalf("%d decisions a user, want 200 (the test's premise)", got)
	}
	rest, next := usersPage(t, p, next)
	if len(rest) != 300-perPage || next != "" || rest[0].Username != "user"+fmt.Sprint(perPage) {
		t.Errorf("second page: %d users from %v, next %q", len(rest), names(rest[:1]), next)
	}
	if all, next := usersPage(t, p, "/admin/api/users?limit=1000"); len(all) != 300 || next != "" {
		t.Errorf("limit=1000: %d users, next %q; want all 300", len(all), next)
	}
}
