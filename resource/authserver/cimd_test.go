package authserver_test

import (
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/xaa-idp/xaa-idp/internal/cimd"
	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// metadataClients publishes Client ID Metadata Documents on loopback.
type metadataClients struct {
	srv  *httptest.Server
	mux  *http.ServeMux
	key  *ecdsa.PrivateKey // the private_key_jwt client's key
	jwt  string            // client_id of a private_key_jwt client
	none string            // client_id of a public client
}

func newMetadataClients(t *testing.T) *metadataClients {
	t.Helper()
	m := &metadataClients{mux: http.NewServeMux(), key: newECKey(t)}
	m.srv = httptest.NewServer(m.mux)
	t.Cleanup(m.srv.Close)
	m.jwt = m.publish("/jwt-client.json", map[string]any{
		"token_endpoint_auth_method": "private_key_jwt",
		"jwks":                       jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &m.key.PublicKey, KeyID: "client-key", Algorithm: "ES256", Use: "sig"}}},
	})
	m.none = m.publish("/public-client.json", map[string]any{"token_endpoint_auth_method": "none"})
	return m
}

// publish serves a document with client_id and redirect_uris filled in,
// then the given members.
func (m *metadataClients) publish(path string, members map[string]any) string {
	id := m.srv.URL + path
	doc := map[string]any{"client_id": id, "client_name": path, "redirect_uris": []string{"http://127.0.0.1/callback"}}
	for k, v := range members {
		doc[k] = v
	}
	m.mux.HandleFunc(path, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	})
	return id
}

// assertion signs an RFC 7523 §2.2 client assertion of the private_key_jwt
// client, changed by edit.
func (m *metadataClients) assertion(t *testing.T, aud string, now time.Time, edit func(map[string]any)) string {
	c := map[string]any{
		"iss": m.jwt, "sub": m.jwt, "aud": aud, "jti": randomString(),
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
	}
	if edit != nil {
		edit(c)
	}
	return sign(t, c, "JWT", "client-key", jose.ES256, m.key)
}

// metadataGrant is the JWT bearer grant of a metadata-document client:
// client_id alone, or a client assertion.
func metadataGrant(jag, clientID, assertion string) tokenRequest {
	form := url.Values{"grant_type": {authserver.GrantTypeJWTBearer}, "assertion": {jag}}
	if clientID != "" {
		form.Set("client_id", clientID)
	}
	if assertion != "" {
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", assertion)
	}
	return tokenRequest{form: form}
}

