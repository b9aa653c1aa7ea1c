package web_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestSignIn_SignedInAdminKeepsTheSession: opening /admin/signin while
// signed in (a bookmark, another tab, or a link on another site, which
// SameSite=Lax lets carry the cookie) leads to the page asked for with
// the session as it is. It used to sign in again through the single
// sign-on, which ended the session and its CSRF token: every console page
// open in the browser lost its form, typed rows included ("opened in an
// earlier session"). ?prompt=login still signs in anew (to switch users).
func TestSignIn_SignedInAdminKeepsTheSession(t *testing.T) {
	p, b := signedIn(t)
	_, token, etag := openServer(t, b, "tracker")
	resp, _ := b.get("/admin/signin?next=/admin/users")
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/admin/users" {
		t.Fatalf("/admin/signin while signed in led to %s (%d), want /admin/users", resp.Request.URL, resp.StatusCode)
	}
	before := p.Store.Version()
	resp, page := b.post("/admin/servers/tracker/access", assignSales(token, etag))
	if resp.StatusCode != http.StatusOK || p.Store.Version() == before {
		t.Fatalf("the form opened before was refused after /admin/signin: %d\n%s", resp.StatusCode, page)
	}
	resp, _ = b.noRedirects().get("/admin/signin?prompt=login")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "/authorize") {
		t.Errorf("/admin/signin?prompt=login while signed in: %d to %q, want the IdP's authorization endpoint", resp.StatusCode, loc)
	}
}
