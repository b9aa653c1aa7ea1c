package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestSignIn_BackAfterConsoleSignInSaysItWasCompleted: Back from the
// console right after its sign-in shows the IdP's login page again, for a
// sign-in request that was completed and its code redeemed. The page says
// it was completed, not that it is unknown or has expired, and links back
// to the console. Before, it read "unknown or has expired", which sent
// people looking for a clock problem.
func TestSignIn_BackAfterConsoleSignInSaysItWasCompleted(t *testing.T) {
	acme := startTenants(t)["acme"]
	b := acme.browser(t)
	resp, form := consoleSignInForm(t, b)
	loginPage := resp.Request.URL.String()
	if resp, page := b.post(strings.TrimPrefix(resp.Request.URL.Path, "/t/acme"), form); resp.Request.URL.Path != "/t/acme/admin/" {
		t.Fatalf("signing in ends at %s (%d)\n%s", resp.Request.URL, resp.StatusCode, page)
	}
	req, _ := http.NewRequest(http.MethodGet, loginPage, nil)
	got, body := b.do(req)
	if got.StatusCode != http.StatusBadRequest || !strings.Contains(body, "This sign-in was already completed") || strings.Contains(body, "unknown or has expired") {
		t.Fatalf("the login page again after the sign-in: %d\n%s", got.StatusCode, body)
	}
	m := regexp.MustCompile(`<a [^>]*href="([^"]+)"[^>]*>`).FindStringSubmatch(body)
	if m == nil || html.UnescapeString(m[1]) != acme.URL+"/admin/" {
		t.Errorf("the page links to %v, want %s/admin/\n%s", m, acme.URL, body)
	}
}

// consoleSignInForm opens the console, which leads to the sign-in page, and
// returns that page's answer and its form filled in for alice.
func consoleSignInForm(t *testing.T, b *browser) (*http.Response, url.Values) {
	t.Helper()
	resp, page := b.get("/admin/")
	if !strings.HasSuffix(resp.Request.URL.Path, "/login") {
		t.Fatalf("opening the console led to %s", resp.Request.URL)
	}
	form := url.Values{"username": {"alice"}, "password": {"alice"}}
	for _, m := range hiddenInput.FindAllStringSubmatch(page, -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	return resp, form
}
