package idp_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestIDTokenHint_EveryIDTokenAlg: the IdP's own ID token is a good
// id_token_hint whatever signing.id_token_alg signs it with. With EdDSA,
// end_session refused the hint openid-client's buildEndSessionUrl sends
// (400 "id_token_hint invalid: signature algorithm not supported":
// zitadel's hint verifier takes RS256, ES256 and PS256 unless told), and
// /authorize with prompt=none took it for another user's (login_required).
func TestIDTokenHint_EveryIDTokenAlg(t *testing.T) {
	for _, alg := range []string{policy.AlgRS256, policy.AlgES256, policy.AlgEdDSA} {
		t.Run(alg, func(t *testing.T) {
			cfg := loadConfig(t, "testdata/conformance.yaml")
			cfg.Signing.IDTokenAlg = alg
			br := newBrowser(startIdP(t, cfg))
			hint := br.codeTokens(t)["id_token"].(string)

			_, challenge := pkce()
			params := authParams(callback, challenge)
			params.Set("prompt", "none")
			params.Set("id_token_hint", hint)
			if res := br.authorize(t, params, "", ""); res.location == nil || res.location.Query().Get("code") == "" {
				t.Errorf("prompt=none with the session's own %s ID token as hint: %d %v; want a code", alg, res.status, res.location)
			}

			q := url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {callback}, "state": {"s-1"}}
			resp, err := br.hc.Get(br.p.URL + "/end_session?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != http.StatusFound || loc == nil || loc.Scheme+"://"+loc.Host+loc.Path != callback || loc.Query().Get("state") != "s-1" {
				t.Fatalf("end_session with the session's own %s ID token: %d Location %q; want 302 to %s with the state", alg, resp.StatusCode, resp.Header.Get("Location"), callback)
			}
		})
	}
}
