package idp_test

import (
	"net/http"
	"testing"
)

// An id_token_hint names the user the client expects (OpenID Connect Core
// section 3.1.2.1): with another user signed in, prompt=none SHOULD get an
// error such as login_required, and a sign-in without prompt asks for the
// password rather than completing with the session's user. The hint was
// verified and then ignored: the client asking for bob silently got a code
// for alice, who was signed in.
func TestAuthorize_IDTokenHintOfAnotherUserIsNotTheSession(t *testing.T) {
	p := startConformanceIdP(t)
	const callback = "http://127.0.0.1/callback"
	_, challenge := pkce()
	bobHint := p.login(t, "mcp-client", "s1", "bob", "bob-pw").IDToken()
	alice := newBrowser(p)
	if res := alice.authorize(t, authParams(callback, challenge), "alice", "alice-pw"); res.location == nil || res.location.Query().Get("code") == "" {
		t.Fatalf("alice's sign-in: %d %v", res.status, res.location)
	}
	aliceHint := p.login(t, "mcp-client", "s1", "alice", "alice-pw").IDToken()

	params := authParams(callback, challenge)
	params.Set("prompt", "none")
	params.Set("id_token_hint", bobHint)
	res := alice.authorize(t, params, "", "")
	if res.location == nil || res.location.Query().Get("error") != "login_required" || res.location.Query().Get("state") != params.Get("state") {
		t.Errorf("prompt=none with bob's hint in alice's browser: %d %v; want error=login_required and the state", res.status, res.location)
	}

	params.Del("prompt")
	res = alice.authorize(t, params, "", "")
	if !res.loginShown || res.location != nil {
		t.Errorf("bob's hint in alice's browser: %d %v, login shown %v; want the login form", res.status, res.location, res.loginShown)
	}
	// Bob signs in on that form: the client gets bob.
	res = alice.authorize(t, params, "bob", "bob-pw")
	if res.location == nil || res.location.Query().Get("code") == "" {
		t.Fatalf("bob's sign-in with his hint: %d %v", res.status, res.location)
	}

	// The session's own user in the hint: completed from the session.
	params.Set("prompt", "none")
	params.Set("id_token_hint", aliceHint)
	bob := alice // now signed in as bob
	if res := bob.authorize(t, params, "", ""); res.location == nil || res.location.Query().Get("error") != "login_required" {
		t.Errorf("prompt=none with alice's hint in bob's browser: %d %v; want error=login_required", res.status, res.location)
	}
	params.Set("id_token_hint", bobHint)
	if res := bob.authorize(t, params, "", ""); res.location == nil || res.location.Query().Get("code") == "" {
		t.Errorf("prompt=none with bob's own hint in bob's browser: %d %v; want a code", res.status, res.location)
	}
	if res.status == http.StatusInternalServerError {
		t.Fatal("500")
	}
}

// The login form shown for a hint of bob completes for bob only: alice
// signing in on it (her own browser, or the session's user typing her
// password) was given to the client that asked for bob, which OpenID
// Connect Core section 3.1.2.1 answers with an error ("otherwise, it
// SHOULD return an error"). The page refuses, and alice's new session is
// not made (she did not mean to sign in here as herself).
func TestAuthorize_IDTokenHintLoginAsAnotherUserIsRefused(t *testing.T) {
	p := startConformanceIdP(t)
	const callback = "http://127.0.0.1/callback"
	_, challenge := pkce()
	bobHint := p.login(t, "mcp-client", "s1", "bob", "bob-pw").IDToken()

	params := authParams(callback, challenge)
	params.Set("id_token_hint", bobHint)
	br := newBrowser(p)
	res := br.authorize(t, params, "alice", "alice-pw")
	if res.location != nil {
		t.Fatalf("alice signed in on the form of bob's hint: redirected to %v; want the form again", res.location)
	}
	if res.status != http.StatusConflict {
		t.Errorf("alice signed in on the form of bob's hint: %d, want 409", res.status)
	}
	// No session of alice was made: an authorization without the hint
	// shows the login form.
	if res := br.authorize(t, authParams(callback, challenge), "", ""); !res.loginShown {
		t.Errorf("after the refused sign-in: %d %v; want the login form (no session)", res.status, res.location)
	}
	// bob on the same form gets his code.
	if res := br.authorize(t, params, "bob", "bob-pw"); res.location == nil || res.location.Query().Get("code") == "" {
		t.Errorf("bob's sign-in with his hint: %d %v", res.status, res.location)
	}
}