func TestTokenEndpoint_MetadataDocumentClients(t *testing.T) {
	m := newMetadataClients(t)
	secretDoc := m.publish("/secret.json", map[string]any{"token_endpoint_auth_method": "none", "client_secret": "s"})
	e := newEnv(t, func(c *authserver.Config) {
		c.CIMD = cimd.New(cimd.DefaultConfig(), &cimd.Options{Timeout: time.Second})
	})
	now := e.clock.Now()
	jagFor := func(clientID string) string {
		return e.jag(t, func(c map[string]any) { c["client_id"] = clientID })
	}
	otherKey := newECKey(t)
	usedAssertion := m.assertion(t, e.asURL, now, nil)
	tests := []struct {
		name       string
		req        func(t *testing.T) tokenRequest
		wantStatus int
		wantError  string
		wantDesc   string
	}{
		{
			name:       "public client, client_id alone",
			req:        func(t *testing.T) tokenRequest { return metadataGrant(jagFor(m.none), m.none, "") },
			wantStatus: 200,
		},
		{
			name: "private_key_jwt, aud the issuer",
			req: func(t *testing.T) tokenRequest {
				return metadataGrant(jagFor(m.jwt), "", m.assertion(t, e.asURL, now, nil))
			},
			wantStatus: 200,
		},
		{
			name: "private_key_jwt, aud the token endpoint, client_id sent too",
			req: func(t *testing.T) tokenRequest {
				return metadataGrant(jagFor(m.jwt), m.jwt, m.assertion(t, e.asURL+"/token", now, nil))
			},
			wantStatus: 200,
		},
		{
			name:       "ID-JAG client_id is not the URL",
			req:        func(t *testing.T) tokenRequest { return metadataGrant(jagFor(confidentialClient), m.none, "") },
			wantStatus: 400, wantError: "invalid_grant", wantDesc: `client_id 'mcp-client-at-tracker' is not the authenticated client '` + m.none + `'`,
		},
		{
			name: "assertion signed by another key",
			req: func(t *testing.T) tokenRequest {
				return metadataGrant(jagFor(m.jwt), "", signAs(t, m, otherKey, e.asURL, now))
			},
			wantStatus: 401, wantError: "invalid_client", wantDesc: "does not verify with any key of the metadata document",
		},
		{
			// RFC 7515 section 4.1.11; it was refused as a signature
			// that does not verify.
			name: "assertion whose crit names an unknown extension",
			req: func(t *testing.T) tokenRequest {
				signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: m.key, KeyID: "client-key"}},
					(&jose.SignerOptions{}).WithCritical("urn:example:ext").WithHeader("urn:example:ext", true))
				if err != nil {
					t.Fatal(err)
				}
				a, err := jwt.Signed(signer).Claims(map[string]any{"iss": m.jwt, "sub": m.jwt, "aud": e.asURL, "jti": randomString(),
					"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}).Serialize()
				if err != nil {
					t.Fatal(err)
				}
				return metadataGrant(jagFor(m.jwt), "", a)
			},
			wantStatus: 401, wantError: "invalid_client", wantDesc: `crit names 'urn:example:ext'`,
		},
		{
			// As at the IdP (go-jose's Validate): the replay floor after
			// a torn record trusts iat, which must then not be ahead.
			name: "assertion issued in the future",
			req: func(t *testing.T) tokenRequest {
				return metadataGrant(jagFor(m.jwt), "", m.assertion(t, e.asURL, now, func(c map[string]any) { c["iat"] = now.Add(10 * time.Minute).Unix() }))
			},
			wantStatus: 401, wantError: "invalid_client", wantDesc: "was issued in the future",
		},
		{
			name: "assertion for another audience",
			req: func(t *testing.T) tokenRequest {
				return metadataGrant(jagFor(m.jwt), "", m.assertion(t, "https://other.example", now, nil))
			},
			wantStatus: 401, wantError: "invalid_client", wantDesc: `aud ['https://other.example'] is neither`,
		},
		{
			name: "assertion expired",
			req: func(t *testing.T) tokenRequest {
				return metadataGrant(jagFor(m.jwt), "", m.assertion(t, e.asURL, now, func(c map[string]any) { c["exp"] = now.Add(-time.Minute).Unix() }))
			},
			wantStatus: 401, wantError: "invalid_client", wantDesc: "the client assertion expired",
		},
		{
			name: "assertion without jti",
			req: func(t *testing.T) tokenRequest {
				return metadataGrant(jagFor(m.jwt), "", m.assertion(t, e.asURL, now, func(c map[string]any) { delete(c, "jti") }))
			},
			wantStatus: 401, wantError: "invalid_client", wantDesc: "has no jti",
		},
		{
			name: "assertion replayed",
			req: func(t *testing.T) tokenRequest {
				if r := e.post(t, metadataGrant(jagFor(m.jwt), "", usedAssertion)); r.status != 200 {
					t.Fatalf("first use: HTTP %d %s", r.status, r.raw)
				}
				return metadataGrant(jagFor(m.jwt), "", usedAssertion)
			},
			wantStatus: 401, wantError: "invalid_client", wantDesc: "was already used",
		},
		{
			name: "assertion sub is not iss",
			req: func(t *testing.T) tokenRequest {
				return metadataGrant(jagFor(m.jwt), "", m.assertion(t, e.asURL, now, func(c map[string]any) { c["sub"] = "someone" }))
			},
			wantStatus: 401, wantError: "invalid_client", wantDesc: "must both be the client_id",
		},
		{
			name: "wrong client_assertion_type",
			req: func(t *testing.T) tokenRequest {
				r := metadataGrant(jagFor(m.jwt), "", m.assertion(t, e.asURL, now, nil))
				r.form.Set("client_assertion_type", "urn:example:saml")
				return r
			},
			wantStatus: 401, wantError: "invalid_client", wantDesc: `client_assertion_type 'urn:example:saml'`,
		},
		{
			name: "client_id of another client than the assertion",
			req: func(t *testing.T) tokenRequest {
				return metadataGrant(jagFor(m.jwt), m.none, m.assertion(t, e.asURL, now, nil))
			},
			wantStatus: 401, wantError: "invalid_client", wantDesc: "is not the client assertion's iss",
		},
		{
			name:       "private_key_jwt client sends client_id alone",
			req:        func(t *testing.T) tokenRequest { return metadataGrant(jagFor(m.jwt), m.jwt, "") },
			wantStatus: 401, wantError: "invalid_client", wantDesc: "authenticates with private_key_jwt",
		},
		{
			name: "public client sends an assertion",
			req: func(t *testing.T) tokenRequest {
				return metadataGrant(jagFor(m.none), "", m.assertion(t, e.asURL, now, func(c map[string]any) { c["iss"], c["sub"] = m.none, m.none }))
			},
			wantStatus: 401, wantError: "invalid_client", wantDesc: "authenticates with none",
		},
		{
			name: "public client sends a secret",
			req: func(t *testing.T) tokenRequest {
				r := metadataGrant(jagFor(m.none), m.none, "")
				r.form.Set("client_secret", "x")
				return r
			},
			wantStatus: 401, wantError: "invalid_client", wantDesc: "no secret",
		},
		{
			name:       "document with a client_secret",
			req:        func(t *testing.T) tokenRequest { return metadataGrant(jagFor(secretDoc), secretDoc, "") },
			wantStatus: 401, wantError: "invalid_client", wantDesc: "contains a client_secret",
		},
		{
			name: "document missing",
			req: func(t *testing.T) tokenRequest {
				return metadataGrant(jagFor(m.srv.URL+"/gone.json"), m.srv.URL+"/gone.json", "")
			},
			wantStatus: 401, wantError: "invalid_client", wantDesc: "HTTP 404",
		},
		{
			name: "registered client tries private_key_jwt",
			req: func(t *testing.T) tokenRequest {
				return metadataGrant(jagFor(confidentialClient), "", m.assertion(t, e.asURL, now, func(c map[string]any) { c["iss"], c["sub"] = confidentialClient, confidentialClient }))
			},
			wantStatus: 401, wantError: "invalid_client", wantDesc: "only clients registered with keys or with a Client ID Metadata Document",
		},
		{
			name: "assertion and client secret at once",
			req: func(t *testing.T) tokenRequest {
				r := metadataGrant(jagFor(m.jwt), "", m.assertion(t, e.asURL, now, nil))
				r.basic = &[2]string{confidentialClient, confidentialSecret}
				return r
			},
			wantStatus: 400, wantError: "invalid_request", wantDesc: "both a client assertion and a client secret",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.post(t, tt.req(t))
			if r.status != tt.wantStatus || r.str("error") != tt.wantError || !strings.Contains(r.str("error_description"), tt.wantDesc) {
				t.Fatalf("HTTP %d %s, want %d %q with %q", r.status, r.raw, tt.wantStatus, tt.wantError, tt.wantDesc)
			}
			if r.header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q", r.header.Get("Cache-Control"))
			}
		})
	}
}

