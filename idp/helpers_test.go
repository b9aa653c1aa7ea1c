package idp_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/policy"
)

// testIdP is a real IdP on a real loopback listener.
type testIdP struct {
	*idp.Server
	URL   string
	Audit *audit.Log
	clock *fakeClock
}

type fakeClock struct{ offset time.Duration }

func (c *fakeClock) now() time.Time { return time.Now().Add(c.offset) }

func loadConfig(t testing.TB, file string) *policy.Config {
	t.Helper()
	cfg, err := policy.Load(file)
	if err != nil {
		t.Fatalf("load %s: %v", file, err)
	}
	return cfg
}

func startIdP(t testing.TB, cfg *policy.Config, tweak ...func(*idp.Options)) *testIdP {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	issuer := "http://" + ts.Listener.Addr().String()
	log, err := audit.Open(audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{}
	opts := idp.Options{Config: cfg, Issuer: issuer, Audit: log, Now: clock.now}
	for _, f := range tweak {
		f(&opts)
	}
	srv, err := idp.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv
	ts.Start()
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	return &testIdP{Server: srv, URL: issuer, Audit: log, clock: clock}
}

func startConformanceIdP(t testing.TB) *testIdP {
	return startIdP(t, loadConfig(t, "testdata/conformance.yaml"))
}

func (p *testIdP) login(t testing.TB, clientID, secret, username, password string, scopes ...string) idpclient.Tokens {
	t.Helper()
	tok, err := idpclient.Login(context.Background(), idpclient.LoginOptions{
		Issuer: p.URL, ClientID: clientID, ClientSecret: secret, Username: username, Password: password, Scopes: scopes,
		Nonce: "n-0S6_WzA2Mj",
	})
	if err != nil {
		t.Fatalf("login %s via %s: %v", username, clientID, err)
	}
	return tok
}

// postToken posts a form to the token endpoint, as a client would.
func (p *testIdP) postToken(t testing.TB, form url.Values, header http.Header) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, p.URL+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("token endpoint answered %s with a non-JSON body: %v", resp.Status, err)
	}
	return resp, body
}

// jwks fetches the IdP's published keys.
func (p *testIdP) jwks(t testing.TB) jose.JSONWebKeySet {
	t.Helper()
	resp, err := http.Get(p.URL + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	return set
}

// verifyJWT checks a token's signature against the IdP's JWKS, as a
// relying party or authorization server would, and returns header and claims.
func (p *testIdP) verifyJWT(t testing.TB, raw string) (jose.Header, map[string]any) {
	t.Helper()
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA})
	if err != nil {
		t.Fatalf("parse JWT: %v", err)
	}
	hdr := tok.Headers[0]
	set := p.jwks(t)
	keys := set.Key(hdr.KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q not in JWKS", hdr.KeyID)
	}
	var claims map[string]any
	if err := tok.Claims(keys[0].Key, &claims); err != nil {
		t.Fatalf("signature does not verify with the published key: %v", err)
	}
	return hdr, claims
}

// mintIDToken signs an ID token with a key of the test's choosing, for the
// negative cases (expired, foreign key, ...).
func mintIDToken(t testing.TB, key any, kid string, alg jose.SignatureAlgorithm, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// exchangeForm is the base request B of docs/http.md, "Conformance cases", for a subject ID
// token, with client_secret_post credentials.
func exchangeForm(idToken string) url.Values {
	return url.Values{
		"grant_type":           {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"requested_token_type": {"urn:ietf:params:oauth:token-type:id-jag"},
		"subject_token":        {idToken},
		"subject_token_type":   {"urn:ietf:params:oauth:token-type:id_token"},
		"audience":             {"https://as.chat.example"},
		"resource":             {"https://mcp.chat.example/mcp"},
		"scope":                {"chat.read"},
	}
}

// ownedES256Key makes a P-256 key and writes it to a PEM file for
// signing.key_files: a test that owns the IdP's signing key can mint
// tokens the IdP takes for its own.
func ownedES256Key(t testing.TB) (*ecdsa.PrivateKey, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "es256.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return key, keyFile
}
