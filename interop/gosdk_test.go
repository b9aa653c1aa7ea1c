// Interop test: the official Go MCP SDK (github.com/modelcontextprotocol/go-sdk)
// as the MCP client of xaa-idp. The SDK logs the user in (OIDC code flow with
// PKCE, extauth.PerformOIDCLogin) and exchanges the ID token for an ID-JAG
// (RFC 8693, oauthex.ExchangeToken), exactly as extauth.EnterpriseHandler does.
// Nothing of the IdP's own client code is used: the headless login below is
// written the way a client developer would write it against the login form.
package interop_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/auth/extauth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"

	"github.com/xaa-idp/xaa-idp/fixtures"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/idptest"
	"github.com/xaa-idp/xaa-idp/policy"
)

// The tracker MCP server of the demo configuration.
const (
	trackerIssuer   = "http://127.0.0.1:8101"
	trackerResource = "http://127.0.0.1:8201/mcp"
	idJAGType       = "oauth-id-jag+jwt"
	// redirectURL is a loopback redirect URI with a port, as a native app
	// listening on an ephemeral port would register it (RFC 8252 §7.3); the
	// demo registers http://127.0.0.1/callback and any loopback port matches.
	// Nothing listens there: the fetcher catches the redirect.
	redirectURL = "http://127.0.0.1:53682/callback"
)

// startIdP serves the embedded demo configuration on a loopback listener.
func startIdP(t *testing.T) string {
	t.Helper()
	cfg, err := policy.Parse(fixtures.Demo, fixtures.DemoFile)
	if err != nil {
		t.Fatalf("demo config: %v", err)
	}
	ts := httptest.NewUnstartedServer(nil)
	issuer := "http://" + ts.Listener.Addr().String()
	srv, err := idp.New(idp.Options{Config: cfg, Issuer: issuer})
	if err != nil {
		t.Fatalf("idp.New: %v", err)
	}
	ts.Config.Handler = srv
	ts.Start()
	t.Cleanup(ts.Close)
	return issuer
}

// headlessFetcher is an auth.AuthorizationCodeFetcher that plays the user's
// browser through headlessLogin and takes code, state and iss from the
// redirect to redirectURI.
func headlessFetcher(redirectURI, username, password string) auth.AuthorizationCodeFetcher {
	return headlessFetcherVia(nil, redirectURI, username, password)
}

// headlessFetcherVia is headlessFetcher with a browser whose requests go
// through rt (nil: http.DefaultTransport), e.g. one that trusts a CA.
func headlessFetcherVia(rt http.RoundTripper, redirectURI, username, password string) auth.AuthorizationCodeFetcher {
	return func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
		callback, err := headlessLoginVia(ctx, rt, args.URL, redirectURI, username, password)
		if err != nil {
			return nil, err
		}
		q := callback.Query()
		if e := q.Get("error"); e != "" {
			return nil, fmt.Errorf("authorization error %s: %s", e, q.Get("error_description"))
		}
		if q.Get("code") == "" {
			return nil, fmt.Errorf("redirect without code: %s", callback)
		}
		return &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}, nil
	}
}

// headlessLogin plays the user's browser: it opens the authorization URL
// with a cookie jar, follows the redirects to the login page, submits the
// login form with the given username and password, and stops at the
// redirect to redirectURI (any port of a loopback one), which it returns
// without following it.
func headlessLogin(ctx context.Context, authURL, redirectURI, username, password string) (*url.URL, error) {
	return headlessLoginVia(ctx, nil, authURL, redirectURI, username, password)
}

