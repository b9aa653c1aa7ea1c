package idp_test

import (
	"net/http"
	"testing"
	"time"
)

// TestStepUp_LoggingInAgainAsksForThePassword: after a step-up refusal
// (insufficient_user_authentication: "log in again and retry"), a client
// that logs the user in again without prompt=login or max_age, as the Go
// SDK's extauth.PerformOIDCLogin does (it can send neither), got the
// browser's SSO session back at once, with the same too-old auth_time,
// and the retry was refused again, for as long as the session lived. The
// next sign-in of that user at that client now asks for the password.
func TestStepUp_LoggingInAgainAsksForThePassword(t *testing.T) {
	p := startConformanceIdP(t)
	p.Clock().Freeze()
	p.Clock().Set(time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC))
	br := newBrowser(p)
	tokens := br.codeTokens(t)
	p.Clock().Advance(6 * time.Minute) // the vault's max_auth_age is 5m
	exchange := func(idToken string) (int, map[string]any) {
		form := b(idToken, set("audience", "https://as.vault.example"), set("resource", "https://mcp.vault.example/mcp"), set("scope", "vault.read"))
		resp, body := p.postToken(t, form, basic("mcp-client", "s1"))
		return resp.StatusCode, body
	}
	if code, body := exchange(tokens["id_token"].(string)); code != http.StatusBadRequest || body["error"] != "insufficient_user_authentication" {
		t.Fatalf("the 6-minute-old login: %d %v; want 400 insufficient_user_authentication", code, body)
	}

	verifier, challenge := pkce()
	res := br.authorize(t, authParams(callback, challenge), "alice", "alice-pw")
	if !res.loginShown {
		t.Errorf("logging in again after the step-up refusal reused the SSO session's login of 6 minutes ago without asking for the password")
	}
	if res.location == nil || res.location.Query().Get("code") == "" {
		t.Fatalf("no code: %+v", res)
	}
	again := br.redeem(t, res.location.Query().Get("code"), verifier, http.StatusOK)
	if code, body := exchange(again["id_token"].(string)); code != http.StatusOK {
		t.Errorf("the retry after logging in again: %d %v; want 200", code, body)
	}

	// The new login meets the rule: the session is reused again.
	_, challenge = pkce()
	if res := br.authorize(t, authParams(callback, challenge), "alice", "alice-pw"); res.loginShown {
		t.Errorf("a sign-in after the new login asked for the password again")
	}
}
