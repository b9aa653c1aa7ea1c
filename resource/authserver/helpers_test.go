package authserver_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// The demo's tracker connection (fixtures/demo.yaml), as the authorization
// server sees it.
const (
	confidentialClient = "mcp-client-at-tracker"
	// confidentialSecret has characters RFC 6749 §2.3.1 form-encoding
	// changes, to tell encoded from raw Basic credentials.
	confidentialSecret = "s3cret:+/%é"
	publicClient       = "mcp-public-at-tracker"
	otherClient        = "mcp-client-at-wiki"
	otherSecret        = "wiki-secret"
	alice              = "00u-alice"
	aliceEmail         = "alice@acme.example"
)

var trackerScopes = []string{"issues.read", "issues.write"}

// clock is a settable test clock shared by the fake IdP and the server.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeIdP is the enterprise IdP as the authorization server sees it: an
// ES256 key, a JWKS endpoint, and a minting helper. With exchange set it
// also serves RFC 8414 metadata and a token endpoint, for the SDK client.
type fakeIdP struct {
	srv      *httptest.Server
	issuer   string
	now      func() time.Time
	jwksHits atomic.Int64
	jwksDown atomic.Bool
	// jwksHold, when set, holds each JWKS request until it is closed.
	jwksHold atomic.Pointer[chan struct{}]
	// jwksSlow, when set, runs on each JWKS request before it is
	// answered: a test advances its clock there, for an IdP slow to answer.
	jwksSlow atomic.Pointer[func()]

	mu      sync.Mutex
	keys    []jose.JSONWebKey // published
	signing jose.JSONWebKey   // private, current

	// exchange answers POST /token when set.
	exchange http.HandlerFunc
}

func newFakeIdP(t testing.TB, now func() time.Time) *fakeIdP {
	t.Helper()
	p := &fakeIdP{now: now}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		p.jwksHits.Add(1)
		if slow := p.jwksSlow.Load(); slow != nil {
			(*slow)()
		}
		if hold := p.jwksHold.Load(); hold != nil {
			select {
			case <-*hold:
			case <-r.Context().Done():
				return
			}
		}
		if p.jwksDown.Load() {
			http.Error(w, "down for maintenance", http.StatusBadGateway)
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: p.keys})
	})
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                           p.issuer,
			"authorization_endpoint":           p.issuer + "/authorize",
			"token_endpoint":                   p.issuer + "/token",
			"jwks_uri":                         p.issuer + "/jwks",
			"response_types_supported":         []string{"code"},
			"grant_types_supported":            []string{"authorization_code", "urn:ietf:params:oauth:grant-type:token-exchange"},
			"code_challenge_methods_supported": []string{"S256"},
		})
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		if p.exchange == nil {
			http.NotFound(w, r)
			return
		}
		p.exchange(w, r)
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	p.issuer = p.srv.URL
	p.rotate(t)
	return p
}

func (p *fakeIdP) jwksURL() string { return p.issuer + "/jwks" }

// rotate publishes a new key and signs with it from now on; the old keys
// stay published, as in a real rollover.
func (p *fakeIdP) rotate(t testing.TB) string {
	t.Helper()
	key := newECKey(t)
	p.mu.Lock()
	defer p.mu.Unlock()
	kid := fmt.Sprintf("idp-key-%d", len(p.keys)+1)
	p.signing = jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: "ES256", Use: "sig"}
	p.keys = append(p.keys, p.signing.Public())
	return kid
}

func (p *fakeIdP) currentKey() jose.JSONWebKey {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.signing
}

// claims returns the claims of a valid ID-JAG for alice and the tracker.
func (p *fakeIdP) claims(asIssuer, resourceURL string) map[string]any {
	now := p.now()
	return map[string]any{
		"iss":       p.issuer,
		"sub":       alice,
		"aud":       asIssuer,
		"client_id": confidentialClient,
		"jti":       randomString(),
		"iat":       now.Unix(),
		"exp":       now.Add(5 * time.Minute).Unix(),
		"resource":  resourceURL,
		"scope":     "issues.read issues.write",
		"email":     aliceEmail,
	}
}

// mint signs claims as an ID-JAG with the IdP's current key.
func (p *fakeIdP) mint(t testing.TB, claims map[string]any) string {
	k := p.currentKey()
	return sign(t, claims, authserver.IDJAGType, k.KeyID, jose.ES256, k.Key)
}

// sign serializes claims as a compact JWS with the given header values.
func sign(t testing.TB, claims map[string]any, typ, kid string, alg jose.SignatureAlgorithm, key any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		t.Fatalf("signer: %v", err)
	}
	tok, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return tok
}