// headlessLoginVia is headlessLogin with a browser whose requests go
// through rt (nil: http.DefaultTransport).
func headlessLoginVia(ctx context.Context, rt http.RoundTripper, authURL, redirectURI, username, password string) (*url.URL, error) {
	cb, err := url.Parse(redirectURI)
	if err != nil {
		return nil, err
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	var callback *url.URL // the redirect to redirectURI, once seen
	browser := &http.Client{
		Transport: rt,
		Jar:       jar,
		Timeout:   15 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			u := req.URL
			if u.Scheme == cb.Scheme && u.Host == cb.Host && u.Path == cb.Path {
				callback = u
				return http.ErrUseLastResponse
			}
			if len(via) >= 10 {
				return errors.New("too many redirects")
			}
			return nil
		},
	}

	// 1. Open the authorization URL; expect the login page.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, err
	}
	page, pageURL, err := fetchPage(browser, req)
	if err != nil {
		return nil, fmt.Errorf("authorization request: %w", err)
	}
	if callback == nil {
		// 2. Fill in and submit the login form.
		action, fields, err := parseLoginForm(page)
		if err != nil {
			return nil, fmt.Errorf("login page %s: %w", pageURL, err)
		}
		target, err := pageURL.Parse(action)
		if err != nil {
			return nil, fmt.Errorf("login form action %q: %w", action, err)
		}
		fields.Set("username", username)
		fields.Set("password", password)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), strings.NewReader(fields.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		page, pageURL, err = fetchPage(browser, req)
		if err != nil {
			return nil, fmt.Errorf("login form: %w", err)
		}
	}
	if callback == nil {
		return nil, fmt.Errorf("no redirect to %s after login; last page %s: %.300s", redirectURI, pageURL, page)
	}
	return callback, nil
}

// fetchPage sends req through the browser and returns the final body and URL.
func fetchPage(browser *http.Client, req *http.Request) (string, *url.URL, error) {
	resp, err := browser.Do(req)
	if err != nil {
		return "", nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", nil, err
	}
	if resp.StatusCode >= 400 {
		return "", nil, fmt.Errorf("%s %s: HTTP %d: %.300s", req.Method, resp.Request.URL, resp.StatusCode, body)
	}
	return string(body), resp.Request.URL, nil
}

var (
	formRE  = regexp.MustCompile(`(?is)<form\b[^>]*>.*?</form>`)
	inputRE = regexp.MustCompile(`(?is)<input\b[^>]*>`)
	attrRE  = regexp.MustCompile(`(?is)\b([a-z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')`)
)

func attrs(tag string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRE.FindAllStringSubmatch(tag, -1) {
		m[strings.ToLower(a[1])] = html.UnescapeString(a[2] + a[3])
	}
	return m
}

// parseLoginForm finds the POST form that has a password field and returns
// its action and the values of its inputs.
func parseLoginForm(page string) (action string, fields url.Values, err error) {
	for _, form := range formRE.FindAllString(page, -1) {
		openTag := form[:strings.Index(form, ">")+1]
		fa := attrs(openTag)
		if !strings.EqualFold(fa["method"], "post") {
			continue
		}
		fields = url.Values{}
		hasPassword := false
		for _, in := range inputRE.FindAllString(form, -1) {
			ia := attrs(in)
			if ia["name"] == "" {
				continue
			}
			if strings.EqualFold(ia["type"], "password") {
				hasPassword = true
			}
			fields.Set(ia["name"], ia["value"])
		}
		if hasPassword {
			return fa["action"], fields, nil
		}
	}
	return "", nil, errors.New("no login form with a password field")
}

// sdkLogin logs username in through extauth.PerformOIDCLogin and returns the
// ID token.
func sdkLogin(t *testing.T, issuer string, creds *oauthex.ClientCredentials, username, password string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := extauth.PerformOIDCLogin(ctx, &extauth.OIDCLoginConfig{
		IssuerURL:   issuer,
		Credentials: creds,
		RedirectURL: redirectURL,
		Scopes:      []string{"openid", "profile", "email"},
		HTTPClient:  &http.Client{Timeout: 15 * time.Second},
	}, headlessFetcher(redirectURL, username, password))
	if err != nil {
		t.Fatalf("PerformOIDCLogin(%s as %s): %v", creds.ClientID, username, err)
	}
	idToken, _ := tok.Extra("id_token").(string)
	if idToken == "" {
		t.Fatal("no id_token")
	}
	return idToken
}

