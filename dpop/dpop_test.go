package dpop_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/dpop"
)

const tokenEndpoint = "https://idp.example/oauth/token"

var now = time.Unix(1_800_000_000, 0)

// proofSpec is a proof to mint: a valid one for a POST to tokenEndpoint,
// changed by the fields that are set.
type proofSpec struct {
	key     crypto.Signer           // nil: a new P-256 key
	alg     jose.SignatureAlgorithm // "": ES256
	header  map[string]any          // replaces the JOSE header members it names; nil values delete
	claims  map[string]any          // replaces the claims it names; nil values delete
	corrupt bool                    // flip a bit of the signature
}

// mint signs a proof by hand, so that the header can carry what go-jose
// would refuse to write (a private jwk, alg none).
func mint(t testing.TB, s proofSpec) string {
	t.Helper()
	if s.key == nil {
		s.key = ecKey(t)
	}
	if s.alg == "" {
		s.alg = jose.ES256
	}
	header := map[string]any{"typ": "dpop+jwt", "alg": string(s.alg), "jwk": publicJWK(t, s.key)}
	claims := map[string]any{"jti": randomString(), "htm": "POST", "htu": tokenEndpoint, "iat": now.Unix()}
	edit(header, s.header)
	edit(claims, s.claims)
	input := b64JSON(t, header) + "." + b64JSON(t, claims)
	sig := signJWS(t, s.key, s.alg, input)
	if s.corrupt {
		sig[len(sig)/2] ^= 0x01
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func edit(m, changes map[string]any) {
	for k, v := range changes {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
}

func publicJWK(t testing.TB, key crypto.Signer) json.RawMessage {
	t.Helper()
	b, err := (&jose.JSONWebKey{Key: key.Public()}).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func privateJWK(t testing.TB, key crypto.Signer) json.RawMessage {
	t.Helper()
	b, err := (&jose.JSONWebKey{Key: key}).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func thumbprint(t testing.TB, key crypto.Signer) string {
	t.Helper()
	sum, err := (&jose.JSONWebKey{Key: key.Public()}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(sum)
}

func b64JSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// signJWS computes the JWS signature of input (RFC 7518 section 3).
func signJWS(t testing.TB, key crypto.Signer, alg jose.SignatureAlgorithm, input string) []byte {
	t.Helper()
	digest := sha256.Sum256([]byte(input))
	var sig []byte
	var err error
	switch alg {
	case "none":
		return nil
	case jose.HS256:
		mac := hmac.New(sha256.New, []byte("a secret the attacker chose"))
		mac.Write([]byte(input))
		return mac.Sum(nil)
	case jose.ES256:
		var r, s []byte
		rr, ss, e := ecdsa.Sign(rand.Reader, key.(*ecdsa.PrivateKey), digest[:])
		r, s, err = rr.FillBytes(make([]byte, 32)), ss.FillBytes(make([]byte, 32)), e
		sig = append(r, s...)
	case jose.RS256:
		sig, err = rsa.SignPKCS1v15(rand.Reader, key.(*rsa.PrivateKey), crypto.SHA256, digest[:])
	case jose.PS256:
		sig, err = rsa.SignPSS(rand.Reader, key.(*rsa.PrivateKey), crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case jose.EdDSA:
		sig = ed25519.Sign(key.(ed25519.PrivateKey), []byte(input))
	default:
		t.Fatalf("signJWS: alg %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func ecKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func rsaKey(t testing.TB, bits int) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
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

func atTokenEndpoint() dpop.Want {
	return dpop.Want{Method: http.MethodPost, URL: tokenEndpoint, Now: now}
}

func TestVerify_AcceptsEveryAllowedAlgorithm(t *testing.T) {
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsa2048 := rsaKey(t, 2048)
	tests := []struct {
		alg jose.SignatureAlgorithm
		key crypto.Signer
	}{
		{jose.ES256, ecKey(t)},
		{jose.RS256, rsa2048},
		{jose.PS256, rsa2048},
		{jose.EdDSA, ed},
	}
	for _, tt := range tests {
		t.Run(string(tt.alg), func(t *testing.T) {
			p, err := dpop.Verify(mint(t, proofSpec{key: tt.key, alg: tt.alg, claims: map[string]any{"jti": "j-1"}}), atTokenEndpoint())
			if err != nil {
				t.Fatal(err)
			}
			if want := thumbprint(t, tt.key); p.JKT != want {
				t.Errorf("JKT = %s, want the RFC 7638 thumbprint %s", p.JKT, want)
			}
			if p.JTI != "j-1" || !p.IssuedAt.Equal(now) {
				t.Errorf("proof %+v", p)
			}
			if p.ReplayUntil.Before(now.Add(dpop.DefaultWindow)) {
				t.Errorf("ReplayUntil %s is before iat + window", p.ReplayUntil)
			}
			if p.ReplayKey() != p.JKT+"\x00j-1" {
				t.Errorf("ReplayKey %q", p.ReplayKey())
			}
		})
	}
}

func TestVerify_AcceptsAtAResourceWithTheTokenHash(t *testing.T) {
	const token = "an-access-token"
	sum := sha256.Sum256([]byte(token))
	ath := base64.RawURLEncoding.EncodeToString(sum[:])
	if got := dpop.AccessTokenHash(token); got != ath {
		t.Fatalf("AccessTokenHash = %s, want %s", got, ath)
	}
	proof := mint(t, proofSpec{claims: map[string]any{"htm": "GET", "htu": "https://mcp.example/mcp?x=1", "ath": ath}})
	want := dpop.Want{Method: http.MethodGet, URL: "https://mcp.example/mcp", Now: now, AccessToken: token}
	if _, err := dpop.Verify(proof, want); err != nil {
		t.Fatal(err)
	}
}

func TestVerify_RefusesBadProofs(t *testing.T) {
	key := ecKey(t)
	tests := []struct {
		name  string
		proof string
		want  func(*dpop.Want) // changes the expectation
		desc  string           // a substring of the error
	}{
		{name: "not a JWT", proof: "not-a-jwt", desc: "not a JWT"},
		{name: "five parts (JWE)", proof: "a.b.c.d.e", desc: "not a JWT"},
		{name: "header not base64url", proof: "!!.e30.sig", desc: "not base64url"},
		{name: "header not JSON", proof: base64.RawURLEncoding.EncodeToString([]byte("[1]")) + ".e30.c2ln", desc: "not a JSON object"},
		{name: "too large", proof: strings.Repeat("a", dpop.MaxProofBytes+1), desc: "bytes, more than"},
		{name: "typ JWT", proof: mint(t, proofSpec{header: map[string]any{"typ": "JWT"}}), desc: `typ "JWT" is not "dpop+jwt"`},
		{name: "typ missing", proof: mint(t, proofSpec{header: map[string]any{"typ": nil}}), desc: `typ ""`},
		{name: "alg none", proof: mint(t, proofSpec{alg: "none"}), desc: `alg "none" is not accepted`},
		{name: "alg HS256", proof: mint(t, proofSpec{alg: jose.HS256}), desc: `alg "HS256" is not accepted`},
		{name: "alg ES384", proof: mint(t, proofSpec{header: map[string]any{"alg": "ES384"}}), desc: `alg "ES384" is not accepted`},
		{name: "no jwk", proof: mint(t, proofSpec{header: map[string]any{"jwk": nil}}), desc: "no jwk"},
		{name: "jwk is not an object", proof: mint(t, proofSpec{header: map[string]any{"jwk": "k"}}), desc: "not a JSON object"},
		{name: "private key in jwk", proof: mint(t, proofSpec{key: key, header: map[string]any{"jwk": privateJWK(t, key)}}), desc: `private member "d"`},
		{name: "symmetric jwk", proof: mint(t, proofSpec{header: map[string]any{"jwk": map[string]string{"kty": "oct", "k": "c2VjcmV0"}}}), desc: `private member "k"`},
		{name: "jwk of another key", proof: mint(t, proofSpec{header: map[string]any{"jwk": publicJWK(t, ecKey(t))}}), desc: "signature does not verify"},
		{name: "bad signature", proof: mint(t, proofSpec{corrupt: true}), desc: "signature does not verify"},
		{name: "RSA key under 2048 bits", proof: mint(t, proofSpec{key: rsaKey(t, 1024), alg: jose.RS256}), desc: "at least 2048"},
		{name: "htm GET", proof: mint(t, proofSpec{claims: map[string]any{"htm": "GET"}}), desc: `htm "GET" is not the request's method POST`},
		{name: "htm lower case", proof: mint(t, proofSpec{claims: map[string]any{"htm": "post"}}), desc: `htm "post"`},
		{name: "htm missing", proof: mint(t, proofSpec{claims: map[string]any{"htm": nil}}), desc: `htm ""`},
		{name: "htu another URL", proof: mint(t, proofSpec{claims: map[string]any{"htu": "https://other.example/oauth/token"}}), desc: `htu "https://other.example/oauth/token" is not ` + tokenEndpoint},
		{name: "htu another path", proof: mint(t, proofSpec{claims: map[string]any{"htu": "https://idp.example/token"}}), desc: "htu"},
		{name: "htu relative", proof: mint(t, proofSpec{claims: map[string]any{"htu": "/oauth/token"}}), desc: "htu"},
		{name: "htu missing", proof: mint(t, proofSpec{claims: map[string]any{"htu": nil}}), desc: "no htu"},
		{name: "iat too old", proof: mint(t, proofSpec{claims: map[string]any{"iat": now.Add(-61 * time.Second).Unix()}}), desc: "before now"},
		{name: "iat in the future", proof: mint(t, proofSpec{claims: map[string]any{"iat": now.Add(61 * time.Second).Unix()}}), desc: "in the future"},
		{name: "iat outside a narrower window", proof: mint(t, proofSpec{claims: map[string]any{"iat": now.Add(-20 * time.Second).Unix()}}),
			want: func(w *dpop.Want) { w.Window = 10 * time.Second }, desc: "more than 10s before now"},
		{name: "iat missing", proof: mint(t, proofSpec{claims: map[string]any{"iat": nil}}), desc: "no iat"},
		{name: "iat not a number", proof: mint(t, proofSpec{claims: map[string]any{"iat": "yesterday"}}), desc: "claims are malformed"},
		{name: "jti missing", proof: mint(t, proofSpec{claims: map[string]any{"jti": nil}}), desc: "no jti"},
		{name: "jti too long", proof: mint(t, proofSpec{claims: map[string]any{"jti": strings.Repeat("j", 257)}}), desc: "jti is 257 bytes"},
		{name: "ath at the token endpoint", proof: mint(t, proofSpec{claims: map[string]any{"ath": dpop.AccessTokenHash("x")}}), desc: "has an ath"},
		{name: "no ath with an access token", proof: mint(t, proofSpec{}),
			want: func(w *dpop.Want) { w.AccessToken = "tok" }, desc: "has no ath"},
		{name: "ath of another token", proof: mint(t, proofSpec{claims: map[string]any{"ath": dpop.AccessTokenHash("other")}}),
			want: func(w *dpop.Want) { w.AccessToken = "tok" }, desc: "is not the hash of the access token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := atTokenEndpoint()
			if tt.want != nil {
				tt.want(&want)
			}
			p, err := dpop.Verify(tt.proof, want)
			if err == nil {
				t.Fatalf("accepted: %+v", p)
			}
			if !errors.Is(err, dpop.ErrInvalidProof) || !strings.Contains(err.Error(), tt.desc) {
				t.Errorf("err = %v, want ErrInvalidProof containing %q", err, tt.desc)
			}
		})
	}
}

func TestSameURL_IgnoresQueryFragmentAndSpelling(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"https://idp.example/oauth/token", "https://idp.example/oauth/token", true},
		{"https://idp.example/oauth/token?x=1#f", "https://idp.example/oauth/token", true},
		{"HTTPS://IDP.example:443/oauth/token", "https://idp.example/oauth/token", true},
		{"http://127.0.0.1:80", "http://127.0.0.1/", true},
		{"http://[::1]:8080/t", "http://[::1]:8080/t", true},
		{"http://[::1]:80/t", "http://[::1]/t", true},
		{"https://idp.example/oauth/token/", "https://idp.example/oauth/token", false},
		{"https://idp.example/OAUTH/token", "https://idp.example/oauth/token", false},
		{"http://idp.example/oauth/token", "https://idp.example/oauth/token", false},
		{"https://idp.example:8443/oauth/token", "https://idp.example/oauth/token", false},
		{"/oauth/token", "/oauth/token", false},
		{"ftp://idp.example/x", "ftp://idp.example/x", false},
		{"%zz", "%zz", false},
	}
	for _, tt := range tests {
		if got := dpop.SameURL(tt.a, tt.b); got != tt.same {
			t.Errorf("SameURL(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.same)
		}
	}
}

func TestFromHeader_OneProofOrNone(t *testing.T) {
	if p, err := dpop.FromHeader(http.Header{}); p != "" || err != nil {
		t.Errorf("no header: %q, %v", p, err)
	}
	if p, err := dpop.FromHeader(http.Header{"Dpop": {"a.b.c"}}); p != "a.b.c" || err != nil {
		t.Errorf("one header: %q, %v", p, err)
	}
	for name, h := range map[string]http.Header{
		"two headers":  {"Dpop": {"a.b.c", "d.e.f"}},
		"empty header": {"Dpop": {""}},
	} {
		if _, err := dpop.FromHeader(h); !errors.Is(err, dpop.ErrInvalidProof) {
			t.Errorf("%s: err = %v, want ErrInvalidProof", name, err)
		}
	}
}

func TestAlgorithmNames_AreAsymmetric(t *testing.T) {
	got := strings.Join(dpop.AlgorithmNames(), " ")
	if got != "ES256 RS256 PS256 EdDSA Ed25519" {
		t.Errorf("AlgorithmNames = %s", got)
	}
}
