package web_test

import (
	"net/http"
	"net/url"
	"path"
	"strings"
	"testing"
)

// TestTenants_SignInNextStaysInTheTenantsConsole: the page a sign-in
// returns to (next=) is a path of the tenant's own console. The console
// puts its tenant's path before it, but a browser resolves dot segments
// after that: next=/admin/../../../t/okta/admin/ led acme's admin, once
// signed in, to okta's console on the same origin, and so did the
// percent-encoded dots a browser resolves as well. Dot segments are
// resolved first, and a path that leaves the console is the start page.
func TestTenants_SignInNextStaysInTheTenantsConsole(t *testing.T) {
	tenants := startTenants(t)
	acme := tenants["acme"]
	prefix := acme.IdP.Path() + "/admin/"
	cases := []struct{ next, want string }{
		{"/admin/../../../t/okta/admin/", prefix},
		{"/admin/../../../t/okta/admin/servers", prefix},
		{"/admin/%2e%2e/%2E%2E/%2e%2e/t/okta/admin/", prefix},
		{"/admin/servers/./.%2e/..%2E/../../t/okta/admin/users?x=1", prefix},
		{"/admin/..", prefix},
		{"/admin/./../admin/signin?prompt=login", prefix},
		{"/admin/servers/../users", prefix + "users"},
		{"/admin/./servers/notes?tab=access", prefix + "servers/notes?tab=access"},
	}
	b := signedInAt(t, acme, "alice").noRedirects()
	for _, c := range cases {
		resp, _ := b.get("/admin/signin?next=" + url.QueryEscape(c.next))
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != c.want {
			t.Errorf("signed in, next=%s: %d Location %q, want %q", c.next, resp.StatusCode, loc, c.want)
		}
	}

	// The sign-in itself returns there as well.
	nb := acme.browser(t)
	_, page := nb.get("/admin/signin?next=" + url.QueryEscape("/admin/../../../t/okta/admin/users"))
	m := authRequestID.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the login page has no authRequestID:\n%s", page)
	}
	resp, _ := nb.post("/login", url.Values{"authRequestID": {m[1]}, "username": {"alice"}, "password": {"alice"}})
	if p := resp.Request.URL.Path; !strings.HasPrefix(path.Clean(p)+"/", prefix) {
		t.Errorf("the sign-in with next= leading to okta's console ended at %s, want acme's console (%s)", resp.Request.URL, prefix)
	}
}

// TestConsole_DecisionReturnsOnlyToAConsolePage: an access request's
// decision returns to its form's back=, a server's page or the overview,
// with dot segments resolved first: /admin/servers/../../../t/okta/admin/
// passed as a server's page, and the redirect, resolved, left the console
// (with tenants, for another tenant's).
func TestConsole_DecisionReturnsOnlyToAConsolePage(t *testing.T) {
	p, b := signedIn(t)
	for _, back := range []string{"/admin/servers/../../../t/okta/admin/", "/admin/servers/%2e%2e/%2e%2e/t/okta/admin/"} {
		id := requestAccess(t, p)
		_, page := b.get("/admin/")
		resp, _ := b.noRedirects().post("/admin/access-requests/"+id+"/deny", url.Values{"csrf": {csrf(t, page)}, "back": {back}})
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/admin/" {
			t.Errorf("a decision with back=%s: %d Location %q, want the overview, /admin/", back, resp.StatusCode, loc)
		}
	}
}