// unsigned builds an alg "none" JWT (RFC 7519 §6).
func unsigned(t testing.TB, claims map[string]any, kid string) string {
	t.Helper()
	h, _ := json.Marshal(map[string]any{"alg": "none", "typ": authserver.IDJAGType, "kid": kid})
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc(h) + "." + enc(c) + "."
}

func newECKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func randomString() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// lateServer is an httptest server whose URL is known before its handler
// exists, since the handlers need their own URL (issuer, resource).
func lateServer(t testing.TB) (*httptest.Server, func(http.Handler)) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	var h atomic.Value
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.Load().(http.Handler).ServeHTTP(w, r)
	})
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, func(handler http.Handler) { h.Store(handler) }
}

// env is a fake IdP and an authorization server for the tracker MCP
// server, whose address is reserved for tests that serve it (setMCP).
type env struct {
	idp    *fakeIdP
	as     *authserver.Server
	asURL  string
	mcpURL string // the tracker's resource identifier
	setMCP func(http.Handler)
	clock  *clock
	cfg    authserver.Config  // what as was made with
	setAS  func(http.Handler) // serves another handler at asURL
}

type envOption func(*authserver.Config)

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	e := &env{clock: newClock()}
	e.idp = newFakeIdP(t, e.clock.Now)
	asSrv, setAS := lateServer(t)
	mcpSrv, setMCP := lateServer(t)
	e.asURL, e.mcpURL, e.setMCP = asSrv.URL, mcpSrv.URL+"/mcp", setMCP
	cfg := authserver.Config{
		Issuer:     e.asURL,
		IdPIssuer:  e.idp.issuer,
		IdPJWKSURL: e.idp.jwksURL(),
		Resources:  []string{e.mcpURL},
		Scopes:     trackerScopes,
		Clients: map[string]string{
			confidentialClient: confidentialSecret,
			publicClient:       "",
			otherClient:        otherSecret,
		},
		// The clock stands for time passing: the wall clock too.
		Now:  e.clock.Now,
		Wall: e.clock.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	as, err := authserver.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.as, e.cfg, e.setAS = as, cfg, setAS
	setAS(as)
	return e
}

// claims returns valid ID-JAG claims for this environment.
func (e *env) claims() map[string]any { return e.idp.claims(e.asURL, e.mcpURL) }

// jag mints a valid ID-JAG, changed by edit.
func (e *env) jag(t testing.TB, edit func(map[string]any)) string {
	c := e.claims()
	if edit != nil {
		edit(c)
	}
	return e.idp.mint(t, c)
}

// tokenRequest is one call of the token endpoint.
type tokenRequest struct {
	form        url.Values
	basic       *[2]string // raw id and secret; form-encoded before base64
	rawBasic    string     // Authorization header as is, overrides basic
	contentType string
	dpop        []string // one DPoP header each
}

// grant is the JWT bearer grant with Basic authentication, the TypeScript
// client's shape.
func grant(assertion string) tokenRequest {
	return tokenRequest{
		form:  url.Values{"grant_type": {authserver.GrantTypeJWTBearer}, "assertion": {assertion}},
		basic: &[2]string{confidentialClient, confidentialSecret},
	}
}

type tokenReply struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r tokenReply) str(k string) string { s, _ := r.body[k].(string); return s }

func (e *env) post(t testing.TB, req tokenRequest) tokenReply {
	t.Helper()
	hr, err := http.NewRequest(http.MethodPost, e.asURL+"/token", strings.NewReader(req.form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	ct := req.contentType
	if ct == "" {
		ct = "application/x-www-form-urlencoded"
	}
	hr.Header.Set("Content-Type", ct)
	switch {
	case req.rawBasic != "":
		hr.Header.Set("Authorization", req.rawBasic)
	case req.basic != nil:
		hr.SetBasicAuth(url.QueryEscape(req.basic[0]), url.QueryEscape(req.basic[1]))
	}
	for _, p := range req.dpop {
		hr.Header.Add("DPoP", p)
	}
	return do(t, hr)
}

func do(t testing.TB, hr *http.Request) tokenReply {
	t.Helper()
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := tokenReply{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if err := json.Unmarshal(raw, &r.body); err != nil {
		t.Fatalf("%s %s: HTTP %d, body is not JSON: %q", hr.Method, hr.URL, resp.StatusCode, raw)
	}
	return r
}

// accessToken runs the grant and returns the access token, failing the
// test otherwise.
func (e *env) accessToken(t testing.TB, scope string) string {
	t.Helper()
	c := e.claims()
	c["scope"] = scope
	r := e.post(t, grant(e.idp.mint(t, c)))
	if r.status != http.StatusOK {
		t.Fatalf("token endpoint: HTTP %d %s", r.status, r.raw)
	}
	return r.str("access_token")
}
