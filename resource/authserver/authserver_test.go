package authserver_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestTokenEndpoint_RefusesBadGrants is the negative table: each case breaks
// one thing in an otherwise valid request.
func TestTokenEndpoint_RefusesBadGrants(t *testing.T) {
	e := newEnv(t)
	now := e.clock.Now()
	idpKey := e.idp.currentKey()
	idpPub := idpKey.Public().Key

	tests := []struct {
		name string
		// req builds the request from valid claims.
		req        func(t *testing.T, c map[string]any) tokenRequest
		wantStatus int
		wantError  string
		wantDesc   string // a substring of error_description
	}{
		{
			name: "typ is JWT",
			req: func(t *testing.T, c map[string]any) tokenRequest {
				k := e.idp.currentKey()
				return grant(sign(t, c, "JWT", k.KeyID, jose.ES256, k.Key))
			},
			wantStatus: 400, wantError: "invalid_grant", wantDesc: `typ 'JWT' is not 'oauth-id-jag+jwt'`,
		},
		{
			name: "typ is missing",
			req: func(t *testing.T, c map[string]any) tokenRequest {
				k := e.idp.currentKey()
				return grant(sign(t, c, "", k.KeyID, jose.ES256, k.Key))
			},
			wantStatus: 400, wantError: "invalid_grant", wantDesc: `typ ''`,
		},
		{
			name: "unknown kid",
			req: func(t *testing.T, c map[string]any) tokenRequest {
				return grant(sign(t, c, authserver.IDJAGType, "rogue-kid", jose.ES256, newECKey(t)))
			},
			wantStatus: 400, wantError: "invalid_grant", wantDesc: `kid 'rogue-kid' is not in the IdP JWKS`,
		},
		{
			name: "signed by another key under the IdP's kid",
			req: func(t *testing.T, c map[string]any) tokenRequest {
				return grant(sign(t, c, authserver.IDJAGType, e.idp.currentKey().KeyID, jose.ES256, newECKey(t)))
			},
			wantStatus: 400, wantError: "invalid_grant", wantDesc: "signature does not verify",
		},
		{
			name: "payload tampered after signing",
			req: func(t *testing.T, c map[string]any) tokenRequest {
				parts := strings.Split(e.idp.mint(t, c), ".")
				c["sub"] = "00u-mallory"
				body, _ := json.Marshal(c)
				parts[1] = base64.RawURLEncoding.EncodeToString(body)
				return grant(strings.Join(parts, "."))
			},
			wantStatus: 400, wantError: "invalid_grant", wantDesc: "signature does not verify",
		},
		{
			// It said "not a JSON object", which it is.
			name: "typ is a number",
			req: func(t *testing.T, c map[string]any) tokenRequest {
				k := e.idp.currentKey()
				signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k}, (&jose.SignerOptions{}).WithHeader("typ", 1))
				if err != nil {
					t.Fatal(err)
				}
				tok, err := jwt.Signed(signer).Claims(c).Serialize()
				if err != nil {
					t.Fatal(err)
				}
				return grant(tok)
			},
			wantStatus: 400, wantError: "invalid_grant", wantDesc: `the assertion's JOSE header members alg, typ and kid must be strings`,
		},
		{
			// RFC 7515 section 4.1.11. Refused as a signature that does
			// not verify, which sent the IdP's operator to its keys.
			name: "crit names an unknown extension",
			req: func(t *testing.T, c map[string]any) tokenRequest {
				k := e.idp.currentKey()
				signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k},
					(&jose.SignerOptions{}).WithType(authserver.IDJAGType).WithCritical("urn:example:ext").WithHeader("urn:example:ext", true))
				if err != nil {
					t.Fatal(err)
				}
				tok, err := jwt.Signed(signer).Claims(c).Serialize()
				if err != nil {
					t.Fatal(err)
				}
				return grant(tok)
			},
			wantStatus: 400, wantError: "invalid_grant", wantDesc: `crit names 'urn:example:ext'`,
		},
		{
			name: "alg none",
			req: func(t *testing.T, c map[string]any) tokenRequest {
				return grant(unsigned(t, c, e.idp.currentKey().KeyID))
			},
			wantStatus: 400, wantError: "invalid_grant", wantDesc: `alg 'none' is not allowed`,
		},
		{
			name: "HS256 keyed with the IdP public key",
			req: func(t *testing.T, c map[string]any) tokenRequest {
				der, err := x509.MarshalPKIXPublicKey(idpPub)
				if err != nil {
					t.Fatal(err)
				}
				return grant(sign(t, c, authserver.IDJAGType, e.idp.currentKey().KeyID, jose.HS256, der))
			},
			wantStatus: 400, wantError: "invalid_grant", wantDesc: `alg 'HS256' is not allowed`,
		},
		{
			name:       "not a JWT",
			req:        func(t *testing.T, c map[string]any) tokenRequest { return grant("not-a-jwt") },
			wantStatus: 400, wantError: "invalid_grant", wantDesc: "not a JWT",
		},
		{
			name:       "issuer is another IdP",
			req:        e.withClaim("iss", "https://evil.example"),
			wantStatus: 400, wantError: "invalid_grant", wantDesc: `untrusted issuer 'https://evil.example'`,
		},
		{
			name:       "aud is another authorization server",
			req:        e.withClaim("aud", "http://127.0.0.1:9/other-as"),
			wantStatus: 400, wantError: "invalid_grant", wantDesc: `aud 'http://127.0.0.1:9/other-as' is not this authorization server (` + e.asURL + ")",
		},
		{
			name:       "aud has a trailing slash",
			req:        e.withClaim("aud", e.asURL+"/"),
			wantStatus: 400, wantError: "invalid_grant", wantDesc: "is not this authorization server",
		},
		{
			name:       "aud is an array of two",
			req:        e.withClaim("aud", []string{e.asURL, "http://127.0.0.1:9/other-as"}),
			wantStatus: 400, wantError: "invalid_grant", wantDesc: "aud has 2 values",
		},
		{
			name:       "client_id is another client",
			req:        e.withClaim("client_id", otherClient),
			wantStatus: 400, wantError: "invalid_grant", wantDesc: `client_id 'mcp-client-at-wiki' is not the authenticated client 'mcp-client-at-tracker'`,
		},
		{
			name:       "client_id is missing",
			req:        e.withClaim("client_id", nil),
			wantStatus: 400, wantError: "invalid_grant", wantDesc: "no client_id",
		},
		{
			name:       "sub is missing",
			req:        e.withClaim("sub", nil),
			wantStatus: 400, wantError: "invalid_grant", wantDesc: "no sub",
		},
		{
			name:       "expired beyond the skew",
			req:        e.withClaims(map[string]any{"iat": now.Add(-10 * time.Minute).Unix(), "exp": now.Add(-31 * time.Second).Unix()}),
			wantStatus: 400, wantError: "invalid_grant", wantDesc: "expired at",
		},
		{
			name:       "exp is missing",
			req:        e.withClaim("exp", nil),
			wantStatus: 400, wantError: "invalid_grant", wantDesc: "no exp",
		},
		{
			name:       "nbf in the future",
			req:        e.withClaim("nbf", now.Add(2*time.Minute).Unix()),
			wantStatus: 400, wantError: "invalid_grant", wantDesc: "not valid before",
		},
		{
			name:       "iat in the future",
			req:        e.withClaim("iat", now.Add(2*time.Minute).Unix()),
			wantStatus: 400, wantError: "invalid_grant", wantDesc: "is in the future",
		},
		{
			name:       "jti is missing",
			req:        e.withClaim("jti", nil),
			wantStatus: 400, wantError: "invalid_grant", wantDesc: "no jti",
		},
		{
			name:       "resource claim is not served here",
			req:        e.withClaim("resource", "http://127.0.0.1:9/elsewhere/mcp"),
			wantStatus: 400, wantError: "invalid_target", wantDesc: `resource 'http://127.0.0.1:9/elsewhere/mcp' is not a resource of this authorization server`,
		},
		{
			name: "resource parameter is not served here",
			req: func(t *testing.T, c map[string]any) tokenRequest {
				r := grant(e.idp.mint(t, c))
				r.form.Set("resource", "http://127.0.0.1:9/elsewhere/mcp")
				return r
			},
			wantStatus: 400, wantError: "invalid_target", wantDesc: `resource 'http://127.0.0.1:9/elsewhere/mcp' is not a resource of this authorization server`,
		},
		{
			name: "replayed jti",
			req: func(t *testing.T, c map[string]any) tokenRequest {
				jag := e.idp.mint(t, c)
				if r := e.post(t, grant(jag)); r.status != http.StatusOK {
					t.Fatalf("first use: HTTP %d %s", r.status, r.raw)
				}
				return grant(jag)
			},
			wantStatus: 400, wantError: "invalid_grant", wantDesc: "already redeemed",
		},
		{
			name: "signed by an untrusted IdP under its own name",
			req: func(t *testing.T, c map[string]any) tokenRequest {
				c["iss"] = "http://127.0.0.1:9/rogue-idp"
				return grant(sign(t, c, authserver.IDJAGType, "rogue", jose.ES256, newECKey(t)))
			},
			wantStatus: 400, wantError: "invalid_grant", wantDesc: `untrusted issuer 'http://127.0.0.1:9/rogue-idp': this authorization server accepts ID-JAGs from ` + e.idp.issuer + " only",
		},
		{
			name:       "ID-JAG scope unknown here",
			req:        e.withClaim("scope", "issues.read issues.admin"),
			wantStatus: 400, wantError: "invalid_scope", wantDesc: `scope 'issues.admin' is not a scope of this authorization server`,
		},
		{
			name: "requested scope unknown here, beside a known one",
			req: func(t *testing.T, c map[string]any) tokenRequest {
				r := grant(e.idp.mint(t, c))
				r.form.Set("scope", "issues.read openid")
				return r
			},
			wantStatus: 400, wantError: "invalid_scope", wantDesc: `requested scope 'openid' is not a scope of this authorization server`,
		},
		{
			name: "requested scope not in the ID-JAG",
			req: func(t *testing.T, c map[string]any) tokenRequest {
				c["scope"] = "issues.read"
				r := grant(e.idp.mint(t, c))
				r.form.Set("scope", "issues.write")
				return r
			},
			wantStatus: 400, wantError: "invalid_scope", wantDesc: `none of the requested scopes 'issues.write'`,
		},
		{
			// The classic mistake: the client's id at the IdP, where this
			// authorization server knows it by another.
			name: "the IdP's client_id in Basic",
			req: func(t *testing.T, c map[string]any) tokenRequest {
				r := grant(e.idp.mint(t, c))
				r.basic = &[2]string{"mcp-client", "secret"}
				return r
			},
			wantStatus: 401, wantError: "invalid_client",
			wantDesc: `unknown client 'mcp-client' (client_secret_basic); authenticate as the client this authorization server registered, whose client_id the ID-JAG carries (at xaa-idp: the value the MCP server's clients: maps the IdP client to)`,
		},
		{
			name: "the IdP's client_id in the body",
			req: func(t *testing.T, c map[string]any) tokenRequest {
				r := grant(e.idp.mint(t, c))
				r.basic = nil
				r.form.Set("client_id", "mcp-public")
				return r
			},
			wantStatus: 401, wantError: "invalid_client",
			wantDesc: `unknown client 'mcp-public'; authenticate as the client this authorization server registered, whose client_id the ID-JAG carries (at xaa-idp: the value the MCP server's clients: maps the IdP client to)`,
		},
		{
			name: "no client authentication",
			req: func(t *testing.T, c map[string]any) tokenRequest {
				r := grant(e.idp.mint(t, c))
				r.basic = nil
				return r
			},
			wantStatus: 401, wantError: "invalid_client", wantDesc: "no client authentication",
		},
		{
			name: "wrong secret in Basic",
			req: func(t *testing.T, c map[string]any) tokenRequest {
				r := grant(e.idp.mint(t, c))
				r.basic = &[2]string{confidentialClient, "guess"}
				return r
			},
			wantStatus: 401, wantError: "invalid_client", wantDesc: `wrong client secret for client 'mcp-client-at-tracker'`,
		},
		{
			name: "wrong secret in the body",
			req: func(t *testing.T, c map[string]any) tokenRequest {
				r := grant(e.idp.mint(t, c))
				r.basic = nil
				r.form.Set("client_id", confidentialClient)
				r.form.Set("client_secret", "guess")
				return r
			},
			wantStatus: 401, wantError: "invalid_client", wantDesc: "wrong client secret",
		},
		{
			name: "confidential client without its secret",
			req: func(t *testing.T, c map[string]any) tokenRequest {
				r := grant(e.idp.mint(t, c))
				r.basic = nil
				r.form.Set("client_id", confidentialClient)
				return r
			},
			wantStatus: 401, wantError: "invalid_client", wantDesc: "is confidential",
		},
		{
			name: "unknown client",
			req: func(t *testing.T, c map[string]any) tokenRequest {
				r := grant(e.idp.mint(t, c))
				r.basic = &[2]string{"stranger", "x"}
				return r
			},
			wantStatus: 401, wantError: "invalid_client", wantDesc: `unknown client 'stranger'`,
		},
		{
			name: "a client_id with ':' not form-encoded in Basic",
			req: func(t *testing.T, c map[string]any) tokenRequest {
				r := grant(e.idp.mint(t, c))
				r.rawBasic = "Basic " + base64.StdEncoding.EncodeToString([]byte("https://app.example/client.json:"))
				return r
			},
			wantStatus: 401, wantError: "invalid_client", wantDesc: `unknown client 'https' (client_secret_basic); the Basic credentials hold more than one ':', and a client_id with ':' (a URL, say) must be form-URL-encoded`,
		},
		{
			name: "Bearer instead of Basic",
			req: func(t *testing.T, c map[string]any) tokenRequest {
				r := grant(e.idp.mint(t, c))
				r.rawBasic = "Bearer abc"
				return r
			},
			wantStatus: 401, wantError: "invalid_client", wantDesc: `scheme 'Bearer'`,
		},
		{
			name: "Basic and client_secret_post at once",
			req: func(t *testing.T, c map[string]any) tokenRequest {
				r := grant(e.idp.mint(t, c))
				r.form.Set("client_id", confidentialClient)
				r.form.Set("client_secret", confidentialSecret)
				return r
			},
			wantStatus: 400, wantError: "invalid_request", wantDesc: "both client_secret_basic",
		},
		{
			name: "missing assertion",
			req: func(t *testing.T, c map[string]any) tokenRequest {
				r := grant("")
				r.form.Del("assertion")
				return r
			},
			wantStatus: 400, wantError: "invalid_request", wantDesc: "assertion is missing",
		},
		{
			name: "empty assertion",
			req: func(t *testing.T, c map[string]any) tokenRequest {
				return grant("")
			},
			wantStatus: 400, wantError: "invalid_request", wantDesc: "assertion is missing",
		},
		{
			name: "assertion repeated",
			req: func(t *testing.T, c map[string]any) tokenRequest {
				r := grant(e.idp.mint(t, c))
				r.form.Add("assertion", e.idp.mint(t, c))
				return r
			},
			wantStatus: 400, wantError: "invalid_request", wantDesc: `'assertion' is repeated`,
		},
		{
			// RFC 8707 §2 lets resource repeat; an access token of this
			// server has one audience, which the answer says.
			name: "two resources",
			req: func(t *testing.T, c map[string]any) tokenRequest {
				r := grant(e.idp.mint(t, c))
				r.form.Add("resource", e.mcpURL)
				r.form.Add("resource", e.mcpURL+"2")
				return r
			},
			wantStatus: 400, wantError: "invalid_request", wantDesc: "one resource per access token",
		},
		{
			name: "two resources, named in the refusal",
			req: func(t *testing.T, c map[string]any) tokenRequest {
				r := grant(e.idp.mint(t, c))
				r.form.Add("resource", e.mcpURL)
				r.form.Add("resource", e.mcpURL+"2")
				return r
			},
			wantStatus: 400, wantError: "invalid_request", wantDesc: "/mcp' and '" + "http",
		},
		{
			name: "resource with a second port is no URL of this server",
			req: func(t *testing.T, c map[string]any) tokenRequest {
				r := grant(e.idp.mint(t, c))
				r.form.Set("resource", strings.Replace(e.mcpURL, "/mcp", ":80/mcp", 1))
				return r
			},
			wantStatus: 400, wantError: "invalid_target", wantDesc: "is not a resource of this authorization server",
		},
		{
			name: "resource path in upper case is another resource",
			req: func(t *testing.T, c map[string]any) tokenRequest {
				r := grant(e.idp.mint(t, c))
				r.form.Set("resource", strings.TrimSuffix(e.mcpURL, "/mcp")+"/MCP")
				return r
			},
			wantStatus: 400, wantError: "invalid_target", wantDesc: "is not a resource of this authorization server",
		},
		{
			name: "unsupported grant type",
			req: func(t *testing.T, c map[string]any) tokenRequest {
				r := grant(e.idp.mint(t, c))
				r.form.Set("grant_type", "authorization_code")
				return r
			},
			wantStatus: 400, wantError: "unsupported_grant_type", wantDesc: `grant_type 'authorization_code' is not supported`,
		},
		{
			name: "missing grant type",
			req: func(t *testing.T, c map[string]any) tokenRequest {
				r := grant(e.idp.mint(t, c))
				r.form.Set("grant_type", "")
				return r
			},
			wantStatus: 400, wantError: "invalid_request", wantDesc: "grant_type is missing",
		},
		{
			name: "JSON body",
			req: func(t *testing.T, c map[string]any) tokenRequest {
				r := grant(e.idp.mint(t, c))
				r.contentType = "application/json"
				return r
			},
			wantStatus: 400, wantError: "invalid_request", wantDesc: `Content-Type 'application/json'`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.post(t, tt.req(t, e.claims()))
			if r.status != tt.wantStatus || r.str("error") != tt.wantError {
				t.Fatalf("got HTTP %d %s, want %d %s", r.status, r.raw, tt.wantStatus, tt.wantError)
			}
			t.Log(r.str("error_description"))
			if d := r.str("error_description"); !strings.Contains(d, tt.wantDesc) {
				t.Errorf("error_description %q does not contain %q", d, tt.wantDesc)
			}
			if _, ok := r.body["access_token"]; ok {
				t.Errorf("an error response carries an access_token: %s", r.raw)
			}
			if got := r.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			if tt.wantStatus == http.StatusUnauthorized && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic ") {
				t.Errorf("401 without a Basic challenge: WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
			}
		})
	}
}

