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
