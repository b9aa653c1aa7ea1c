package idp_test

import (
	"encoding/json"
	"net/http"
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

// TestSingleUseSubject_OneUserCannotFillTheMemory: with
// exchange.single_use_subject, each ID token exchanged is remembered until
// it expires. One user exchanging fresh ID tokens again and again (a
// script: each prompt=none sign-in gives one) cannot fill that memory,
// which every user's exchange needs: once it is half full, that user
// holding 1% of it (at least 10) is refused with 503 and Retry-After,
// while another user's exchange still passes.
func TestSingleUseSubject_OneUserCannotFillTheMemory(t *testing.T) {
	defer idp.SetMaxUsedSubjects(100)()
	cfg := conformanceConfig(t)
	cfg.Exchange.SingleUseSubject = true
	p := startIdP(t, cfg)
	alice := newBrowser(p)
	exchanged := exchangesUntilRefused(t, func() (*http.Response, map[string]any) {
		return p.postToken(t, exchangeForm(alice.codeTokens(t)["id_token"].(string)), basicS1)
	})
	if exchanged != 50 {
		t.Errorf("alice was refused after %d exchanges, want 50 (half the memory)", exchanged)
	}
	bob := newBrowser(p).codeTokensAs(t, "bob", "bob-pw")["id_token"].(string)
	if resp, body := p.postToken(t, exchangeForm(bob), basicS1); resp.StatusCode != 200 {
		t.Errorf("bob's exchange after alice's: %d %v, want 200", resp.StatusCode, body)
	}
}

// exchangesUntilRefused calls exchange, alice's, up to 100 times until it
// is refused, which must be 503 temporarily_unavailable with Retry-After,
// and returns how many exchanges passed first.
func exchangesUntilRefused(t *testing.T, exchange func() (*http.Response, map[string]any)) int {
	t.Helper()
	exchanged := 0
	for ; exchanged < 100; exchanged++ {
		resp, body := exchange()
		if resp.StatusCode == 200 {
			continue
		}
		if resp.StatusCode != 503 || body["error"] != "temporarily_unavailable" || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("alice's exchange %d: %d %v (Retry-After %q), want 503 temporarily_unavailable with Retry-After", exchanged+1, resp.StatusCode, body, resp.Header.Get("Retry-After"))
		}
		break
	}
	return exchanged
}

// TestDPoP_OneUserCannotFillTheProofMemory: each DPoP proof the token
// exchange accepts is remembered for about two minutes. One user
// exchanging again and again, each time with a new proof, cannot fill
// that memory, which every DPoP exchange needs: once it is half full, that
// user holding 1% of it (at least 10) is refused with 503 and Retry-After,
// while another user's exchange with a proof still passes.
func TestDPoP_OneUserCannotFillTheProofMemory(t *testing.T) {
	defer idp.SetMaxUsedProofs(100)()
	p := startConformanceIdP(t)
	key := newP256(t)
	withProof := func() http.Header { return withDPoP(basicS1, mintProof(t, p.URL+"/oauth/token", proof{key: key})) }
	alice := newBrowser(p).codeTokens(t)["id_token"].(string)
	exchanged := exchangesUntilRefused(t, func() (*http.Response, map[string]any) {
		return p.postToken(t, exchangeForm(alice), withProof())
	})
	if exchanged != 50 {
		t.Errorf("alice was refused after %d exchanges, want 50 (half the memory)", exchanged)
	}
	bob := newBrowser(p).codeTokensAs(t, "bob", "bob-pw")["id_token"].(string)
	if resp, body := p.postToken(t, exchangeForm(bob), withProof()); resp.StatusCode != 200 {
		t.Errorf("bob's exchange after alice's: %d %v, want 200", resp.StatusCode, body)
	}
}

// TestCIMD_OneAddressCannotFillTheAssertionMemory: anyone who hosts a
// metadata document with keys can mint client assertions, each
// remembered until it expires (up to an hour). One client address posting
// them cannot fill that memory, which every metadata-document client's
// private_key_jwt needs: once it is half full, an address holding 1% of it
// (at least 10) gets 503 with Retry-After, and that address alone.
func TestCIMD_OneAddressCannotFillTheAssertionMemory(t *testing.T) {
	defer idp.SetMaxCIMDAssertions(100)()
	f := startCIMD(t)
	post := func(hc *http.Client) (*http.Response, map[string]any) {
		form := assertionForm(f.docs.assertion(t, f.inline, f.URL+"/oauth/token"))
		form.Set("grant_type", "refresh_token")
		form.Set("refresh_token", "not-a-refresh-token")
		resp, err := hc.PostForm(f.URL+"/oauth/token", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp, body
	}
	attacker := fromAddress(f.testIdP, "127.0.0.1").hc
	sent := 0
	for ; sent < 100; sent++ {
		resp, body := post(attacker)
		if resp.StatusCode == http.StatusBadRequest && body["error"] == "invalid_grant" {
			continue // authenticated, and the jti recorded
		}
		if resp.StatusCode != http.StatusServiceUnavailable || body["error"] != "temporarily_unavailable" || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("assertion %d: %d %v (Retry-After %q), want 503 temporarily_unavailable with Retry-After", sent+1, resp.StatusCode, body, resp.Header.Get("Retry-After"))
		}
		break
	}
	if sent != 50 {
		t.Errorf("the address was refused after %d assertions, want 50 (half the memory)", sent)
	}
	if resp, body := post(fromAddress(f.testIdP, "127.0.0.2").hc); resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("an assertion from another address: %d %v, want the client authenticated (400 invalid_grant for the refresh token)", resp.StatusCode, body)
	}
}

// TestRefreshReuse_OneUserCannotEraseOthersDetection: a refresh token
// rotated away is remembered until it would have expired, so that one
// presented again (leaked) revokes its grant. One user rotating their own
// refresh token again and again cannot push another user's rotated tokens
// out of that memory: bob's old refresh token, presented after alice's
// 300 rotations, still revokes his grant, and the memory stays within its
// bound.
func TestRefreshReuse_OneUserCannotEraseOthersDetection(t *testing.T) {
	defer idp.SetMaxIssuedTokens(200)()
	p := startConformanceIdP(t)
	refresh := func(rt string) (int, map[string]any) {
		resp, body := p.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basicS1)
		return resp.StatusCode, body
	}
	bobOld := newBrowser(p).codeTokensAs(t, "bob", "bob-pw")["refresh_token"].(string)
	status, body := refresh(bobOld)
	if status != 200 {
		t.Fatalf("bob's refresh: %d %v", status, body)
	}
	bobNew := body["refresh_token"].(string)
	rt := newBrowser(p).codeTokens(t)["refresh_token"].(string)
	for i := range 300 {
		status, body := refresh(rt)
		if status != 200 {
			t.Fatalf("alice's refresh %d: %d %v", i+1, status, body)
		}
		rt = body["refresh_token"].(string)
	}
	if n := scrape(t, p.URL)[`xaa_idp_store_entries{store="rotated_refresh_tokens"}`]; n > 200 {
		t.Errorf("%v rotated refresh tokens remembered, over the bound of 200", n)
	}
	if status, body := refresh(bobOld); status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("bob's rotated refresh token presented again: %d %v, want 400 invalid_grant", status, body)
	}
	if status, body := refresh(bobNew); status != 400 {
		t.Errorf("bob's current refresh token after his old one was reused: %d %v, want it revoked with its grant (400)", status, body)
	}
}