// withClaim returns a request builder that sets one claim (nil deletes it).
func (e *env) withClaim(name string, value any) func(*testing.T, map[string]any) tokenRequest {
	return e.withClaims(map[string]any{name: value})
}

func (e *env) withClaims(set map[string]any) func(*testing.T, map[string]any) tokenRequest {
	return func(t *testing.T, c map[string]any) tokenRequest {
		for k, v := range set {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return grant(e.idp.mint(t, c))
	}
}

// TestTokenEndpoint_IssuesAccessTokens covers the accepted request shapes.
func TestTokenEndpoint_IssuesAccessTokens(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name       string
		req        func(t *testing.T) tokenRequest
		wantClient string
		wantScope  string
	}{
		{
			name:       "client_secret_basic with form-encoded credentials",
			req:        func(t *testing.T) tokenRequest { return grant(e.jag(t, nil)) },
			wantClient: confidentialClient, wantScope: "issues.read issues.write",
		},
		{
			name: "client_secret_basic without the form encoding",
			req: func(t *testing.T) tokenRequest {
				r := grant(e.jag(t, nil))
				r.rawBasic = "Basic " + base64.StdEncoding.EncodeToString([]byte(confidentialClient+":"+confidentialSecret))
				return r
			},
			wantClient: confidentialClient, wantScope: "issues.read issues.write",
		},
		{
			name: "client_secret_post, with the Go SDK's empty code= and an unknown parameter",
			req: func(t *testing.T) tokenRequest {
				r := grant(e.jag(t, nil))
				r.basic = nil
				r.form.Set("client_id", confidentialClient)
				r.form.Set("client_secret", confidentialSecret)
				r.form.Set("code", "")
				r.form.Set("x-unknown", "ignored")
				return r
			},
			wantClient: confidentialClient, wantScope: "issues.read issues.write",
		},
		{
			name: "public client sends client_id alone",
			req: func(t *testing.T) tokenRequest {
				r := grant(e.jag(t, func(c map[string]any) { c["client_id"] = publicClient }))
				r.basic = nil
				r.form.Set("client_id", publicClient)
				return r
			},
			wantClient: publicClient, wantScope: "issues.read issues.write",
		},
		{
			name: "client_id in the body alongside Basic for the same client",
			req: func(t *testing.T) tokenRequest {
				r := grant(e.jag(t, nil))
				r.form.Set("client_id", confidentialClient)
				return r
			},
			wantClient: confidentialClient, wantScope: "issues.read issues.write",
		},
		{
			name: "aud as an array of one, resource as an array",
			req: func(t *testing.T) tokenRequest {
				return grant(e.jag(t, func(c map[string]any) {
					c["aud"] = []string{e.asURL}
					c["resource"] = []string{e.mcpURL}
				}))
			},
			wantClient: confidentialClient, wantScope: "issues.read issues.write",
		},
		{
			name: "no resource claim: the single resource, or the resource parameter",
			req: func(t *testing.T) tokenRequest {
				r := grant(e.jag(t, func(c map[string]any) { delete(c, "resource") }))
				r.form.Set("resource", e.mcpURL)
				return r
			},
			wantClient: confidentialClient, wantScope: "issues.read issues.write",
		},
		{
			name: "resource parameter with a trailing slash, as the IdP accepts it",
			req: func(t *testing.T) tokenRequest {
				r := grant(e.jag(t, nil))
				r.form.Set("resource", e.mcpURL+"/")
				return r
			},
			wantClient: confidentialClient, wantScope: "issues.read issues.write",
		},
		{
			// RFC 3986 §6.2.2: scheme and host case and percent-encoding
			// of unreserved characters do not make another URL; the
			// access token carries the configured spelling.
			name: "resource parameter with the scheme in upper case and a percent-encoded path",
			req: func(t *testing.T) tokenRequest {
				r := grant(e.jag(t, nil))
				r.form.Set("resource", "HTTP"+strings.TrimPrefix(strings.TrimSuffix(e.mcpURL, "/mcp"), "http")+"/%6Dcp")
				return r
			},
			wantClient: confidentialClient, wantScope: "issues.read issues.write",
		},
		{
			name: "the same resource twice is one resource",
			req: func(t *testing.T) tokenRequest {
				r := grant(e.jag(t, nil))
				r.form.Add("resource", e.mcpURL)
				r.form.Add("resource", e.mcpURL+"/")
				return r
			},
			wantClient: confidentialClient, wantScope: "issues.read issues.write",
		},
		{
			name: "scope parameter narrows the grant",
			req: func(t *testing.T) tokenRequest {
				r := grant(e.jag(t, nil))
				r.form.Set("scope", "issues.read")
				return r
			},
			wantClient: confidentialClient, wantScope: "issues.read",
		},
		{
			name: "a requested scope of this server that the ID-JAG lacks is dropped",
			req: func(t *testing.T) tokenRequest {
				r := grant(e.jag(t, func(c map[string]any) { c["scope"] = "issues.read" }))
				r.form.Set("scope", "issues.read issues.write")
				return r
			},
			wantClient: confidentialClient, wantScope: "issues.read",
		},
		{
			name: "expired within the skew",
			req: func(t *testing.T) tokenRequest {
				now := e.clock.Now()
				return grant(e.jag(t, func(c map[string]any) {
					c["iat"] = now.Add(-5 * time.Minute).Unix()
					c["exp"] = now.Add(-20 * time.Second).Unix()
				}))
			},
			wantClient: confidentialClient, wantScope: "issues.read issues.write",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.post(t, tt.req(t))
			if r.status != http.StatusOK {
				t.Fatalf("HTTP %d %s", r.status, r.raw)
			}
			if r.str("token_type") != "Bearer" || r.body["expires_in"] != float64(3600) || r.str("scope") != tt.wantScope {
				t.Errorf("response %s, want Bearer, expires_in 3600, scope %q", r.raw, tt.wantScope)
			}
			if _, ok := r.body["refresh_token"]; ok {
				t.Errorf("a refresh token was issued: %s", r.raw)
			}
			if got := r.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			at, err := e.as.VerifyAccessToken(t.Context(), r.str("access_token"), e.mcpURL)
			if err != nil {
				t.Fatalf("VerifyAccessToken: %v", err)
			}
			if at.Subject != alice || at.Email != aliceEmail || at.ClientID != tt.wantClient ||
				strings.Join(at.Scopes, " ") != tt.wantScope || at.Resource != e.mcpURL || at.Issuer != e.asURL {
				t.Errorf("access token %+v", at)
			}
			if want := e.clock.Now().Add(time.Hour); !at.Expiry.Equal(want) {
				t.Errorf("expiry %s, want %s", at.Expiry, want)
			}
		})
	}
}

