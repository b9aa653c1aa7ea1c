package web_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/policy"
)

// TestConsole_SignOutEndsTheIdPSessionWithoutAQuestion: the console's
// "Sign out" sends its ID token to end_session as id_token_hint, so that
// the IdP, which asks every browser without one (RP-Initiated Logout 1.0
// section 2), ends the single sign-on at once: one click.
func TestConsole_SignOutEndsTheIdPSessionWithoutAQuestion(t *testing.T) {
	p := start(t)
	b := p.browser(t)
	_, page := b.signIn("alice", "alice")
	resp, body := b.post("/admin/signout", url.Values{"csrf": {csrf(t, page)}})
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/admin/signed-out" {
		t.Fatalf("sign-out: %d at %s, want /admin/signed-out at once\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	if resp, _ = b.get("/admin/"); resp.Request.URL.Path != "/login" {
		t.Errorf("after sign-out /admin/ leads to %s, want the login page", resp.Request.URL)
	}
}

// TestConsole_AnIDTokenTooLongForTheCookieStillSignsIn: an admin whose
// claims make the ID token too long for the console's cookie (4096 bytes)
// signs in all the same; the sign-out, without the hint, then has the IdP
// ask once more, and "Sign out" there ends the single sign-on.
func TestConsole_AnIDTokenTooLongForTheCookieStillSignsIn(t *testing.T) {
	data, err := os.ReadFile("testdata/console.yaml")
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Replace(string(data), "    name: Alice Anderson\n", "    name: Alice Anderson\n    claims: {bio: "+strings.Repeat("x", 3000)+"}\n", 1)
	store, err := policy.NewStore([]byte(big), "testdata/console.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := serve(t, store)
	b := p.browser(t)
	resp, page := b.signIn("alice", "alice")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Sign out") {
		t.Fatalf("sign-in with a 3000-byte claim: %d at %s\n%s", resp.StatusCode, resp.Request.URL, page)
	}
	resp, body := b.post("/admin/signout", url.Values{"csrf": {csrf(t, page)}})
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/end_session" || !strings.Contains(body, `<strong id="user">alice</strong>`) {
		t.Fatalf("sign-out: %d at %s, want the IdP's question\n%s", resp.StatusCode, resp.Request.URL, body)
	}
}

var appsSignOutCSRF = regexp.MustCompile(`class="signout"><input type="hidden" name="csrf" value="([^"]+)"`)

// TestConsole_SigningOutOfTheIdPEndsTheConsoleSession: the console's
// session is a login of the IdP's single sign-on, and ends with it, as
// every token of that login does: an admin who signs out at /apps ("You
// are signed out of xaa-idp"), or whom an application signs out, is
// signed out of the console in that browser too. The console stayed
// signed in, on a shared machine for the next person at it.
func TestConsole_SigningOutOfTheIdPEndsTheConsoleSession(t *testing.T) {
	p := start(t)
	b := p.browser(t)
	if resp, _ := b.signIn("alice", "alice"); resp.Request.URL.Path != "/admin/" {
		t.Fatalf("sign-in led to %s", resp.Request.URL)
	}
	// A live tail open in another tab ends too.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/admin/audit/stream?user=bob", nil)
	tail, err := b.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer tail.Body.Close()
	r := bufio.NewReader(tail.Body)
	if _, err := r.ReadString('\n'); err != nil { // retry:
		t.Fatal(err)
	}
	_, apps := b.get("/apps")
	m := appsSignOutCSRF.FindStringSubmatch(apps)
	if m == nil {
		t.Fatalf("/apps has no sign-out form:\n%s", apps)
	}
	req, _ = http.NewRequest(http.MethodPost, p.URL+"/end_session", strings.NewReader(url.Values{"csrf": {m[1]}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", p.URL)
	if resp, body := b.do(req); resp.Request.URL.Path != "/logged-out" {
		t.Fatalf("signing out at /apps led to %s: %d\n%s", resp.Request.URL, resp.StatusCode, body)
	}
	if resp, _ := b.get("/admin/"); resp.Request.URL.Path != "/login" {
		t.Errorf("after signing out of the IdP, /admin/ is %s (%d), want the login page", resp.Request.URL, resp.StatusCode)
	}
	p.IdP.Audit().Append(audit.Event{Type: audit.TypeLogin, Outcome: audit.Denied, User: "bob", Reason: "after sign-out"})
	rest, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("the live tail did not end after signing out of the IdP: %v after %q", err, rest)
	}
	if strings.Contains(string(rest), "after sign-out") {
		t.Errorf("the live tail streamed an event after signing out of the IdP:\n%s", rest)
	}
}
