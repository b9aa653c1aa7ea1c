package idp_test

import (
	"net/url"
	"testing"

	"github.com/xaa-idp/xaa-idp/idp"
)

// TestSessions_OneUserCannotEndOthers: one user signing in again and
// again (a script with the demo's alice/alice) fills the SSO sessions'
// bound with their own sessions. Once the store is half full, that user's
// oldest session makes room for their next, not another user's: bob,
// signed in first, keeps his single sign-on, and the store stays within
// its bound.
func TestSessions_OneUserCannotEndOthers(t *testing.T) {
	defer idp.SetMaxSessions(200)()
	p := startConformanceIdP(t)
	bob := newBrowser(p)
	_, challenge := pkce()
	if res := bob.authorize(t, authParams(callback, challenge), "bob", "bob-pw"); res.location == nil || res.location.Query().Get("code") == "" {
		t.Fatalf("bob's sign-in: %+v", res)
	}
	for i := range 300 {
		if res := newBrowser(p).authorize(t, authParams(callback, challenge), "alice", "alice-pw"); res.location == nil || res.location.Query().Get("code") == "" {
			t.Fatalf("alice's sign-in %d: %+v", i+1, res)
		}
	}
	if n := scrape(t, p.URL)[`xaa_idp_store_entries{store="sessions"}`]; n > 200 {
		t.Errorf("%v SSO sessions stored, over the bound of 200", n)
	}
	params := authParams(callback, challenge)
	params.Set("prompt", "none")
	if res := bob.authorize(t, params, "", ""); res.location == nil || res.location.Query().Get("code") == "" {
		t.Errorf("bob's prompt=none after alice's 300 sign-ins: %d Location %v, want a code (his session kept)", res.status, res.location)
	}
}

// TestTokens_OneUserCannotDropOthers: one user redeeming code after code
// through their SSO session (prompt=none, no password needed) fills the
// refresh tokens' bound with their own. Once the store is half full, that
// user's oldest token makes room for their next: bob's refresh token,
// issued first, still refreshes, and the stores stay within their bound.
func TestTokens_OneUserCannotDropOthers(t *testing.T) {
	defer idp.SetMaxIssuedTokens(200)()
	p := startConformanceIdP(t)
	bobRT := newBrowser(p).codeTokensAs(t, "bob", "bob-pw")["refresh_token"].(string)
	alice := newBrowser(p)
	alice.codeTokens(t)
	for range 300 {
		verifier, challenge := pkce()
		params := authParams(callback, challenge)
		params.Set("prompt", "none")
		res := alice.authorize(t, params, "", "")
		if res.location == nil || res.location.Query().Get("code") == "" {
			t.Fatalf("alice's prompt=none: %+v", res)
		}
		alice.redeem(t, res.location.Query().Get("code"), verifier, 200)
	}
	m := scrape(t, p.URL)
	for _, s := range []string{"access_tokens", "refresh_tokens"} {
		if n := m[`xaa_idp_store_entries{store="`+s+`"}`]; n > 200 {
			t.Errorf("%v entries in %s, over the bound of 200", n, s)
		}
	}
	resp, body := p.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {bobRT}}, basicS1)
	if resp.StatusCode != 200 {
		t.Errorf("bob's refresh after alice's 300 redemptions: %d %v, want 200 (his refresh token kept)", resp.StatusCode, body)
	}
}