// TestAccessToken_IsAnRFC9068JWT checks the token with nothing but the
// published JWKS, as an independent resource server would.
func TestAccessToken_IsAnRFC9068JWT(t *testing.T) {
	e := newEnv(t)
	token := e.accessToken(t, "issues.read")

	var set jose.JSONWebKeySet
	getJSON(t, e.asURL+"/jwks", &set)
	if len(set.Keys) != 1 || set.Keys[0].Algorithm != "ES256" || set.Keys[0].Use != "sig" || !set.Keys[0].IsPublic() {
		t.Fatalf("JWKS %+v", set)
	}
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	if typ := tok.Headers[0].ExtraHeaders[jose.HeaderType]; typ != "at+jwt" {
		t.Errorf("typ %v, want at+jwt", typ)
	}
	if kid := tok.Headers[0].KeyID; kid != set.Keys[0].KeyID {
		t.Errorf("kid %q, JWKS has %q", kid, set.Keys[0].KeyID)
	}
	var claims map[string]any
	if err := tok.Claims(set.Keys[0], &claims); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"iss", "sub", "aud", "client_id", "scope", "iat", "exp", "jti", "email"} {
		if _, ok := claims[k]; !ok {
			t.Errorf("claim %s missing from %v", k, claims)
		}
	}
	if claims["aud"] != e.mcpURL {
		t.Errorf("aud %v, want the string %q", claims["aud"], e.mcpURL)
	}
}

