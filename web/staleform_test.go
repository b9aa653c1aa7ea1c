package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var nextStep = regexp.MustCompile(`<a class="button" href="([^"]+)" id="next-step">([^<]+)</a>`)

// nextStepOf is the error page's button: where it leads and what it says.
func nextStepOf(t *testing.T, page string) (href, label string) {
	t.Helper()
	m := nextStep.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the error page has no next step:\n%s", page)
	}
	return strings.ReplaceAll(m[1], "&amp;", "&"), m[2]
}

// TestStaleForm_SignedOutInAnotherTab: a server's form is open when the
// admin signs out in another tab. Saving it is refused (401, nothing
// changed), and the page's "Sign in again" leads, after the sign-in, back
// to the server's page, not to the overview, to make the change again.
func TestStaleForm_SignedOutInAnotherTab(t *testing.T) {
	p, b := signedIn(t)
	_, token, etag := openServer(t, b, "tracker")
	before := p.Store.Version()
	if resp, _ := b.post("/admin/signout", url.Values{"csrf": {token}}); resp.Request.URL.Path != "/admin/signed-out" {
		t.Fatalf("sign-out ended at %s", resp.Request.URL)
	}
	resp, page := b.post("/admin/servers/tracker/access", assignSales(token, etag))
	if resp.StatusCode != http.StatusUnauthorized || p.Store.Version() != before {
		t.Fatalf("save after sign-out: %d, changed %v\n%s", resp.StatusCode, p.Store.Version() != before, page)
	}
	if !strings.Contains(page, "signed out") {
		t.Errorf("the page does not say the session may have been signed out:\n%s", page)
	}
	href, label := nextStepOf(t, page)
	if label != "Sign in again" || href != "/admin/signin?next="+url.QueryEscape("/admin/servers/tracker") {
		t.Fatalf("next step %q %q", label, href)
	}
	resp, page = b.get(href)
	m := authRequestID.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("%s led to %s, not the login page:\n%s", href, resp.Request.URL, page)
	}
	resp, page = b.post("/login", url.Values{"authRequestID": {m[1]}, "username": {"alice"}, "password": {"alice"}})
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/admin/servers/tracker" || !strings.Contains(page, `id="access-form"`) {
		t.Errorf("signing in again led to %s (%d), not the server's page", resp.Request.URL, resp.StatusCode)
	}
}

// TestStaleForm_SignedInAgainInAnotherTab: the form was opened in a session
// that has since been replaced (signed out and in again in another tab), so
// it carries an old CSRF token. The refusal's way on opens the server's
// page anew (with the new token): reloading the refusal would only post the
// old token again.
func TestStaleForm_SignedInAgainInAnotherTab(t *testing.T) {
	p, b := signedIn(t)
	_, oldToken, etag := openServer(t, b, "tracker")
	b.post("/admin/signout", url.Values{"csrf": {oldToken}})
	if resp, body := b.signIn("alice", "alice"); resp.StatusCode != http.StatusOK {
		t.Fatalf("signing in again: %d\n%s", resp.StatusCode, body)
	}
	before := p.Store.Version()
	resp, page := b.post("/admin/servers/tracker/access", assignSales(oldToken, etag))
	if resp.StatusCode != http.StatusForbidden || p.Store.Version() != before {
		t.Fatalf("save with the old session's token: %d, changed %v\n%s", resp.StatusCode, p.Store.Version() != before, page)
	}
	if strings.Contains(page, "Reload the page") {
		t.Errorf("the refusal advises a reload, which posts the old token again:\n%s", page)
	}
	href, _ := nextStepOf(t, page)
	if href != "/admin/servers/tracker" {
		t.Fatalf("next step %q, not the server's page", href)
	}
	_, token, etag := openServer(t, b, "tracker")
	if token == oldToken {
		t.Fatal("the new session has the old token")
	}
	if resp, body := b.post("/admin/servers/tracker/access", assignSales(token, etag)); !strings.Contains(body, "Assignments saved") {
		t.Errorf("the change made again: %d\n%s", resp.StatusCode, body)
	}
}

// TestStaleForm_ApprovalOnAChangedServer: bob's request is approved on the
// tracker's page after someone else changed the tracker. Nothing is
// approved (412), and the refusal leads back to the tracker's page, where
// the request is decided again, not to the overview.
func TestStaleForm_ApprovalOnAChangedServer(t *testing.T) {
	p, b := signedIn(t)
	id := requestAccess(t, p)
	_, token, etag := openServer(t, b, "tracker")
	if _, body := b.post("/admin/servers/tracker/access", assignSales(token, etag)); !strings.Contains(body, "Assignments saved") {
		t.Fatalf("the other change was not saved:\n%s", body)
	}
	resp, page := b.post("/admin/access-requests/"+id+"/approve", url.Values{
		"csrf": {token}, "etag": {etag}, "back": {"/admin/servers/tracker"}, "scopes": {"issues.read"}, "expires_in": {"1h"},
	})
	if resp.StatusCode != http.StatusPreconditionFailed {
		t.Fatalf("stale approval: %d\n%s", resp.StatusCode, page)
	}
	if href, _ := nextStepOf(t, page); href != "/admin/servers/tracker" {
		t.Errorf("next step %q, not the tracker's page", href)
	}
	if len(p.IdP.AccessRequests().List("pending")) != 1 {
		t.Error("the request was decided")
	}
}

