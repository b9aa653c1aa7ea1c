package idp_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/client/tokenexchange"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// TestExchange_ZitadelClientGetsAnIDJAG: zitadel/oidc's own token-exchange
// client (pkg/client/tokenexchange), the one a Go MCP host built on that
// library calls, gets an ID-JAG from the IdP with either of the two ways
// it authenticates: client_secret_basic (NewTokenExchangerClientCredentials)
// and private_key_jwt (NewTokenExchangerJWTProfile, whose assertion lives
// an hour and has the issuer as a one-element aud array). zitadel's op
// refuses requested_token_type id-jag before any hook, so only the IdP's
// own grant can answer this; the answer must also be one zitadel's reply
// type reads (issued_token_type, token_type N_A, access_token).
func TestExchange_ZitadelClientGetsAnIDJAG(t *testing.T) {
	p := startJWTClientIdP(t)
	ctx := context.Background()
	const idJAG = oidc.TokenType("urn:ietf:params:oauth:token-type:id-jag")
	for _, c := range []struct {
		name    string
		idToken func() string
		te      func() (tokenexchange.TokenExchanger, error)
	}{
		{"client_secret_basic", func() string { return p.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid").IDToken() },
			func() (tokenexchange.TokenExchanger, error) {
				return tokenexchange.NewTokenExchangerClientCredentials(ctx, p.URL, "mcp-client", "s1")
			}},
		{"private_key_jwt", func() string { return p.loginAlice(t) },
			func() (tokenexchange.TokenExchanger, error) {
				signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: p.key, KeyID: "k1"}}, nil)
				if err != nil {
					return nil, err
				}
				return tokenexchange.NewTokenExchangerJWTProfile(ctx, p.URL, "jwt-client", signer)
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			te, err := c.te()
			if err != nil {
				t.Fatalf("discovery through zitadel's client: %v", err)
			}
			resp, err := tokenexchange.ExchangeToken(ctx, te, c.idToken(), oidc.IDTokenType, "", "",
				[]string{"https://mcp.chat.example/mcp"}, []string{"https://as.chat.example"}, []string{"chat.read"}, idJAG)
			if err != nil {
				t.Fatalf("ExchangeToken: %v", err)
			}
			if resp.IssuedTokenType != idJAG || resp.TokenType != "N_A" || resp.ExpiresIn == 0 || resp.Scopes.String() != "chat.read" {
				t.Errorf("reply %+v: want issued_token_type id-jag, token_type N_A, expires_in, scope chat.read", resp)
			}
			hdr, claims := p.verifyJWT(t, resp.AccessToken)
			if typ, _ := hdr.ExtraHeaders["typ"].(string); typ != "oauth-id-jag+jwt" {
				t.Errorf("ID-JAG typ %q, want oauth-id-jag+jwt (op's signer writes JWT)", typ)
			}
			if claims["aud"] != "https://as.chat.example" || claims["sub"] != "u-alice" {
				t.Errorf("ID-JAG claims %v", claims)
			}
		})
	}
}

// TestTokenEndpoint_OPsOtherGrantsAreNotServed: zitadel's op serves the
// JWT profile grant (RFC 7523 section 2.1) to anyone, with no client
// authentication and iss == sub as the only subject check, and client
// credentials and device code when the storage allows; and its token
// exchange issues access, refresh and ID tokens. None of these may be
// reached: a client with keys signing its own assertion, an ID token
// handed over as a JWT bearer assertion, a right client secret at
// client_credentials and a token exchange for an access token each get
// an error and no token.
func TestTokenEndpoint_OPsOtherGrantsAreNotServed(t *testing.T) {
	p := startJWTClientIdP(t)
	idToken := p.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid").IDToken()
	self := p.assertion(t, p.key, p.URL, "self-1", time.Now().Add(time.Minute))
	for _, c := range []struct {
		name   string
		form   url.Values
		header http.Header
		want   string
	}{
		{"JWT profile, self-signed by a client with keys", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {self}, "scope": {"openid"}}, nil, "unsupported_grant_type"},
		{"JWT profile, an ID token as assertion", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {idToken}}, basicS1, "unsupported_grant_type"},
		{"client_credentials, right secret", url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}}, basicS1, "unsupported_grant_type"},
		{"device_code", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {"x"}, "client_id": {"pub-client"}}, nil, "unsupported_grant_type"},
		{"token exchange for an access token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"},
			"requested_token_type": {"urn:ietf:params:oauth:token-type:access_token"}, "subject_token": {idToken},
			"subject_token_type": {"urn:ietf:params:oauth:token-type:id_token"}, "audience": {"https://as.chat.example"}}, basicS1, "invalid_request"},
		{"token exchange for an ID token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"},
			"requested_token_type": {"urn:ietf:params:oauth:token-type:id_token"}, "subject_token": {idToken},
			"subject_token_type": {"urn:ietf:params:oauth:token-type:id_token"}, "audience": {"https://as.chat.example"}}, basicS1, "invalid_request"},
	} {
		resp, body := p.postToken(t, c.form, c.header)
		if resp.StatusCode != http.StatusBadRequest || body["error"] != c.want {
			t.Errorf("%s: %s %v, want 400 %s", c.name, resp.Status, body, c.want)
		}
		for _, k := range []string{"access_token", "id_token", "refresh_token"} {
			if _, ok := body[k]; ok {
				t.Errorf("%s: the answer carries %s: %v", c.name, k, body)
			}
		}
	}
}

// TestAuthorize_PKCEOnlyS256: zitadel's op takes code_challenge_method
// plain as well as S256, and RFC 7636 section 4.3 makes an absent method
// plain; a plain challenge is the verifier itself, which anyone who saw
// the authorization request holds. Both are refused at /authorize, back
// to the client, before any login; S256 goes on to the login form.
func TestAuthorize_PKCEOnlyS256(t *testing.T) {
	p := startConformanceIdP(t)
	const callback = "http://127.0.0.1/callback"
	verifier, challenge := pkce()
	for _, c := range []struct {
		name              string
		challenge, method string
	}{
		{"plain", verifier[:64], "plain"},
		{"no method, which is plain", verifier[:64], ""},
		{"no method, an S256-looking challenge", challenge, ""},
	} {
		params := authParams(callback, c.challenge)
		if c.method == "" {
			params.Del("code_challenge_method")
		} else {
			params.Set("code_challenge_method", c.method)
		}
		res := newBrowser(p).authorize(t, params, "", "")
		if res.loginShown || res.location == nil || res.location.Query().Get("error") != "invalid_request" ||
			!strings.Contains(res.location.Query().Get("error_description"), "S256") {
			t.Errorf("%s: %+v, want a redirect back with invalid_request naming S256 and no login form", c.name, res)
		}
	}
	if res := newBrowser(p).authorize(t, authParams(callback, challenge), "", ""); !res.loginShown {
		t.Errorf("S256: %+v, want the login form", res)
	}
}