// TestTokenEndpoint_MetadataDocumentClientsNeedCIMD: without a resolver,
// and for URLs outside its allow list, a URL client_id is refused unfetched.
func TestTokenEndpoint_MetadataDocumentClientsNeedCIMD(t *testing.T) {
	m := newMetadataClients(t)
	tests := []struct {
		name     string
		resolver *cimd.Resolver
		wantDesc string
	}{
		{"no resolver", nil, `unknown client '` + m.none + `'`},
		{"disabled", cimd.New(cimd.Config{Enabled: false}, nil), "client ID metadata documents are disabled"},
		{"not allowed", cimd.New(cimd.Config{Enabled: true, Allow: []string{"https://*"}}, nil), "matches no allowed pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *authserver.Config) { c.CIMD = tt.resolver })
			r := e.post(t, metadataGrant(e.jag(t, func(c map[string]any) { c["client_id"] = m.none }), m.none, ""))
			if r.status != 401 || r.str("error") != "invalid_client" || !strings.Contains(r.str("error_description"), tt.wantDesc) {
				t.Fatalf("HTTP %d %s, want invalid_client with %q", r.status, r.raw, tt.wantDesc)
			}
		})
	}
}

// TestAuthorize_MetadataDocumentClient redirects to a URI of the document.
func TestAuthorize_MetadataDocumentClient(t *testing.T) {
	m := newMetadataClients(t)
	e := newEnv(t, func(c *authserver.Config) { c.CIMD = cimd.New(cimd.DefaultConfig(), nil) })
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(e.asURL + "/authorize?" + url.Values{"client_id": {m.none}, "redirect_uri": {"http://127.0.0.1:4000/callback"}, "state": {"st"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, "http://127.0.0.1:4000/callback?") || !strings.Contains(loc, "state=st") {
		t.Fatalf("HTTP %d Location %q", resp.StatusCode, loc)
	}
}

// signAs signs the private_key_jwt client's assertion with another key.
func signAs(t *testing.T, m *metadataClients, key *ecdsa.PrivateKey, aud string, now time.Time) string {
	c := map[string]any{"iss": m.jwt, "sub": m.jwt, "aud": aud, "jti": randomString(), "exp": now.Add(time.Minute).Unix()}
	return sign(t, c, "JWT", "client-key", jose.ES256, key)
}

// TestTokenEndpoint_MetadataDocumentClientInBasic: a client_id that is a
// metadata document URL authenticates as its document says, also when the
// static client list names it (as demo.Stack registers the metadata
// clients an MCP server maps, with no secret): client_secret_basic with an
// empty secret must not stand in for the document's private_key_jwt.
func TestTokenEndpoint_MetadataDocumentClientInBasic(t *testing.T) {
	m := newMetadataClients(t)
	e := newEnv(t, func(c *authserver.Config) {
		c.CIMD = cimd.New(cimd.DefaultConfig(), &cimd.Options{Timeout: time.Second})
		c.Clients[m.jwt] = ""
		c.Clients[m.none] = ""
	})
	for _, id := range []string{m.jwt, m.none} {
		t.Run(id, func(t *testing.T) {
			r := grant(e.jag(t, func(c map[string]any) { c["client_id"] = id }))
			r.basic = &[2]string{id, ""}
			got := e.post(t, r)
			if got.status != http.StatusUnauthorized || got.str("error") != "invalid_client" || !strings.Contains(got.str("error_description"), "has a Client ID Metadata Document") {
				t.Fatalf("HTTP %d %s, want 401 invalid_client naming the metadata document", got.status, got.raw)
			}
		})
	}
	t.Run("the document's own method still works", func(t *testing.T) {
		r := e.post(t, metadataGrant(e.jag(t, func(c map[string]any) { c["client_id"] = m.jwt }), "", m.assertion(t, e.asURL, e.clock.Now(), nil)))
		if r.status != http.StatusOK {
			t.Fatalf("HTTP %d %s", r.status, r.raw)
		}
	})
}

// TestTokenEndpoint_ClientAssertionsCannotCrowdOutIDJAGs: anyone can
// publish a metadata document and authenticate with it, and a client
// assertion's jti is remembered until its exp. Assertions meant to live
// for a year, or with huge jtis, are refused (RFC 7523 §3 lets the server
// reject an exp unreasonably far in the future), and the assertions
// remembered never fill the cache the ID-JAGs' jtis need: a full cache
// would answer every grant temporarily_unavailable.
func TestTokenEndpoint_ClientAssertionsCannotCrowdOutIDJAGs(t *testing.T) {
	m := newMetadataClients(t)
	e := newEnv(t, func(c *authserver.Config) {
		c.CIMD = cimd.New(cimd.DefaultConfig(), &cimd.Options{Timeout: time.Second})
		c.ReplayCacheSize = 2
	})
	now := e.clock.Now()
	flood := func(t *testing.T, edit func(map[string]any)) tokenReply {
		// The assertion authenticates; the ID-JAG is junk.
		return e.post(t, metadataGrant("junk", "", m.assertion(t, e.asURL, now, edit)))
	}
	t.Run("an assertion for a year", func(t *testing.T) {
		r := flood(t, func(c map[string]any) { c["exp"] = now.Add(365 * 24 * time.Hour).Unix() })
		if r.status != http.StatusUnauthorized || r.str("error") != "invalid_client" || !strings.Contains(r.str("error_description"), "too far in the future") {
			t.Fatalf("HTTP %d %s, want 401 invalid_client: exp too far in the future", r.status, r.raw)
		}
	})
	t.Run("a 10 KB jti", func(t *testing.T) {
		r := flood(t, func(c map[string]any) { c["jti"] = strings.Repeat("j", 10<<10) })
		if r.status != http.StatusUnauthorized || r.str("error") != "invalid_client" || !strings.Contains(r.str("error_description"), "jti") {
			t.Fatalf("HTTP %d %s, want 401 invalid_client about the jti", r.status, r.raw)
		}
	})
	t.Run("a full assertion cache leaves the grants alone", func(t *testing.T) {
		for i := 0; i < 3; i++ {
			flood(t, nil)
		}
		if r := e.post(t, grant(e.jag(t, nil))); r.status != http.StatusOK {
			t.Fatalf("an ID-JAG grant after the assertion flood: HTTP %d %s", r.status, r.raw)
		}
	})
}

// TestTokenEndpoint_URLClientRegisteredWithASecret: a client_id URL that
// the static client list registers with a secret (demo.Stack does so for a
// confidential IdP client mapped to a URL, as Claude's client_id at every
// MCP server is https://claude.ai/oauth/mcp-oauth-client-metadata)
// authenticates with that secret, Basic or in the body, and its document
// is never fetched: the URL below has no server.
func TestTokenEndpoint_URLClientRegisteredWithASecret(t *testing.T) {
	const id, secret = "https://claude.invalid/oauth/mcp-oauth-client-metadata", "claude-secret"
	e := newEnv(t, func(c *authserver.Config) {
		c.CIMD = cimd.New(cimd.DefaultConfig(), &cimd.Options{Timeout: time.Second})
		c.Clients[id] = secret
		c.RedirectURIs = map[string][]string{id: {"http://127.0.0.1/callback"}}
	})
	jag := func() string { return e.jag(t, func(c map[string]any) { c["client_id"] = id }) }
	basic := func(s string) tokenRequest {
		r := grant(jag())
		r.basic = &[2]string{id, s}
		return r
	}
	rawBasic := func(credentials string) tokenRequest {
		r := grant(jag())
		r.basic = nil
		r.rawBasic = "Basic " + base64.StdEncoding.EncodeToString([]byte(credentials))
		return r
	}
	post := func(s string) tokenRequest {
		r := grant(jag())
		r.basic = nil
		r.form.Set("client_id", id)
		r.form.Set("client_secret", s)
		return r
	}
	tests := []struct {
		name       string
		req        tokenRequest
		wantStatus int
		wantDesc   string
	}{
		{"client_secret_basic", basic(secret), http.StatusOK, ""},
		{"client_secret_basic, not form-encoded (the TypeScript client)", rawBasic(id + ":" + secret), http.StatusOK, ""},
		{"client_secret_post", post(secret), http.StatusOK, ""},
		{"wrong secret, Basic not form-encoded", rawBasic(id + ":nope"), http.StatusUnauthorized, "wrong client secret"},
		{"wrong secret, Basic", basic("nope"), http.StatusUnauthorized, "wrong client secret"},
		{"wrong secret, body", post("nope"), http.StatusUnauthorized, "wrong client secret"},
		{"no secret", post(""), http.StatusUnauthorized, "is confidential"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := e.post(t, tt.req)
			if got.status != tt.wantStatus || !strings.Contains(got.str("error_description"), tt.wantDesc) {
				t.Fatalf("HTTP %d %s, want %d with %q", got.status, got.raw, tt.wantStatus, tt.wantDesc)
			}
		})
	}
	t.Run("authorize", func(t *testing.T) {
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Get(e.asURL + "/authorize?" + url.Values{"client_id": {id}, "redirect_uri": {"http://127.0.0.1:4000/callback"}, "state": {"st"}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, "http://127.0.0.1:4000/callback?") {
			t.Fatalf("HTTP %d Location %q, want the registered loopback redirect URI", resp.StatusCode, loc)
		}
	})
}

// TestCIMDRegisteredOnly: with Config.CIMDRegisteredOnly a URL client_id
// is a client only while Clients has it: an unregistered one is unknown
// at the token endpoint (client_id alone or a client assertion), at
// introspection and at /authorize, however well its document resolves;
// registered (with no secret), it authenticates as its document says.
func TestCIMDRegisteredOnly(t *testing.T) {
	m := newMetadataClients(t)
	e := newEnv(t, func(c *authserver.Config) {
		c.CIMD = cimd.New(cimd.DefaultConfig(), &cimd.Options{Timeout: time.Second})
		c.CIMDRegisteredOnly = true
		c.Clients[m.jwt] = ""
	})
	now := e.clock.Now()
	jagFor := func(clientID string) string {
		return e.jag(t, func(c map[string]any) { c["client_id"] = clientID })
	}
	wantUnknown := func(what string, r tokenReply, status int) {
		t.Helper()
		if r.status != status || !strings.Contains(r.str("error_description"), "unknown client") {
			t.Errorf("%s: HTTP %d %s, want %d naming an unknown client", what, r.status, r.raw, status)
		}
	}
	wantUnknown("unregistered, client_id alone", e.post(t, metadataGrant(jagFor(m.none), m.none, "")), http.StatusUnauthorized)
	if r := e.post(t, metadataGrant(jagFor(m.jwt), "", m.assertion(t, e.asURL, now, nil))); r.status != http.StatusOK {
		t.Errorf("registered, private_key_jwt: HTTP %d %s", r.status, r.raw)
	}

	token := e.accessToken(t, "issues.read")
	introspect := func(clientID, assertion string) tokenReply {
		form := url.Values{"token": {token}, "client_id": {clientID}}
		if assertion != "" {
			form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
			form.Set("client_assertion", assertion)
		}
		req, _ := http.NewRequest(http.MethodPost, e.asURL+"/introspect", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return do(t, req)
	}
	if r := introspect(m.jwt, m.assertion(t, e.asURL+"/introspect", now, nil)); r.status != http.StatusOK {
		t.Errorf("registered, introspection: HTTP %d %s", r.status, r.raw)
	}

	// The private_key_jwt client taken off the registration.
	if err := e.as.Update(authserver.Registration{
		TrustedIssuers: []authserver.TrustedIssuer{{Issuer: e.idp.issuer, JWKSURL: e.idp.jwksURL()}},
		Scopes:         trackerScopes,
		Clients:        map[string]string{confidentialClient: confidentialSecret},
	}); err != nil {
		t.Fatal(err)
	}
	wantUnknown("unregistered, private_key_jwt", e.post(t, metadataGrant(jagFor(m.jwt), "", m.assertion(t, e.asURL, now, nil))), http.StatusUnauthorized)
	wantUnknown("unregistered, introspection", introspect(m.jwt, m.assertion(t, e.asURL+"/introspect", now, nil)), http.StatusUnauthorized)
	resp, err := http.Get(e.asURL + "/authorize?" + url.Values{"client_id": {m.jwt}, "redirect_uri": {"http://127.0.0.1:4000/callback"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unregistered, /authorize: HTTP %d, want 400", resp.StatusCode)
	}
}

// TestMetadataDocumentClients_BusyIsNoClientError: while the process
// fetches as many metadata documents as it may (cimd.MaxFetches, shared
// with the IdP under demo), a client whose document is not cached yet is
// answered 503 temporarily_unavailable with Retry-After, as the IdP
// answers it: the client did nothing wrong. The authorization server said
// invalid_client (401) at the token endpoint and invalid_request at
// /authorize, and a client would not try again.
func TestMetadataDocumentClients_BusyIsNoClientError(t *testing.T) {
	m := newMetadataClients(t)
	e := newEnv(t, func(c *authserver.Config) { c.CIMD = cimd.New(cimd.DefaultConfig(), nil) })
	defer cimd.LimitFetches(0)()
	busy := func(what string, status int, retryAfter string, body []byte) {
		t.Helper()
		if status != http.StatusServiceUnavailable || retryAfter == "" || !strings.Contains(string(body), `"temporarily_unavailable"`) {
			t.Errorf("%s while no fetch may start: HTTP %d Retry-After %q %s; want 503 temporarily_unavailable with Retry-After", what, status, retryAfter, body)
		}
	}
	for _, req := range []tokenRequest{
		metadataGrant(e.jag(t, func(c map[string]any) { c["client_id"] = m.none }), m.none, ""),
		metadataGrant(e.jag(t, func(c map[string]any) { c["client_id"] = m.jwt }), "", m.assertion(t, e.asURL, e.clock.Now(), nil)),
	} {
		r := e.post(t, req)
		busy("the token endpoint", r.status, r.header.Get("Retry-After"), []byte(r.raw))
	}
	resp, err := http.Get(e.asURL + "/authorize?" + url.Values{"client_id": {m.none}, "redirect_uri": {"http://127.0.0.1:4000/callback"}, "state": {"st"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	busy("/authorize", resp.StatusCode, resp.Header.Get("Retry-After"), b)
}

// TestTokenEndpoint_RawBasicSplitIsBounded: finding the client_id of raw
// Basic credentials holding ':' tries the text before each later ':'.
// Each try copied the credentials up to that ':': a header of tens of
// kilobytes of ':' cost about a gigabyte of copies for one request anyone
// may send. No client_id is longer than the configuration admits
// (policy.MaxURLBytes), so no longer prefix is tried.
func TestTokenEndpoint_RawBasicSplitIsBounded(t *testing.T) {
	e := newEnv(t)
	r := grant("junk")
	r.rawBasic = "Basic " + base64.StdEncoding.EncodeToString([]byte("urn"+strings.Repeat(":", 48<<10)))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got := e.post(t, r)
	runtime.ReadMemStats(&after)
	if got.status != http.StatusUnauthorized || got.str("error") != "invalid_client" {
		t.Errorf("HTTP %d %s, want 401 invalid_client", got.status, got.raw)
	}
	// Other tests' goroutines allocate meanwhile, hence the slack.
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %d KB", alloc>>10)
	if alloc > 256<<20 {
		t.Errorf("one request with a 64 KiB Basic header of ':' allocated %d MB, want well under 256 MB", alloc>>20)
	}
}