func TestVerifyAccessToken_RefusesOtherTokens(t *testing.T) {
	e := newEnv(t, func(c *authserver.Config) {
		c.Resources = append(c.Resources, "http://127.0.0.1:9/wiki/mcp")
	})
	token := e.accessToken(t, "issues.read")
	parts := strings.Split(token, ".")
	tests := []struct {
		name, token, resource, want string
	}{
		{"another resource", token, "http://127.0.0.1:9/wiki/mcp", "does not include this MCP server"},
		{"an ID-JAG", e.jag(t, nil), e.mcpURL, `typ "oauth-id-jag+jwt" is not "at+jwt"`},
		{"tampered", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"x"}`)) + "." + parts[2], e.mcpURL, "signature"},
		{"garbage", "abc", e.mcpURL, "not an ES256 JWT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.as.VerifyAccessToken(t.Context(), tt.token, tt.resource)
			if !errors.Is(err, authserver.ErrInvalidAccessToken) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrInvalidAccessToken containing %q", err, tt.want)
			}
		})
	}
	t.Run("expired", func(t *testing.T) {
		e.clock.Advance(time.Hour + time.Minute)
		if _, err := e.as.VerifyAccessToken(t.Context(), token, e.mcpURL); err == nil || !strings.Contains(err.Error(), "expired") {
			t.Errorf("err = %v, want expired", err)
		}
	})
}

func TestTokenEndpoint_RefusesReplayedJTI(t *testing.T) {
	e := newEnv(t)
	jag := e.jag(t, nil)
	if r := e.post(t, grant(jag)); r.status != http.StatusOK {
		t.Fatalf("first use: HTTP %d %s", r.status, r.raw)
	}
	r := e.post(t, grant(jag))
	if r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" || !strings.Contains(r.str("error_description"), "already redeemed") {
		t.Fatalf("replay: HTTP %d %s", r.status, r.raw)
	}
	if _, ok := r.body["access_token"]; ok {
		t.Error("replay got an access token")
	}
}

func TestTokenEndpoint_RefusedRequestDoesNotBurnTheJTI(t *testing.T) {
	e := newEnv(t)
	jag := e.jag(t, nil)
	bad := grant(jag)
	bad.form.Set("scope", "nothing.granted")
	if r := e.post(t, bad); r.str("error") != "invalid_scope" {
		t.Fatalf("HTTP %d %s, want invalid_scope", r.status, r.raw)
	}
	if r := e.post(t, grant(jag)); r.status != http.StatusOK {
		t.Fatalf("retry: HTTP %d %s", r.status, r.raw)
	}
}

func TestTokenEndpoint_AllowReplayAcceptsResubmission(t *testing.T) {
	e := newEnv(t, func(c *authserver.Config) { c.AllowReplay = true })
	jag := e.jag(t, nil)
	seen := map[string]bool{}
	for i := range 3 {
		r := e.post(t, grant(jag))
		if r.status != http.StatusOK {
			t.Fatalf("use %d: HTTP %d %s", i+1, r.status, r.raw)
		}
		at, err := e.as.VerifyAccessToken(t.Context(), r.str("access_token"), e.mcpURL)
		if err != nil {
			t.Fatalf("use %d: %v", i+1, err)
		}
		if seen[at.ID] {
			t.Fatalf("use %d: access token jti %q issued before; each use gets a new access token", i+1, at.ID)
		}
		seen[at.ID] = true
	}
}

// TestTokenEndpoint_AllowReplayKeepsEveryOtherCheck: accepting an ID-JAG
// again does not accept it once expired, nor from another client.
func TestTokenEndpoint_AllowReplayKeepsEveryOtherCheck(t *testing.T) {
	e := newEnv(t, func(c *authserver.Config) { c.AllowReplay = true })
	jag := e.jag(t, nil)
	if r := e.post(t, grant(jag)); r.status != http.StatusOK {
		t.Fatalf("first use: HTTP %d %s", r.status, r.raw)
	}
	other := grant(jag)
	other.basic = &[2]string{otherClient, otherSecret}
	wantRefused(t, e.post(t, other), http.StatusBadRequest, "invalid_grant", "client_id")
	e.clock.Advance(5*time.Minute + 31*time.Second) // exp + skew
	r := e.post(t, grant(jag))
	wantRefused(t, r, http.StatusBadRequest, "invalid_grant", "expired")
	if _, ok := r.body["access_token"]; ok {
		t.Error("an expired ID-JAG got an access token")
	}
}

func TestTokenEndpoint_FullReplayCacheRefusesInsteadOfForgetting(t *testing.T) {
	e := newEnv(t, func(c *authserver.Config) { c.ReplayCacheSize = 2 })
	for i := range 2 {
		if r := e.post(t, grant(e.jag(t, nil))); r.status != http.StatusOK {
			t.Fatalf("grant %d: HTTP %d %s", i+1, r.status, r.raw)
		}
	}
	r := e.post(t, grant(e.jag(t, nil)))
	if r.status != http.StatusServiceUnavailable || r.str("error") != "temporarily_unavailable" || r.header.Get("Retry-After") == "" {
		t.Fatalf("cache full: HTTP %d %s (Retry-After %q)", r.status, r.raw, r.header.Get("Retry-After"))
	}
	// Once the first ID-JAGs have expired (exp + skew), their slots free up.
	e.clock.Advance(5*time.Minute + 31*time.Second)
	if r := e.post(t, grant(e.jag(t, nil))); r.status != http.StatusOK {
		t.Fatalf("after expiry: HTTP %d %s", r.status, r.raw)
	}
}

// TestJWKS_RefetchesOnceForANewKid rolls the IdP key: the new kid costs one
// JWKS fetch, and unknown kids cannot make us fetch more than once per few
// seconds (a burst of them: TestJWKS_NewKidRightAfterAFetchIsAccepted).
func TestJWKS_RefetchesOnceForANewKid(t *testing.T) {
	e := newEnv(t)
	ok := func(step string) {
		t.Helper()
		if r := e.post(t, grant(e.jag(t, nil))); r.status != http.StatusOK {
			t.Fatalf("%s: HTTP %d %s", step, r.status, r.raw)
		}
	}
	hits := func(want int64, step string) {
		t.Helper()
		if got := e.idp.jwksHits.Load(); got != want {
			t.Fatalf("%s: %d JWKS fetches, want %d", step, got, want)
		}
	}
	rogue := func() {
		t.Helper()
		r := e.post(t, grant(sign(t, e.claims(), authserver.IDJAGType, "rogue", jose.ES256, newECKey(t))))
		if r.str("error") != "invalid_grant" {
			t.Fatalf("rogue kid: HTTP %d %s", r.status, r.raw)
		}
	}

	ok("first key")
	hits(1, "first key")
	ok("first key again")
	hits(1, "cached key")

	e.clock.Advance(10 * time.Second)
	e.idp.rotate(t)
	ok("rotated key")
	hits(2, "rotated key")

	// An unknown kid right after a fetch waits for the interval's end and
	// its one fetch (TestJWKS_NewKidRightAfterAFetchIsAccepted).
	e.clock.Advance(6 * time.Second)
	rogue()
	hits(3, "unknown kid after the minimum interval")
	rogue()
	hits(4, "unknown kid right after a fetch, once the interval has passed")
	e.clock.Advance(6 * time.Second)
	rogue()
	hits(5, "unknown kid after the minimum interval")
}

func TestJWKS_UnreachableIdPIsTemporary(t *testing.T) {
	e := newEnv(t)
	e.idp.jwksDown.Store(true)
	r := e.post(t, grant(e.jag(t, nil)))
	if r.status != http.StatusServiceUnavailable || r.str("error") != "temporarily_unavailable" || !strings.Contains(r.str("error_description"), "HTTP 502") {
		t.Fatalf("HTTP %d %s", r.status, r.raw)
	}
	e.idp.jwksDown.Store(false)
	e.clock.Advance(6 * time.Second)
	if r := e.post(t, grant(e.jag(t, nil))); r.status != http.StatusOK {
		t.Fatalf("after recovery: HTTP %d %s", r.status, r.raw)
	}
}

// TestJWKS_ASlowFailingIdPIsAskedAtAPace: an IdP whose JWKS takes longer
// than the refetch interval to fail (a hung IdP, a delay fault at its
// jwks endpoint) is asked once, and the ID-JAGs that arrive right after
// the failed fetch are refused at once, not each made to wait for a fetch
// of its own: the interval counts from the end of the last attempt.
func TestJWKS_ASlowFailingIdPIsAskedAtAPace(t *testing.T) {
	e := newEnv(t)
	e.idp.jwksDown.Store(true)
	slow := func() { e.clock.Advance(jwksFetchTook) }
	e.idp.jwksSlow.Store(&slow)
	for i := range 3 {
		if r := e.post(t, grant(e.jag(t, nil))); r.status != http.StatusServiceUnavailable || r.str("error") != "temporarily_unavailable" {
			t.Fatalf("request %d while the IdP is down: HTTP %d %s", i+1, r.status, r.raw)
		}
	}
	if got := e.idp.jwksHits.Load(); got != 1 {
		t.Errorf("%d JWKS fetches for three ID-JAGs arriving as the first fetch failed, want 1", got)
	}
	e.idp.jwksSlow.Store(nil)
	e.idp.jwksDown.Store(false)
	e.clock.Advance(6 * time.Second)
	if r := e.post(t, grant(e.jag(t, nil))); r.status != http.StatusOK {
		t.Fatalf("after recovery: HTTP %d %s", r.status, r.raw)
	}
}

// jwksFetchTook is how long the slow IdP of
// TestJWKS_ASlowFailingIdPIsAskedAtAPace takes to fail: longer than the
// refetch interval (5 s), within the fetch timeout (10 s).
const jwksFetchTook = 8 * time.Second

// TestJWKS_StaleKeysAreRefreshedAtAPace: in an IdP outage, keys older
// than their 10 minutes keep verifying ID-JAGs, and the JWKS is asked for
// once per few seconds, not once per token request.
func TestJWKS_StaleKeysAreRefreshedAtAPace(t *testing.T) {
	e := newEnv(t)
	if r := e.post(t, grant(e.jag(t, nil))); r.status != http.StatusOK {
		t.Fatalf("HTTP %d %s", r.status, r.raw)
	}
	e.clock.Advance(11 * time.Minute)
	e.idp.jwksDown.Store(true)
	for i := range 3 {
		if r := e.post(t, grant(e.jag(t, nil))); r.status != http.StatusOK {
			t.Fatalf("request %d with stale keys in the outage: HTTP %d %s", i+1, r.status, r.raw)
		}
	}
	if got := e.idp.jwksHits.Load(); got != 2 {
		t.Errorf("%d JWKS fetches, want 2: the first, and one refresh for three requests", got)
	}
}

// TestJWKS_AFetchForARequestThatWentAwayIsNotAnAttempt: a client that gives
// up while its ID-JAG waits for the IdP's JWKS does not make the next
// request wait out the refetch interval: its fetch said nothing of the IdP.
func TestJWKS_AFetchForARequestThatWentAwayIsNotAnAttempt(t *testing.T) {
	e := newEnv(t)
	hold := make(chan struct{})
	e.idp.jwksHold.Store(&hold)
	hr, err := http.NewRequest(http.MethodPost, e.asURL+"/token", strings.NewReader(grant(e.jag(t, nil)).form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hr.SetBasicAuth(confidentialClient, confidentialSecret)
	impatient := &http.Client{Timeout: 200 * time.Millisecond}
	if resp, err := impatient.Do(hr); err == nil {
		resp.Body.Close()
		t.Fatalf("the held JWKS was answered: HTTP %d", resp.StatusCode)
	}
	// The authorization server sees the client go, and its fetch end.
	deadline := time.Now().Add(60 * time.Second)
	for e.idp.jwksHits.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	e.idp.jwksHold.Store(nil)
	close(hold)
	if r := e.post(t, grant(e.jag(t, nil))); r.status != http.StatusOK {
		t.Fatalf("the next request: HTTP %d %s", r.status, r.raw)
	}
}

func TestTokenEndpoint_GETIsMethodNotAllowed(t *testing.T) {
	e := newEnv(t)
	resp, err := http.Get(e.asURL + "/token")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
		t.Fatalf("HTTP %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

// TestMetadata_MatchesGolden serves the same RFC 8414 document at both
// well-known paths; testdata/as-metadata.json is it with the issuer
// replaced by ISSUER.
func TestMetadata_MatchesGolden(t *testing.T) {
	e := newEnv(t)
	var first []byte
	for _, path := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
		var doc map[string]any
		raw := getJSON(t, e.asURL+path, &doc)
		if first == nil {
			first = raw
		} else if !bytes.Equal(first, raw) {
			t.Errorf("%s differs from the first document", path)
		}
		if doc["issuer"] != e.asURL {
			t.Errorf("%s: issuer %v", path, doc["issuer"])
		}
	}
	var pretty bytes.Buffer
	_ = json.Indent(&pretty, bytes.ReplaceAll(first, []byte(e.asURL), []byte("ISSUER")), "", "  ")
	golden(t, "as-metadata.json", pretty.Bytes())

	// What the official clients insist on, checked on the live document.
	var meta authserver.Metadata
	getJSON(t, e.asURL+"/.well-known/oauth-authorization-server", &meta)
	if meta.AuthorizationEndpoint == "" || len(meta.CodeChallengeMethodsSupported) == 0 ||
		!slices.Contains(meta.GrantTypesSupported, authserver.GrantTypeJWTBearer) ||
		!slices.Contains(meta.AuthorizationGrantProfilesSupported, authserver.GrantProfileIDJAG) {
		t.Errorf("metadata %+v", meta)
	}
}

// TestMetadata_GoSDKFindsIssuerWithTrailingSlash: the Go SDK, configured
// with the authorization server's issuer and a trailing "/" (how the
// TypeScript examples write it), asks for /.well-known/oauth-authorization-server/
// and /.well-known/openid-configuration/ and finds nothing at the other
// URLs it tries.
func TestMetadata_GoSDKFindsIssuerWithTrailingSlash(t *testing.T) {
	e := newEnv(t)
	meta, err := auth.GetAuthServerMetadata(context.Background(), e.asURL+"/", nil)
	if err != nil || meta == nil {
		t.Fatalf("GetAuthServerMetadata(%s/) = %v, %v; want the metadata", e.asURL, meta, err)
	}
	if meta.Issuer != e.asURL || meta.TokenEndpoint != e.asURL+"/token" {
		t.Errorf("issuer %q, token_endpoint %q", meta.Issuer, meta.TokenEndpoint)
	}
}

func TestNew_RejectsBadConfig(t *testing.T) {
	valid := func() authserver.Config {
		return authserver.Config{
			Issuer: "http://127.0.0.1:8101", IdPIssuer: "http://127.0.0.1:8080", IdPJWKSURL: "http://127.0.0.1:8080/keys",
			Resources: []string{"http://127.0.0.1:8201/mcp"}, Clients: map[string]string{"c": "s"},
		}
	}
	if _, err := authserver.New(valid()); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	tests := map[string]func(*authserver.Config){
		"relative issuer":   func(c *authserver.Config) { c.Issuer = "as.example" },
		"no IdP issuer":     func(c *authserver.Config) { c.IdPIssuer = "" },
		"relative JWKS URL": func(c *authserver.Config) { c.IdPJWKSURL = "/keys" },
		"bad Subject":       func(c *authserver.Config) { c.Subject = "username" },
		"issuer trusted twice": func(c *authserver.Config) {
			c.TrustedIssuers = []authserver.TrustedIssuer{{Issuer: c.IdPIssuer}}
		},
		"resource server shares a client_id": func(c *authserver.Config) { c.ResourceServers = map[string]string{"c": "x"} },
		"no resources":                       func(c *authserver.Config) { c.Resources = nil },
		"no clients":                         func(c *authserver.Config) { c.Clients = nil },
		"negative skew":                      func(c *authserver.Config) { c.Skew = -time.Second },
	}
	for name, edit := range tests {
		t.Run(name, func(t *testing.T) {
			c := valid()
			edit(&c)
			if _, err := authserver.New(c); err == nil {
				t.Error("no error")
			}
		})
	}
}

// getJSON fetches url, decodes it into v and returns the raw body.
func getJSON(t *testing.T, url string, v any) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d %s", url, resp.StatusCode, buf.String())
	}
	if err := json.Unmarshal(buf.Bytes(), v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return buf.Bytes()
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	got = append(bytes.TrimSpace(got), '\n')
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; got:\n%s", path, got)
	}
}

// TestServer_IssuerWithPath serves the endpoints under the issuer's
// path and the metadata at the RFC 8414 §3.1 path-inserted well-known URL.
func TestServer_IssuerWithPath(t *testing.T) {
	srv, set := lateServer(t)
	issuer := srv.URL + "/tenants/acme"
	as, err := authserver.New(authserver.Config{
		Issuer: issuer, IdPIssuer: "http://127.0.0.1:9", IdPJWKSURL: "http://127.0.0.1:9/jwks",
		Resources: []string{"http://127.0.0.1:9/mcp"}, Clients: map[string]string{"c": "s"},
	})
	if err != nil {
		t.Fatal(err)
	}
	set(as)
	for _, path := range []string{
		"/.well-known/oauth-authorization-server/tenants/acme",
		"/.well-known/openid-configuration/tenants/acme",
		"/tenants/acme/.well-known/openid-configuration",
	} {
		var meta authserver.Metadata
		getJSON(t, srv.URL+path, &meta)
		if meta.Issuer != issuer || meta.TokenEndpoint != issuer+"/token" {
			t.Errorf("%s: %+v", path, meta.AuthServerMeta)
		}
	}
	var set2 jose.JSONWebKeySet
	getJSON(t, issuer+"/jwks", &set2)
	if len(set2.Keys) != 1 {
		t.Errorf("JWKS %+v", set2)
	}
}

// TestTokenEndpoint_ConcurrentGrants runs grants in parallel, new kids
// included, for the race detector.
func TestTokenEndpoint_ConcurrentGrants(t *testing.T) {
	e := newEnv(t)
	jags := make([]string, 16)
	for i := range jags {
		jags[i] = e.jag(t, nil)
	}
	e.idp.rotate(t)
	e.clock.Advance(10 * time.Second)
	for i := 0; i < len(jags); i += 2 {
		jags[i] = e.jag(t, nil) // signed with the new key
	}
	tokens := make([]string, len(jags))
	var wg sync.WaitGroup
	for i, jag := range jags {
		wg.Go(func() {
			if r := e.post(t, grant(jag)); r.status == http.StatusOK {
				tokens[i] = r.str("access_token")
			} else {
				t.Errorf("grant %d: HTTP %d %s", i, r.status, r.raw)
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, tok := range tokens {
		at, err := e.as.VerifyAccessToken(t.Context(), tok, e.mcpURL)
		if err != nil {
			t.Fatal(err)
		}
		if seen[at.ID] {
			t.Errorf("jti %s issued twice", at.ID)
		}
		seen[at.ID] = true
	}
}

// TestTokenEndpoint_MisplacedTokenIsNotEchoed: a client that sends its
// ID-JAG as its client_id, a resource or the grant_type gets a refusal
// whose description names the token by its header alone, as the IdP's
// do: clients log error descriptions.
func TestTokenEndpoint_MisplacedTokenIsNotEchoed(t *testing.T) {
	e := newEnv(t)
	jag := e.jag(t, nil)
	sig := jag[strings.LastIndex(jag, ".")+1:]
	asClient := grant(jag)
	asClient.basic = &[2]string{jag, "x"}
	asResource := grant(jag)
	asResource.form.Set("resource", jag)
	asGrantType := grant(jag)
	asGrantType.form.Set("grant_type", jag)
	for name, req := range map[string]tokenRequest{"client_id": asClient, "resource": asResource, "grant_type": asGrantType} {
		r := e.post(t, req)
		if r.status < 400 || strings.Contains(r.raw, sig) {
			t.Errorf("the ID-JAG as %s: HTTP %d %s", name, r.status, r.raw)
		}
	}
}

// TestTokenEndpoint_OneUserCannotFillReplayCache: one user redeeming ID-JAG
// after ID-JAG (a script with a valid login: the IdP mints them by the
// hundred a second) cannot fill the replay cache that every user's grants
// need. Once it is half full, a user who holds 1% of it (at least 10) is
// refused, with 503 and Retry-After, while another user's grant still
// passes.
func TestTokenEndpoint_OneUserCannotFillReplayCache(t *testing.T) {
	e := newEnv(t, func(c *authserver.Config) { c.ReplayCacheSize = 100 })
	as := func(sub string) func(map[string]any) { return func(c map[string]any) { c["sub"] = sub } }
	granted := 0
	for ; granted < 100; granted++ {
		r := e.post(t, grant(e.jag(t, as("u-alice"))))
		if r.status == http.StatusOK {
			continue
		}
		if r.status != http.StatusServiceUnavailable || r.str("error") != "temporarily_unavailable" || r.header.Get("Retry-After") == "" {
			t.Fatalf("alice's grant %d: HTTP %d %s (Retry-After %q), want 503 temporarily_unavailable with Retry-After", granted+1, r.status, r.raw, r.header.Get("Retry-After"))
		}
		break
	}
	if granted != 50 {
		t.Errorf("alice was refused after %d grants, want 50 (half the cache)", granted)
	}
	if r := e.post(t, grant(e.jag(t, as("u-bob")))); r.status != http.StatusOK {
		t.Fatalf("bob's grant after alice's flood: HTTP %d %s, want 200", r.status, r.raw)
	}
	// Once alice's ID-JAGs have expired (exp + skew), she is served again.
	e.clock.Advance(5*time.Minute + 31*time.Second)
	if r := e.post(t, grant(e.jag(t, as("u-alice")))); r.status != http.StatusOK {
		t.Fatalf("alice's grant after her ID-JAGs expired: HTTP %d %s, want 200", r.status, r.raw)
	}
}
