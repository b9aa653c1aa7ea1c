package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestConsole_SignInInTheFirstOfTwoTabs: signed out, alice opens two
// console pages (two bookmarks, a browser restoring its tabs): each is
// sent to the login page, and the session keeps the sign-in started
// last. She signs in in the first tab. She lands on that tab's page, the
// audit log with its filters: the callback of the sign-in the session no
// longer holds answered 400 "This sign-in cannot be completed", and its
// button led to the overview. Signing in in the second tab then leads to
// its page, not the overview.
func TestConsole_SignInInTheFirstOfTwoTabs(t *testing.T) {
	p := start(t)
	b := p.browser(t)
	_, first := b.get("/admin/audit?type=login&outcome=denied")
	m := authRequestID.FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("the first tab is not at the login page:\n%s", first)
	}
	_, second := b.get("/admin/users?user=bob")
	m2 := authRequestID.FindStringSubmatch(second)
	if m2 == nil {
		t.Fatalf("the second tab is not at the login page:\n%s", second)
	}
	resp, body := b.post("/login", url.Values{"authRequestID": {m[1]}, "username": {"alice"}, "password": {"alice"}})
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/admin/audit" || resp.Request.URL.RawQuery != "type=login&outcome=denied" {
		t.Fatalf("signed in in the first tab: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	// Then in the second tab, whose login page was still open: its page
	// too, not the overview.
	resp, body = b.post("/login", url.Values{"authRequestID": {m2[1]}, "username": {"alice"}, "password": {"alice"}})
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/admin/users" || resp.Request.URL.RawQuery != "user=bob" {
		t.Fatalf("signed in in the second tab: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}

	// A callback whose state is not the console's at all is still
	// refused, as is one that comes back from the sign-in started again.
	for _, state := range []string{"y", "x.L2FkbWluL3VzZXJz.again"} {
		nb := p.browser(t)
		resp, body = nb.get("/admin/callback?code=x&state=" + url.QueryEscape(state))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "cannot be completed") {
			t.Errorf("callback with state %q: %d at %s\n%s", state, resp.StatusCode, resp.Request.URL, body)
		}
	}
}
