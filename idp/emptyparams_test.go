package idp_test

import (
	"net/http"
	"net/url"
	"testing"
)

// TestTokenEndpoint_EmptyParametersAreAbsentInCodeAndRefreshGrants: an
// empty parameter is an absent one on every grant (docs/http.md, "Token
// endpoint"; the Go SDK sends code= on every token request, form builders
// send every field they know). A refresh request with scope= asks for the
// scope originally granted (RFC 6749 section 6), not for a scope named "".
func TestTokenEndpoint_EmptyParametersAreAbsentInCodeAndRefreshGrants(t *testing.T) {
	f := newFixture(t, conformanceConfig(t))
	empties := []string{"scope", "code", "client_id", "client_secret", "client_assertion", "client_assertion_type", "resource", "audience", "actor_token"}

	t.Run("refresh grant", func(t *testing.T) {
		for _, name := range empties {
			t.Run(name+"=", func(t *testing.T) {
				tok := f.loginAs(t, "mcp-client", "s1", "alice", "alice-pw")
				form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken()}, name: {""}}
				resp, body := f.exchange(t, form, basicS1)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d %v, want 200", resp.StatusCode, body)
				}
				if body["scope"] != "openid email offline_access" {
					t.Errorf("scope %v, want the scope of the login", body["scope"])
				}
				f.remember(body["refresh_token"].(string))
				f.remember(body["access_token"].(string))
			})
		}
	})

	t.Run("authorization_code grant", func(t *testing.T) {
		for _, name := range append(empties, "refresh_token") {
			if name == "code" {
				continue
			}
			t.Run(name+"=", func(t *testing.T) {
				code, verifier := f.code(t)
				form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"http://127.0.0.1/callback"},
					"code_verifier": {verifier}, name: {""}}
				resp, body := f.exchange(t, form, basicS1)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d %v, want 200", resp.StatusCode, body)
				}
				for _, k := range []string{"access_token", "id_token", "refresh_token"} {
					if s, _ := body[k].(string); s != "" {
						f.remember(s)
					}
				}
			})
		}
	})
}

// code runs alice's login at mcp-client up to the redirect and returns
// the code and its PKCE verifier, unredeemed.
func (f *fixture) code(t *testing.T) (code, verifier string) {
	t.Helper()
	return codeAt(t, f.testIdP, "mcp-client")
}

// codeAt runs alice's login at clientID, for openid offline_access, up to
// the redirect and returns the code and its PKCE verifier, unredeemed.
func codeAt(t *testing.T, p *testIdP, clientID string) (code, verifier string) {
	t.Helper()
	verifier, challenge := pkce()
	q := authParams("http://127.0.0.1/callback", challenge)
	q.Set("client_id", clientID)
	q.Set("scope", "openid offline_access")
	res := newBrowser(p).authorize(t, q, "alice", "alice-pw")
	if res.location == nil || res.location.Query().Get("code") == "" {
		t.Fatalf("no code: %+v", res)
	}
	return res.location.Query().Get("code"), verifier
}
