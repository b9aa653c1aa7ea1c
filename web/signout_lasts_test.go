package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestConsole_SigningOutOfTheIdPEndsTheConsoleSessionForGood: the
// console's session ended with the IdP's single sign-on stays ended. The
// IdP remembers an ended session only as long as an ID token of it may
// live (an hour by default), while the console's sign-in lasts 8 hours:
// the console looked the end up there on each page, so that an hour
// after an admin signed out at /apps, the console took the cookie again,
// signed in as that admin.
func TestConsole_SigningOutOfTheIdPEndsTheConsoleSessionForGood(t *testing.T) {
	p := start(t)
	b := p.browser(t)
	if resp, _ := b.signIn("alice", "alice"); resp.Request.URL.Path != "/admin/" {
		t.Fatalf("sign-in led to %s", resp.Request.URL)
	}
	_, apps := b.get("/apps")
	m := appsSignOutCSRF.FindStringSubmatch(apps)
	if m == nil {
		t.Fatalf("/apps has no sign-out form:\n%s", apps)
	}
	req, _ := http.NewRequest(http.MethodPost, p.URL+"/end_session", strings.NewReader(url.Values{"csrf": {m[1]}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", p.URL)
	if resp, body := b.do(req); resp.Request.URL.Path != "/logged-out" {
		t.Fatalf("signing out at /apps led to %s: %d\n%s", resp.Request.URL, resp.StatusCode, body)
	}
	// Past the longest an ID token of the ended session may live: the
	// IdP forgets the end (the console's session, on the wall clock,
	// would still have hours to run).
	p.IdP.Clock().Advance(2 * time.Hour)
	if resp, _ := b.get("/admin/"); resp.Request.URL.Path != "/login" {
		t.Errorf("two hours after signing out of the IdP, /admin/ is %s (%d), want the login page", resp.Request.URL, resp.StatusCode)
	}
}