// discover fetches the IdP metadata the way the SDK's EnterpriseHandler does
// (this also applies the SDK's checks: issuer equality, PKCE advertised).
func discover(t *testing.T, issuer string) *oauthex.AuthServerMeta {
	t.Helper()
	meta, err := auth.GetAuthServerMetadata(context.Background(), issuer, http.DefaultClient)
	if err != nil {
		t.Fatalf("GetAuthServerMetadata: %v", err)
	}
	if meta == nil {
		t.Fatal("GetAuthServerMetadata: no metadata")
	}
	if meta.TokenEndpoint == "" || meta.JWKSURI == "" {
		t.Fatalf("metadata lacks token_endpoint or jwks_uri: %+v", meta)
	}
	return meta
}

func fetchJWKS(t *testing.T, jwksURI string) *jose.JSONWebKeySet {
	t.Helper()
	resp, err := http.Get(jwksURI)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	return &set
}

// verifyJWT checks the signature of raw against the JWKS (by kid) and
// returns its header and claims.
func verifyJWT(t *testing.T, raw string, set *jose.JSONWebKeySet) (jose.Header, map[string]any) {
	t.Helper()
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.PS256, jose.EdDSA})
	if err != nil {
		t.Fatalf("parse JWT: %v", err)
	}
	h := tok.Headers[0]
	if h.KeyID == "" {
		t.Fatal("JWT header has no kid")
	}
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q: %d keys in the JWKS", h.KeyID, len(keys))
	}
	var claims map[string]any
	if err := tok.Claims(keys[0].Key, &claims); err != nil {
		t.Fatalf("JWT signature does not verify with JWKS key %q: %v", h.KeyID, err)
	}
	return h, claims
}

func num(t *testing.T, claims map[string]any, name string) int64 {
	t.Helper()
	f, ok := claims[name].(float64)
	if !ok {
		t.Fatalf("claim %s = %#v, want a number", name, claims[name])
	}
	return int64(f)
}

func wantString(t *testing.T, claims map[string]any, name, want string) {
	t.Helper()
	got, ok := claims[name].(string)
	if !ok {
		t.Errorf("claim %s = %#v (%T), want the string %q", name, claims[name], claims[name], want)
		return
	}
	if got != want {
		t.Errorf("claim %s = %q, want %q", name, got, want)
	}
}

// trackerRequest is the token exchange request the SDK's EnterpriseHandler
// builds for the tracker MCP server.
func trackerRequest(idToken, audience string, scopes ...string) *oauthex.TokenExchangeRequest {
	return &oauthex.TokenExchangeRequest{
		RequestedTokenType: oauthex.TokenTypeIDJAG,
		Audience:           audience,
		Resource:           trackerResource,
		Scope:              scopes,
		SubjectToken:       idToken,
		SubjectTokenType:   oauthex.TokenTypeIDToken,
	}
}

