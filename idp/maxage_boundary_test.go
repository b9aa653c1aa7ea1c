package idp_test

import (
	"testing"
	"time"
)

// TestAuthorize_MaxAgeCountsFromTheAuthTimeTheTokensCarry: the ID token's
// auth_time is whole seconds, and what a client (OIDC Core 3.1.3.7, step
// 11) and the token exchange's max_auth_age check. A session that
// satisfied max_age only by the fraction of a second that auth_time drops
// was reused without a login, and the ID token it gave was older than
// max_age: at the step-up boundary the client asked for a new login and
// got the same too-old one back.
func TestAuthorize_MaxAgeCountsFromTheAuthTimeTheTokensCarry(t *testing.T) {
	p := startConformanceIdP(t)
	p.Clock().Freeze()
	login := time.Date(2030, 1, 1, 12, 0, 0, 900_000_000, time.UTC)
	p.Clock().Set(login)
	br := newBrowser(p)
	br.codeTokens(t)

	// 14:59.6 after the login, 15:00.5 after its auth_time, 12:00:00.
	p.Clock().Set(login.Add(15*time.Minute - 400*time.Millisecond))
	verifier, challenge := pkce()
	params := authParams(callback, challenge)
	params.Set("max_age", "900")
	res := br.authorize(t, params, "alice", "alice-pw")
	if res.location == nil || res.location.Query().Get("code") == "" {
		t.Fatalf("no code: %+v", res)
	}
	body := br.redeem(t, res.location.Query().Get("code"), verifier, 200)
	idToken, _ := body["id_token"].(string)
	authTime := numClaim(t, unverifiedClaims(t, idToken), "auth_time")
	if age := p.Now().Sub(time.Unix(authTime, 0)); age > 900*time.Second {
		t.Errorf("max_age=900 answered with auth_time %s, %s ago (login form shown: %v); want a new login", time.Unix(authTime, 0).UTC().Format(time.RFC3339), age, res.loginShown)
	}
}

// TestExchange_RefreshTokenLoginAgeInWholeSeconds: a refresh token as the
// subject counts the login's age as an ID token of the same login does,
// from the whole-second auth_time the ID-JAG carries: 5m0.5s after that
// auth_time (4m59.6s after the login itself) both are refused for
// max_auth_age 5m, where the refresh token was allowed.
func TestExchange_RefreshTokenLoginAgeInWholeSeconds(t *testing.T) {
	p := startConformanceIdP(t)
	p.Clock().Freeze()
	login := time.Date(2030, 1, 1, 12, 0, 0, 900_000_000, time.UTC)
	p.Clock().Set(login)
	tokens := newBrowser(p).codeTokens(t)
	p.Clock().Set(login.Add(5*time.Minute - 400*time.Millisecond))
	for _, typ := range []string{typeIDToken, typeRefreshToken} {
		subject := tokens["id_token"].(string)
		if typ == typeRefreshToken {
			subject = tokens["refresh_token"].(string)
		}
		form := b(subject, set("subject_token_type", typ), set("audience", "https://as.vault.example"),
			set("resource", "https://mcp.vault.example/mcp"), set("scope", "vault.read"))
		resp, body := p.postToken(t, form, basic("mcp-client", "s1"))
		if resp.StatusCode != 400 || body["error"] != "insufficient_user_authentication" {
			t.Errorf("%s as the subject, 5m0.5s after its auth_time: %d %v %v; want 400 insufficient_user_authentication", typ, resp.StatusCode, body["error"], body["error_description"])
		}
	}
}

// TestAuthorize_AHugeMaxAgeReusesTheSession: max_age is a number of
// seconds, which the IdP turned into a time.Duration by multiplying: from
// 9223372037 s (292 years) on the product overflowed, to a negative
// duration or a small one, so that a session a second old was too old for
// it and the login form was shown, while 100000000000 wrapped round and
// was met. A max_age longer than any session's age is met by every
// session.
func TestAuthorize_AHugeMaxAgeReusesTheSession(t *testing.T) {
	p := startConformanceIdP(t)
	p.Clock().Freeze()
	p.Clock().Set(time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC))
	br := newBrowser(p)
	br.codeTokens(t)
	p.Clock().Advance(time.Second)
	for _, maxAge := range []string{"9223372036", "9223372037", "18446744073", "18446744073709551615"} {
		_, challenge := pkce()
		params := authParams(callback, challenge)
		params.Set("max_age", maxAge)
		res := br.authorize(t, params, "alice", "alice-pw")
		if res.loginShown || res.location == nil || res.location.Query().Get("code") == "" {
			t.Errorf("max_age=%s, a session a second old: login form shown %v, location %v; want the session reused", maxAge, res.loginShown, res.location)
		}
	}
}
