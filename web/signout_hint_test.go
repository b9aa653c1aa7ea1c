package web_test

import (
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

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