func TestGoSDKIDJAG(t *testing.T) {
	issuer := startIdP(t)
	meta := discover(t, issuer)
	jwks := fetchJWKS(t, meta.JWKSURI)
	httpClient := &http.Client{Timeout: 15 * time.Second}

	clients := []struct {
		name        string
		creds       *oauthex.ClientCredentials
		rasClientID string
	}{
		{"confidential", &oauthex.ClientCredentials{
			ClientID:         "mcp-client",
			ClientSecretAuth: &oauthex.ClientSecretAuth{ClientSecret: "mcp-secret"},
		}, "mcp-client-at-tracker"},
		{"public", &oauthex.ClientCredentials{ClientID: "mcp-public"}, "mcp-public-at-tracker"},
	}
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			idToken := sdkLogin(t, issuer, c.creds, "alice", "alice")

			// The ID token is for this client and verifiable with the JWKS.
			_, idc := verifyJWT(t, idToken, jwks)
			wantString(t, idc, "iss", issuer)
			wantString(t, idc, "sub", "00u-alice")
			if aud := fmt.Sprint(idc["aud"]); !strings.Contains(aud, c.creds.ClientID) {
				t.Errorf("ID token aud = %v, want it to contain %s", idc["aud"], c.creds.ClientID)
			}

			// The audience as configured, and with a trailing slash (both
			// are what an EnterpriseHandler user may configure).
			seen := map[string]bool{}
			for _, audience := range []string{trackerIssuer, trackerIssuer + "/"} {
				tok, err := oauthex.ExchangeToken(context.Background(), meta.TokenEndpoint,
					trackerRequest(idToken, audience, "issues.read", "issues.write"), c.creds, httpClient)
				if err != nil {
					t.Fatalf("ExchangeToken(audience %s): %v", audience, err)
				}
				if got := tok.Extra("issued_token_type"); got != oauthex.TokenTypeIDJAG {
					t.Errorf("issued_token_type = %v", got)
				}
				if tok.TokenType != "N_A" {
					t.Errorf("token_type = %q, want N_A", tok.TokenType)
				}
				if got := tok.Extra("expires_in"); got != float64(300) {
					t.Errorf("expires_in = %v, want 300", got)
				}
				if tok.RefreshToken != "" {
					t.Error("token exchange returned a refresh token")
				}

				h, claims := verifyJWT(t, tok.AccessToken, jwks)
				if typ := h.ExtraHeaders[jose.HeaderType]; typ != idJAGType {
					t.Errorf("ID-JAG header typ = %v, want %s", typ, idJAGType)
				}
				wantString(t, claims, "iss", issuer)
				wantString(t, claims, "sub", "00u-alice")
				wantString(t, claims, "aud", trackerIssuer) // a string, canonical: no slash
				wantString(t, claims, "client_id", c.rasClientID)
				wantString(t, claims, "resource", trackerResource)
				wantString(t, claims, "scope", "issues.read issues.write")
				if got := tok.Extra("scope"); got != nil && got != "issues.read issues.write" {
					t.Errorf("response scope = %v", got)
				}
				jti, _ := claims["jti"].(string)
				if jti == "" || seen[jti] {
					t.Errorf("jti = %q, want a fresh non-empty value", jti)
				}
				seen[jti] = true
				if d := num(t, claims, "exp") - num(t, claims, "iat"); d != 300 {
					t.Errorf("exp - iat = %d, want 300", d)
				}
				if iat := time.Unix(num(t, claims, "iat"), 0); time.Since(iat).Abs() > time.Minute {
					t.Errorf("iat = %v, not now", iat)
				}
			}
		})
	}

	t.Run("refused", func(t *testing.T) {
		creds := clients[0].creds
		idToken := sdkLogin(t, issuer, creds, "bob", "bob")
		_, err := oauthex.ExchangeToken(context.Background(), meta.TokenEndpoint,
			trackerRequest(idToken, trackerIssuer, "issues.read"), creds, httpClient)
		if err == nil {
			t.Fatal("bob got an ID-JAG for tracker; want access_denied")
		}
		if !strings.Contains(err.Error(), "access_denied") {
			t.Errorf("error does not name access_denied: %v", err)
		}
		t.Logf("SDK error: %v", err)
	})
}

