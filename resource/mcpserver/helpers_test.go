package mcpserver_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/xaa-idp/xaa-idp/resource/authserver"
	"github.com/xaa-idp/xaa-idp/resource/mcpserver"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// The demo's tracker (fixtures/demo.yaml), as its MCP server sees it.
const (
	asIssuer   = "https://as.tracker.example"
	clientID   = "mcp-client-at-tracker"
	alice      = "00u-alice"
	aliceEmail = "alice@acme.example"
)

var trackerScopes = []string{"issues.read", "issues.write"}

// clock is a settable test clock for the MCP server and the proofs.
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

// verifier is the authorization server as an MCP server sees it: a
// [mcpserver.TokenVerifier]. It hands out opaque tokens for the claims a
// test chooses, and refuses unknown tokens and tokens for another
// audience, as authserver does (RFC 9068 §4).
type verifier struct {
	mu     sync.Mutex
	tokens map[string]authserver.AccessToken
}

func (v *verifier) issue(at authserver.AccessToken) string {
	token := randomString()
	v.mu.Lock()
	defer v.mu.Unlock()
	v.tokens[token] = at
	return token
}

func (v *verifier) VerifyAccessToken(_ context.Context, token, resource string) (*authserver.AccessToken, error) {
	v.mu.Lock()
	at, ok := v.tokens[token]
	v.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w: not a token of %s", authserver.ErrInvalidAccessToken, asIssuer)
	}
	if at.Resource != resource {
		return nil, fmt.Errorf("%w: aud %q does not include this MCP server (%s)", authserver.ErrInvalidAccessToken, at.Resource, resource)
	}
	at.Scopes = slices.Clone(at.Scopes)
	return &at, nil
}

// lateServer is an httptest server whose URL is known before its handler
// exists, since the handlers need their own URL (resource).
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

// env is the tracker MCP server and the verifier of its authorization
// server.
type env struct {
	as        *verifier
	mcpURL    string // the tracker's resource identifier
	mcpOrigin string
	clock     *clock
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{as: &verifier{tokens: map[string]authserver.AccessToken{}}, clock: newClock()}
	srv, set := lateServer(t)
	e.mcpOrigin, e.mcpURL = srv.URL, srv.URL+"/mcp"
	h, err := mcpserver.New(mcpserver.Config{
		ID: "tracker", Name: "Issue Tracker", Resource: e.mcpURL,
		Verifier: e.as, AuthServerIssuer: asIssuer, Scopes: trackerScopes, Now: e.clock.Now,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	set(h)
	return e
}

// token returns an access token for alice and the tracker with the given
// scopes, changed by edit.
func (e *env) token(scope string, edit func(*authserver.AccessToken)) string {
	now := e.clock.Now()
	at := authserver.AccessToken{
		ID: randomString(), Issuer: asIssuer, Subject: alice, ClientID: clientID, Email: aliceEmail,
		Resource: e.mcpURL, Scopes: strings.Fields(scope), IssuedAt: now, Expiry: now.Add(time.Hour),
	}
	if edit != nil {
		edit(&at)
	}
	return e.as.issue(at)
}

// accessToken returns a bearer token for alice and the tracker.
func (e *env) accessToken(scope string) string { return e.token(scope, nil) }

// dpopAccessToken returns an access token bound to key (RFC 9449 §6.1).
func (e *env) dpopAccessToken(t testing.TB, key *ecdsa.PrivateKey, scope string) string {
	t.Helper()
	jkt := jkt(t, key)
	return e.token(scope, func(at *authserver.AccessToken) { at.JKT = jkt })
}

// proof is an RFC 9449 DPoP proof to mint with mintProof: by default for a
// POST, made now by the environment's clock, without ath.
type proof struct {
	htm    string         // "": POST
	htu    string         // required
	token  string         // the access token whose hash is ath; "" for none
	iat    time.Time      // zero: now
	claims map[string]any // replaces these claims; a nil value deletes
}

// mintProof signs a DPoP proof with key, its public part in the jwk header.
func (e *env) mintProof(t testing.TB, key *ecdsa.PrivateKey, p proof) string {
	t.Helper()
	raw, err := e.signProof(key, p)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func (e *env) signProof(key *ecdsa.PrivateKey, p proof) (string, error) {
	if p.htm == "" {
		p.htm = http.MethodPost
	}
	if p.iat.IsZero() {
		p.iat = e.clock.Now()
	}
	claims := map[string]any{"jti": randomString(), "htm": p.htm, "htu": p.htu, "iat": p.iat.Unix()}
	if p.token != "" {
		sum := sha256.Sum256([]byte(p.token))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	for k, v := range p.claims {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		return "", err
	}
	return jwt.Signed(signer).Claims(claims).Serialize()
}

// jkt is the RFC 7638 thumbprint of key, base64url: what cnf.jkt says.
func jkt(t testing.TB, key *ecdsa.PrivateKey) string {
	t.Helper()
	sum, err := (&jose.JSONWebKey{Key: &key.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(sum)
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

// reply is an HTTP answer with a JSON body.
type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func do(t testing.TB, hr *http.Request) reply {
	t.Helper()
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if err := json.Unmarshal(raw, &r.body); err != nil {
		t.Fatalf("%s %s: HTTP %d, body is not JSON: %q", hr.Method, hr.URL, resp.StatusCode, raw)
	}
	return r
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
