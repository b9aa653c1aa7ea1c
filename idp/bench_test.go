package idp_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/xaa-idp/xaa-idp/policy"
)

// BenchmarkExchange is one ID-JAG token exchange through the real HTTP
// handler, in-process: form parsing, client authentication, subject ID
// token check, policy decision, ES256 signature, audit event, JSON.
// Compare it with BenchmarkCryptoFloor (scripts/bench-ratio.sh prints the
// ratios); the goal is at most 1.3x the gojose floor.
func BenchmarkExchange(b *testing.B) {
	p := startConformanceIdP(b)
	idToken := p.login(b, "mcp-client", "s1", "alice", "alice-pw", "openid").IDToken()
	form := exchangeForm(idToken)
	form.Set("client_id", "mcp-client")
	form.Set("client_secret", "s1")
	benchExchanges(b, p, form.Encode())
}

// BenchmarkExchange_EndpointFaults is BenchmarkExchange while faults of
// the JWKS and discovery are active: the token endpoint passes them by at
// no cost, allocations included (compare allocs/op with BenchmarkExchange).
func BenchmarkExchange_EndpointFaults(b *testing.B) {
	p := startConformanceIdP(b)
	idToken := p.login(b, "mcp-client", "s1", "alice", "alice-pw", "openid").IDToken()
	if _, err := p.AddFaults(
		policy.Fault{Endpoint: policy.FaultEndpointJWKS, HTTPStatus: http.StatusServiceUnavailable},
		policy.Fault{Endpoint: policy.FaultEndpointDiscovery, Delay: policy.Duration(time.Second)},
	); err != nil {
		b.Fatal(err)
	}
	form := exchangeForm(idToken)
	form.Set("client_id", "mcp-client")
	form.Set("client_secret", "s1")
	benchExchanges(b, p, form.Encode())
}

// BenchmarkExchange_CIMDClient is BenchmarkExchange for a public client
// identified by its metadata document URL, cached after the first
// request: it should cost about what the configured client's exchange
// does.
func BenchmarkExchange_CIMDClient(b *testing.B) {
	f := startCIMD(b)
	idToken := f.login(b, f.public, "", "alice", "alice-pw", "openid").IDToken()
	form := exchangeForm(idToken)
	form.Set("client_id", f.public)
	benchExchanges(b, f, form.Encode())
}

// benchExchanges posts the token request body to h's token endpoint once
// per iteration, each answered 200.
func benchExchanges(b *testing.B, h http.Handler, body string) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("exchange: %d %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkCryptoFloor is the cryptography an exchange cannot avoid, in
// two measures:
//
//   - raw-es256-sign: one ES256 signature with crypto/ecdsa alone (SHA-256
//     of the signing input, P-256 sign): what an exchange must pay, since
//     verified subject tokens are cached.
//   - gojose: one RS256 ID-token verification plus one ES256 ID-JAG
//     signature through go-jose, the floor of an exchange without the
//     cache and without the hand-built JWS (idp/signer/jws.go).
func BenchmarkCryptoFloor(b *testing.B) {
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	jag := map[string]any{
		"iss": "http://127.0.0.1:8080", "sub": "u-alice", "aud": "https://as.chat.example",
		"client_id": "mcp-client-at-chat", "jti": "x", "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"resource": "https://mcp.chat.example/mcp", "scope": "chat.read",
	}
	b.Run("raw-es256-sign", func(b *testing.B) {
		input := []byte("eyJhbGciOiJFUzI1NiIsImtpZCI6ImVzMjU2LWFiY2RlZmdoaWprbG1ub3AiLCJ0eXAiOiJvYXV0aC1pZC1qYWcrand0In0." +
			"eyJpc3MiOiJodHRwOi8vMTI3LjAuMC4xOjgwODAiLCJzdWIiOiJ1LWFsaWNlIiwiYXVkIjoiaHR0cHM6Ly9hcy5jaGF0LmV4YW1wbGUiLCJjbGllbnRfaWQiOiJtY3AtY2xpZW50LWF0LWNoYXQifQ")
		b.ReportAllocs()
		for b.Loop() {
			digest := sha256.Sum256(input)
			if _, err := ecdsa.SignASN1(rand.Reader, ecKey, digest[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gojose", func(b *testing.B) {
		rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
		rsSigner, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: rsaKey, KeyID: "rs"}}, (&jose.SignerOptions{}).WithType("JWT"))
		esSigner, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: ecKey, KeyID: "es"}}, (&jose.SignerOptions{}).WithType("oauth-id-jag+jwt"))
		idToken, _ := jwt.Signed(rsSigner).Claims(map[string]any{
			"iss": "http://127.0.0.1:8080", "sub": "u-alice", "aud": []string{"mcp-client"},
			"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "auth_time": now.Unix(),
		}).Serialize()
		b.ReportAllocs()
		for b.Loop() {
			tok, err := jwt.ParseSigned(idToken, []jose.SignatureAlgorithm{jose.RS256})
			if err != nil {
				b.Fatal(err)
			}
			var c jwt.Claims
			if err := tok.Claims(&rsaKey.PublicKey, &c); err != nil {
				b.Fatal(err)
			}
			if _, err := jwt.Signed(esSigner).Claims(jag).Serialize(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestExchange_EndpointFaultsCostNothing: faults of the JWKS and discovery
// add no allocation to a token exchange (the token endpoint's fault path
// must pass them by without establishing the request's client and user).
func TestExchange_EndpointFaultsCostNothing(t *testing.T) {
	p := startConformanceIdP(t)
	idToken := p.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid").IDToken()
	form := exchangeForm(idToken)
	form.Set("client_id", "mcp-client")
	form.Set("client_secret", "s1")
	body := form.Encode()
	exchange := func() {
		req := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("exchange: %d %s", rec.Code, rec.Body)
		}
	}
	// The fewest of three counts: AllocsPerRun counts the other goroutines'
	// allocations too (the audit's, the stores' sweeps), which a loaded
	// machine's scheduling adds to one count or another.
	allocs := func() float64 {
		least := testing.AllocsPerRun(200, exchange)
		for range 2 {
			least = min(least, testing.AllocsPerRun(200, exchange))
		}
		return least
	}
	without := allocs()
	if _, err := p.AddFaults(
		policy.Fault{Endpoint: policy.FaultEndpointJWKS, HTTPStatus: http.StatusServiceUnavailable},
		policy.Fault{Endpoint: policy.FaultEndpointDiscovery, Delay: policy.Duration(time.Second)},
	); err != nil {
		t.Fatal(err)
	}
	with := allocs()
	if with > without+0.5 {
		t.Errorf("an exchange allocates %.1f times with endpoint faults active, %.1f without", with, without)
	}
}