// TestGoSDKIDJAG_RefreshTokenSubject: oauthex.ExchangeToken takes any
// SubjectTokenType; the refresh token PerformOIDCLogin gets with
// offline_access is a subject the IdP accepts (docs/http.md), for the
// client it was issued to, and gives the ID-JAG of the same user.
func TestGoSDKIDJAG_RefreshTokenSubject(t *testing.T) {
	issuer := startIdP(t)
	meta := discover(t, issuer)
	jwks := fetchJWKS(t, meta.JWKSURI)
	httpClient := &http.Client{Timeout: 15 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, creds := range []*oauthex.ClientCredentials{
		{ClientID: "mcp-client", ClientSecretAuth: &oauthex.ClientSecretAuth{ClientSecret: "mcp-secret"}},
		{ClientID: "mcp-public"},
	} {
		t.Run(creds.ClientID, func(t *testing.T) {
			tok, err := extauth.PerformOIDCLogin(ctx, &extauth.OIDCLoginConfig{
				IssuerURL: issuer, Credentials: creds, RedirectURL: redirectURL,
				Scopes: []string{"openid", "offline_access"}, HTTPClient: httpClient,
			}, headlessFetcher(redirectURL, "alice", "alice"))
			if err != nil {
				t.Fatalf("PerformOIDCLogin: %v", err)
			}
			if tok.RefreshToken == "" {
				t.Fatal("no refresh token with offline_access")
			}
			req := trackerRequest(tok.RefreshToken, trackerIssuer, "issues.read")
			req.SubjectTokenType = "urn:ietf:params:oauth:token-type:refresh_token"
			jag, err := oauthex.ExchangeToken(ctx, meta.TokenEndpoint, req, creds, httpClient)
			if err != nil {
				t.Fatalf("ExchangeToken with the refresh token as subject: %v", err)
			}
			_, claims := verifyJWT(t, jag.AccessToken, jwks)
			wantString(t, claims, "sub", "00u-alice")
			wantString(t, claims, "aud", trackerIssuer)
			wantString(t, claims, "scope", "issues.read")
		})
	}
}

// TestGoSDK_Personas runs the Go SDK against each persona of the tenants
// sample (docs/personas.md), each a tenant whose issuer has a path:
// extauth.PerformOIDCLogin at the tenant's issuer, oauthex.ExchangeToken
// for an ID-JAG whose header and claims must have the persona's shape,
// and extauth.EnterpriseHandler, given that ID token, connecting to the
// shared notes MCP server and calling whoami.
func TestGoSDK_Personas(t *testing.T) {
	data, err := os.ReadFile("../fixtures/samples/tenants.yaml")
	if err != nil {
		t.Fatal(err)
	}
	srv := idptest.New(t, idptest.WithConfigYAML(string(data)))
	notes := srv.StartDemoServers()["notes"]
	httpClient := &http.Client{Timeout: 15 * time.Second}

	tests := []struct {
		tenant, persona, path      string
		client, secret, user       string
		atNotes, sub, scope, email string
		alg                        string
		resource, tenantClaim      bool
	}{
		{"acme", "generic", "/t/acme", "desktop", "acme-desktop-secret", "alice",
			"acme-desktop", "u-alice", "notes.read notes.write", "", "ES256", true, true},
		{"okta", "okta", "/t/okta", "0oa-desktop", "okta-desktop-secret", "alice",
			"okta-desktop", "00u-okta-alice", "notes.read", "alice@okta-like.example", "RS256", false, false},
		{"anthropic-acme", "claude", "/issuers/acme", "claude", "claude-secret", "bob",
			"claude-at-notes", "u-bob", "notes.read notes.write", "bob@acme.example", "ES256", true, true},
		{"c1", "conductorone", "/t/c1", "agent", "c1-agent-secret", "dana",
			"agent-client-at-notes", "2kQ7XbV9mRzT1eLc0wHnY4sPdJa", "notes.read", "dana@acme.example", "ES256", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.persona, func(t *testing.T) {
			issuer := srv.TenantIssuer(tt.tenant)
			if want := srv.URL() + tt.path; issuer != want {
				t.Fatalf("tenant %s's issuer is %s, want %s", tt.tenant, issuer, want)
			}
			creds := &oauthex.ClientCredentials{ClientID: tt.client, ClientSecretAuth: &oauthex.ClientSecretAuth{ClientSecret: tt.secret}}
			meta := discover(t, issuer)
			jwks := fetchJWKS(t, meta.JWKSURI)
			idToken := sdkLogin(t, issuer, creds, tt.user, tt.user)
			_, idc := verifyJWT(t, idToken, jwks)
			wantString(t, idc, "iss", issuer)
			wantString(t, idc, "sub", tt.sub)

			tok, err := oauthex.ExchangeToken(context.Background(), meta.TokenEndpoint, &oauthex.TokenExchangeRequest{
				RequestedTokenType: oauthex.TokenTypeIDJAG,
				Audience:           notes.AuthServer,
				Resource:           notes.URL,
				SubjectToken:       idToken,
				SubjectTokenType:   oauthex.TokenTypeIDToken,
			}, creds, httpClient)
			if err != nil {
				t.Fatalf("ExchangeToken: %v", err)
			}
			if got := tok.Extra("issued_token_type"); got != oauthex.TokenTypeIDJAG {
				t.Errorf("issued_token_type = %v", got)
			}
			if got := tok.Extra("expires_in"); got != float64(300) {
				t.Errorf("expires_in = %v, want 300", got)
			}
			h, c := verifyJWT(t, tok.AccessToken, jwks)
			if h.Algorithm != tt.alg || h.ExtraHeaders[jose.HeaderType] != idJAGType {
				t.Errorf("ID-JAG header alg %s typ %v, want %s %s", h.Algorithm, h.ExtraHeaders[jose.HeaderType], tt.alg, idJAGType)
			}
			wantString(t, c, "iss", issuer)
			wantString(t, c, "sub", tt.sub)
			wantString(t, c, "aud", notes.AuthServer)
			wantString(t, c, "client_id", tt.atNotes)
			wantString(t, c, "scope", tt.scope)
			if _, ok := c["resource"]; ok != tt.resource {
				t.Errorf("resource claim %v, want present=%v", c["resource"], tt.resource)
			}
			if _, ok := c["tenant"]; ok != tt.tenantClaim {
				t.Errorf("tenant claim %v, want present=%v", c["tenant"], tt.tenantClaim)
			}
			if got, _ := c["email"].(string); got != tt.email {
				t.Errorf("email claim %v, want %q", c["email"], tt.email)
			}
			if d := num(t, c, "exp") - num(t, c, "iat"); d != 300 {
				t.Errorf("exp - iat = %d, want 300", d)
			}

			handler, err := extauth.NewEnterpriseHandler(&extauth.EnterpriseHandlerConfig{
				IdPIssuerURL:     issuer,
				IdPCredentials:   creds,
				MCPAuthServerURL: notes.AuthServer,
				MCPResourceURI:   notes.URL,
				MCPCredentials:   &oauthex.ClientCredentials{ClientID: tt.atNotes, ClientSecretAuth: &oauthex.ClientSecretAuth{ClientSecret: tt.secret}},
				IDTokenFetcher: func(context.Context) (*oauth2.Token, error) {
					return (&oauth2.Token{AccessToken: "unused"}).WithExtra(map[string]any{"id_token": idToken}), nil
				},
				HTTPClient: httpClient,
			})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			client := mcp.NewClient(&mcp.Implementation{Name: "xaa-idp-interop-go", Version: "0"}, nil)
			session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: notes.URL, OAuthHandler: handler, HTTPClient: httpClient}, nil)
			if err != nil {
				t.Fatalf("Connect to notes through %s: %v", issuer, err)
			}
			defer session.Close()
			res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "whoami"})
			if err != nil || res.IsError {
				t.Fatalf("whoami: %v %+v", err, res)
			}
			who, _ := res.StructuredContent.(map[string]any)
			if who["sub"] != tt.sub || who["client_id"] != tt.atNotes || who["idp_issuer"] != issuer {
				t.Errorf("whoami = %v, want sub %s, client_id %s, idp_issuer %s", who, tt.sub, tt.atNotes, issuer)
			}
			if got := fmt.Sprint(who["scopes"]); got != "["+tt.scope+"]" {
				t.Errorf("whoami scopes %s, want [%s]", got, tt.scope)
			}
		})
	}
}
