package idp_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestPublicClientSecret_EveryGrant: a public client (no client_secret,
// no jwks: token endpoint auth method none) that sends a secret, in the
// body or as a Basic password, is refused with invalid_client naming the
// mismatch at every grant, as the token exchange and /revoke already did;
// the code and refresh grants accepted it, ignoring the secret, so a
// client that believed itself confidential logged in and failed only at
// the token exchange. The refused code and refresh token stay good for
// the same client sending client_id alone, and so does every grant.
func TestPublicClientSecret_EveryGrant(t *testing.T) {
	p := startConformanceIdP(t)
	alone := func(form url.Values) url.Values { form.Set("client_id", "pub-client"); return form }
	for _, tc := range []struct {
		name   string
		with   func(url.Values) url.Values
		header http.Header
		want   string // in the error_description
	}{
		{"client_secret in the body", func(f url.Values) url.Values {
			f.Set("client_id", "pub-client")
			f.Set("client_secret", "guess")
			return f
		}, noAuth,
			"public client and has no secret, but client_secret was sent"},
		{"Basic with a password", func(f url.Values) url.Values { return f }, basic("pub-client", "guess"),
			"public client and has no secret, but Basic credentials with a password were sent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refused := func(t *testing.T, grant string, resp *http.Response, body map[string]any) {
				t.Helper()
				checkOAuthError(t, resp, body, http.StatusUnauthorized, "invalid_client")
				if d, _ := body["error_description"].(string); !strings.Contains(d, tc.want) {
					t.Errorf("%s: error_description %q, want it to say %q", grant, d, tc.want)
				}
			}

			code, verifier := codeAt(t, p, "pub-client")
			codeForm := func() url.Values {
				return url.Values{"grant_type": {"authorization_code"}, "code": {code},
					"redirect_uri": {callback}, "code_verifier": {verifier}}
			}
			resp, body := p.postToken(t, tc.with(codeForm()), tc.header)
			refused(t, "authorization_code", resp, body)
			resp, tok := p.postToken(t, alone(codeForm()), noAuth)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("the refused code with client_id alone: %d %v, want tokens", resp.StatusCode, tok)
			}

			refreshForm := func() url.Values {
				return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}
			}
			resp, body = p.postToken(t, tc.with(refreshForm()), tc.header)
			refused(t, "refresh_token", resp, body)
			resp, body = p.postToken(t, alone(refreshForm()), noAuth)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("the refused refresh token with client_id alone: %d %v, want tokens", resp.StatusCode, body)
			}

			exchange := func() url.Values { return exchangeForm(body["id_token"].(string)) }
			resp, xbody := p.postToken(t, tc.with(exchange()), tc.header)
			refused(t, "token exchange", resp, xbody)
			resp, xbody = p.postToken(t, alone(exchange()), noAuth)
			if resp.StatusCode != http.StatusOK || xbody["issued_token_type"] != "urn:ietf:params:oauth:token-type:id-jag" {
				t.Fatalf("token exchange with client_id alone: %d %v, want an ID-JAG", resp.StatusCode, xbody)
			}
		})
	}
}