// TestStaleForm_AFormsAddressOpened: a refused save leaves the form's
// address (POST /admin/servers/tracker/access) in the address bar; opened
// from there it is 405 with Allow: POST and leads to the server's page, not
// a 404 "no console page". Another method at a page is 405 too, with
// Allow, as at the IdP's pages.
func TestStaleForm_AFormsAddressOpened(t *testing.T) {
	_, b := signedIn(t)
	resp, page := b.get("/admin/servers/tracker/access")
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
		t.Fatalf("GET of the access form's address: %d, Allow %q\n%s", resp.StatusCode, resp.Header.Get("Allow"), page)
	}
	if href, _ := nextStepOf(t, page); href != "/admin/servers/tracker" {
		t.Errorf("next step %q, not the server's page", href)
	}
	if !strings.Contains(page, `href="/admin/servers"`) {
		t.Error("the page has no navigation bar for the signed-in admin")
	}
	for path, allow := range map[string]string{
		"/admin/access-requests/ar_x/approve": "POST", "/admin/signout": "POST",
	} {
		if resp, _ := b.get(path); resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != allow {
			t.Errorf("GET %s: %d, Allow %q", path, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
	for path, allow := range map[string]string{
		"/admin/": "GET, HEAD", "/admin/servers/tracker": "GET, HEAD", "/admin/audit": "GET, HEAD", "/admin/onboarding": "GET, HEAD, POST",
	} {
		req, _ := http.NewRequest(http.MethodDelete, b.base+path, nil)
		if resp, _ := b.do(req); resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != allow {
			t.Errorf("DELETE %s: %d, Allow %q", path, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
	if resp, _ := b.get("/admin/nothing-here"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET of no console page: %d", resp.StatusCode)
	}
}

// TestStaleForm_ServerRemovedWhileItsFormIsOpen: the server is removed (by
// another admin, or an edit of the file) while its page is open. Saving
// says that the server is gone and nothing was saved, and leads to the
// server list, rather than reporting a failed read the admin never made.
func TestStaleForm_ServerRemovedWhileItsFormIsOpen(t *testing.T) {
	p, b := signedIn(t)
	_, token, etag := openServer(t, b, "tracker")
	req, _ := http.NewRequest(http.MethodDelete, p.URL+"/admin/api/servers/tracker", nil)
	req.SetBasicAuth("alice", "alice")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode/100 != 2 {
		t.Fatalf("removing the tracker: %v %v", resp, err)
	}
	resp, page := b.post("/admin/servers/tracker/access", assignSales(token, etag))
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(page, "removed") || strings.Contains(page, "GET /admin/api") {
		t.Errorf("save of a removed server: %d\n%s", resp.StatusCode, page)
	}
	if href, _ := nextStepOf(t, page); href != "/admin/servers" {
		t.Errorf("next step %q, not the server list", href)
	}
	// The overview's link to a pending request's server, made before.
	resp, page = b.get("/admin/servers/tracker")
	if href, _ := nextStepOf(t, page); resp.StatusCode != http.StatusNotFound || href != "/admin/servers" || strings.Contains(page, "GET /admin/api") {
		t.Errorf("page of a removed server: %d, next step %q\n%s", resp.StatusCode, href, page)
	}
}

// TestStaleForm_TwoTabsSignInAtOnce: the session ended while two tabs were
// open, and each, reloaded, shows the login page. The session holds one
// sign-in in progress, the later one, so the tab that signs in second
// arrives with a state the session no longer has. The admin is signed in
// by then: that tab goes to the console, not to "This sign-in cannot be
// completed", and its code is never redeemed.
func TestStaleForm_TwoTabsSignInAtOnce(t *testing.T) {
	p := start(t)
	b := p.browser(t)
	_, first := b.get("/admin/servers")
	_, second := b.get("/admin/audit")
	idOf := func(page string) string {
		m := authRequestID.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("not the login page:\n%s", page)
		}
		return m[1]
	}
	firstID, secondID := idOf(first), idOf(second)
	resp, _ := b.post("/login", url.Values{"authRequestID": {secondID}, "username": {"alice"}, "password": {"alice"}})
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/admin/audit" {
		t.Fatalf("the second tab's sign-in led to %s (%d)", resp.Request.URL, resp.StatusCode)
	}
	resp, page := b.post("/login", url.Values{"authRequestID": {firstID}, "username": {"alice"}, "password": {"alice"}})
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Request.URL.Path, "/admin/") || !strings.Contains(page, `<nav aria-label="Console">`) {
		t.Errorf("the first tab's sign-in led to %s (%d):\n%s", resp.Request.URL, resp.StatusCode, page)
	}
}
