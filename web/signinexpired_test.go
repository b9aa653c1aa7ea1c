package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// hiddenInput is a hidden field of a form, its name and value.
var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// TestSignIn_ExpiredConsoleSignInLeadsBackToTheConsole: the console's
// sign-in page left open over 10 minutes (the IdP's sign-in request
// expires) and then submitted, or reloaded, says the request expired and
// links to the console to start again, at the tenant's console. Before,
// it said "Start again from your application", with no link, and the
// application was the console.
func TestSignIn_ExpiredConsoleSignInLeadsBackToTheConsole(t *testing.T) {
	acme := startTenants(t)["acme"]
	b := acme.browser(t)
	resp, form := consoleSignInForm(t, b)
	loginPage := resp.Request.URL.String()
	acme.IdP.Clock().Advance(11 * time.Minute)

	startAgain := regexp.MustCompile(`<a [^>]*href="([^"]+)"[^>]*>`)
	for _, c := range []struct {
		what string
		send func() (*http.Response, string)
	}{
		{"submitted", func() (*http.Response, string) {
			return b.post(strings.TrimPrefix(resp.Request.URL.Path, "/t/acme"), form)
		}},
		{"reloaded", func() (*http.Response, string) {
			req, _ := http.NewRequest(http.MethodGet, loginPage, nil)
			return b.do(req)
		}},
	} {
		got, body := c.send()
		if got.StatusCode != http.StatusBadRequest || !strings.Contains(body, "unknown or has expired") {
			t.Fatalf("%s after 11 minutes: %d\n%s", c.what, got.StatusCode, body)
		}
		m := startAgain.FindStringSubmatch(body)
		if m == nil || html.UnescapeString(m[1]) != acme.URL+"/admin/" {
			t.Errorf("%s after 11 minutes: the page links to %v, want %s/admin/\n%s", c.what, m, acme.URL, body)
		}
	}
	// The link starts a new sign-in, which completes.
	resp, page := b.get("/admin/")
	m := authRequestID.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the console again: %s\n%s", resp.Request.URL, page)
	}
	if resp, page = b.post(strings.TrimPrefix(resp.Request.URL.Path, "/t/acme"), url.Values{"authRequestID": {m[1]}, "username": {"alice"}, "password": {"alice"}}); resp.Request.URL.Path != "/t/acme/admin/" {
		t.Errorf("signing in again ends at %s (%d)\n%s", resp.Request.URL, resp.StatusCode, page)
	}
}
