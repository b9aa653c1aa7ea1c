package idp_test

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
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/internal/errdesc"
)

// proof is an RFC 9449 DPoP proof to mint: by default a valid one, made now
// with a new P-256 key, for a POST to the IdP's token endpoint.
type proof struct {
	key     crypto.Signer
	alg     jose.SignatureAlgorithm // "": ES256
	iat     time.Time               // zero: now
	header  map[string]any          // replaces these JOSE header members; a nil value deletes
	claims  map[string]any          // replaces these claims; a nil value deletes
	corrupt bool                    // flip a bit of the signature
}

// mintProof signs p by hand rather than with go-jose, so that a test can
// put into it what go-jose would refuse to write (alg none, a private jwk).
func mintProof(t testing.TB, htu string, p proof) string {
	t.Helper()
	if p.key == nil {
		p.key = newP256(t)
	}
	if p.alg == "" {
		p.alg = jose.ES256
	}
	if p.iat.IsZero() {
		p.iat = time.Now()
	}
	header := map[string]any{"typ": "dpop+jwt", "alg": string(p.alg), "jwk": jwkOf(t, p.key.Public())}
	claims := map[string]any{"jti": randomJTI(), "htm": "POST", "htu": htu, "iat": p.iat.Unix()}
	for _, edit := range []struct{ m, changes map[string]any }{{header, p.header}, {claims, p.claims}} {
		for k, v := range edit.changes {
			if v == nil {
				delete(edit.m, k)
			} else {
				edit.m[k] = v
			}
		}
	}
	input := b64JSON(t, header) + "." + b64JSON(t, claims)
	sig := signJWS(t, p.key, p.alg, input)
	if p.corrupt {
		sig[len(sig)/2] ^= 0x01
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// signJWS computes the JWS signature of input (RFC 7518 section 3).
func signJWS(t testing.TB, key crypto.Signer, alg jose.SignatureAlgorithm, input string) []byte {
	t.Helper()
	digest := sha256.Sum256([]byte(input))
	switch alg {
	case "none":
		return nil
	case jose.HS256:
		mac := hmac.New(sha256.New, []byte("a secret of the client's choosing"))
		mac.Write([]byte(input))
		return mac.Sum(nil)
	case jose.ES256:
		r, s, err := ecdsa.Sign(rand.Reader, key.(*ecdsa.PrivateKey), digest[:])
		if err != nil {
			t.Fatal(err)
		}
		return append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	case jose.RS256:
		sig, err := rsa.SignPKCS1v15(rand.Reader, key.(*rsa.PrivateKey), crypto.SHA256, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		return sig
	case jose.PS256:
		sig, err := rsa.SignPSS(rand.Reader, key.(*rsa.PrivateKey), crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		if err != nil {
			t.Fatal(err)
		}
		return sig
	case jose.EdDSA, "Ed25519":
		return ed25519.Sign(key.(ed25519.PrivateKey), []byte(input))
	}
	t.Fatalf("signJWS: no signer for alg %s", alg)
	return nil
}

func jwkOf(t testing.TB, key any) json.RawMessage {
	t.Helper()
	b, err := (&jose.JSONWebKey{Key: key}).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jkt is the RFC 7638 SHA-256 thumbprint of key's public part, base64url:
// what cnf.jkt must say.
func jkt(t testing.TB, key crypto.Signer) string {
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

func newP256(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func randomJTI() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// withDPoP returns h plus one DPoP header per proof.
func withDPoP(h http.Header, proofs ...string) http.Header {
	h = h.Clone()
	for _, p := range proofs {
		h.Add("DPoP", p)
	}
	return h
}

// tokenEndpoint is the URL a proof's htu names.
func (f *fixture) tokenEndpoint() string { return f.URL + "/oauth/token" }

// dpopHeader mints a proof for the token endpoint, remembers it (no audit
// event may contain it) and returns Basic mcp-client:s1 with it.
func (f *fixture) dpopHeader(t *testing.T, p proof) http.Header {
	t.Helper()
	raw := mintProof(t, f.tokenEndpoint(), p)
	f.remember(raw)
	return withDPoP(basicS1, raw)
}

// TestDPoP_BindsTheIDJAGToTheProofKey extends case 15 to every accepted
// algorithm and to the spellings of htu that RFC 9449 section 4.3 accepts.
func TestDPoP_BindsTheIDJAGToTheProofKey(t *testing.T) {
	f := newFixture(t, conformanceConfig(t))
	alice := f.alice.IDToken()
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	shared := newP256(t)
	tests := []struct {
		name string
		p    proof
	}{
		{"ES256", proof{}},
		{"RS256", proof{key: rsaKey, alg: jose.RS256}},
		{"PS256", proof{key: rsaKey, alg: jose.PS256}},
		{"EdDSA", proof{key: ed, alg: jose.EdDSA}},
		{"Ed25519 (RFC 9864, openid-client's name for EdDSA with an Ed25519 key)", proof{key: ed, alg: "Ed25519"}},
		{"htu with a query and a fragment", proof{claims: map[string]any{"htu": f.tokenEndpoint() + "?x=1#top"}}},
		{"htu with the scheme and host in upper case", proof{claims: map[string]any{"htu": strings.ToUpper(f.URL[:len("http://")]) + f.URL[len("http://"):] + "/oauth/token"}}},
		{"iat a little behind the IdP clock", proof{iat: time.Now().Add(-50 * time.Second)}},
		// typ is a media type: any case, "application/" optional (RFC
		// 7515 section 4.1.9); until 2026-12-06 only dpop+jwt passed.
		{"typ DPoP+JWT", proof{header: map[string]any{"typ": "DPoP+JWT"}}},
		{"typ application/dpop+jwt", proof{header: map[string]any{"typ": "application/dpop+jwt"}}},
		{"the same jti with another key", proof{key: shared, claims: map[string]any{"jti": "jti-1"}}},
		{"the same jti with yet another key", proof{claims: map[string]any{"jti": "jti-1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.p.key == nil {
				tt.p.key = newP256(t)
			}
			want := jkt(t, tt.p.key)
			f.expectIDJAG(t, grantCase{form: b(alice), header: f.dpopHeader(t, tt.p),
				sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read",
				check: wantJKT(want)})
			if ev := f.exchangeEvents()[0]; ev.Details["cnf_jkt"] != want {
				t.Errorf("audit details %v, want cnf_jkt %s", ev.Details, want)
			}
		})
	}
}

// wantJKT checks that an ID-JAG is bound to the key with this thumbprint.
func wantJKT(want string) func(t *testing.T, c map[string]any) {
	return func(t *testing.T, c map[string]any) {
		t.Helper()
		cnf, _ := c["cnf"].(map[string]any)
		if cnf == nil || cnf["jkt"] != want || len(cnf) != 1 {
			t.Errorf("ID-JAG cnf = %v, want {\"jkt\": %q}", c["cnf"], want)
		}
	}
}

// TestDPoP_InvalidProofIsRefused breaks one check of RFC 9449 section 4.3
// per row: each gets 400 invalid_dpop_proof naming the check, an audit
// event, and no ID-JAG.
func TestDPoP_InvalidProofIsRefused(t *testing.T) {
	f := newFixture(t, conformanceConfig(t))
	alice := f.alice.IDToken()
	key := newP256(t)
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}

	replayed := mintProof(t, f.tokenEndpoint(), proof{key: key})
	f.remember(replayed)
	if resp, body := f.exchange(t, b(alice), withDPoP(basicS1, replayed)); resp.StatusCode != http.StatusOK {
		t.Fatalf("first use of the proof: %d %v", resp.StatusCode, body)
	}

	tests := []struct {
		name   string
		header http.Header
		clock  time.Duration // the IdP clock runs this far ahead
		desc   string        // a substring of error_description
	}{
		{name: "typ JWT", header: f.dpopHeader(t, proof{header: map[string]any{"typ": "JWT"}}), desc: `typ 'JWT' is not 'dpop+jwt'`},
		{name: "no typ", header: f.dpopHeader(t, proof{header: map[string]any{"typ": nil}}), desc: `typ ''`},
		{name: "alg none", header: f.dpopHeader(t, proof{alg: "none"}), desc: `alg 'none' is not accepted`},
		{name: "alg HS256", header: f.dpopHeader(t, proof{alg: jose.HS256}), desc: `alg 'HS256' is not accepted`},
		{name: "private key in jwk", header: f.dpopHeader(t, proof{key: key, header: map[string]any{"jwk": jwkOf(t, key)}}), desc: `private member 'd'`},
		{name: "no jwk", header: f.dpopHeader(t, proof{header: map[string]any{"jwk": nil}}), desc: "no jwk"},
		{name: "bad signature", header: f.dpopHeader(t, proof{corrupt: true}), desc: "signature does not verify"},
		{name: "jwk of another key", header: f.dpopHeader(t, proof{header: map[string]any{"jwk": jwkOf(t, newP256(t).Public())}}), desc: "signature does not verify"},
		{name: "alg Ed25519, bad signature", header: f.dpopHeader(t, proof{key: ed, alg: "Ed25519", corrupt: true}), desc: "signature does not verify"},
		{name: "alg Ed25519, a P-256 jwk", header: f.dpopHeader(t, proof{key: ed, alg: "Ed25519", header: map[string]any{"jwk": jwkOf(t, newP256(t).Public())}}), desc: "signature does not verify"},
		// RFC 7515 section 4.1.11: an extension the proof marks critical
		// and the server does not understand refuses it, whatever the
		// alg; the Ed25519 one, which ed25519alg verifies, was accepted.
		{name: "crit names an unknown extension", header: f.dpopHeader(t, proof{header: map[string]any{"crit": []string{"urn:example:ext"}, "urn:example:ext": true}}), desc: `crit names 'urn:example:ext'`},
		{name: "alg Ed25519, crit names an unknown extension", header: f.dpopHeader(t, proof{key: ed, alg: "Ed25519", header: map[string]any{"crit": []string{"urn:example:ext"}, "urn:example:ext": true}}), desc: `crit names 'urn:example:ext'`},
		// Claim names are case-sensitive (RFC 7519 section 4): HTM is no
		// htm, though encoding/json matched it to one.
		{name: "htm spelled HTM", header: f.dpopHeader(t, proof{claims: map[string]any{"htm": nil, "HTM": "POST"}}), desc: `htm '' is not the request's method POST`},
		// RFC 7519 sections 4.1.4 and 4.1.5 bind a proof that has them.
		{name: "exp in the past", header: f.dpopHeader(t, proof{claims: map[string]any{"exp": time.Now().Add(-10 * time.Minute).Unix()}}), desc: "expired at"},
		{name: "nbf in the future", header: f.dpopHeader(t, proof{claims: map[string]any{"nbf": time.Now().Add(10 * time.Minute).Unix()}}), desc: "not valid before"},
		{name: "htm GET", header: f.dpopHeader(t, proof{claims: map[string]any{"htm": "GET"}}), desc: `htm 'GET' is not the request's method POST`},
		{name: "htu another URL", header: f.dpopHeader(t, proof{claims: map[string]any{"htu": "https://as.chat.example/token"}}), desc: `htu 'https://as.chat.example/token' is not ` + f.tokenEndpoint()},
		// A URL with userinfo is not the request's (RFC 9449 section
		// 4.3); until 2026-12-06 it passed. The password is not repeated.
		{name: "htu with userinfo", header: f.dpopHeader(t, proof{claims: map[string]any{"htu": "http://user:pass@" + f.URL[len("http://"):] + "/oauth/token"}}), desc: `htu 'http://user:xxxxx@` + f.URL[len("http://"):] + `/oauth/token' is not ` + f.tokenEndpoint()},
		{name: "htu the issuer", header: f.dpopHeader(t, proof{claims: map[string]any{"htu": f.URL}}), desc: "htu"},
		{name: "iat too old", header: f.dpopHeader(t, proof{iat: time.Now().Add(-2 * time.Minute)}), desc: "before now"},
		{name: "iat in the future", header: f.dpopHeader(t, proof{iat: time.Now().Add(2 * time.Minute)}), desc: "in the future"},
		{name: "iat too old by the IdP clock", header: f.dpopHeader(t, proof{}), clock: 2 * time.Minute, desc: "before now"},
		{name: "no jti", header: f.dpopHeader(t, proof{claims: map[string]any{"jti": nil}}), desc: "no jti"},
		{name: "replayed jti", header: withDPoP(basicS1, replayed), desc: "was already used with this key"},
		{name: "ath present", header: f.dpopHeader(t, proof{claims: map[string]any{"ath": "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"}}), desc: "has an ath"},
		{name: "two DPoP headers", header: withDPoP(f.dpopHeader(t, proof{}), mintProof(t, f.tokenEndpoint(), proof{})), desc: "2 DPoP headers"},
		{name: "empty DPoP header", header: withDPoP(basicS1, ""), desc: "DPoP header is empty"},
		{name: "not a JWT", header: withDPoP(basicS1, "not-a-jwt"), desc: "not a JWT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.expectRefusal(t, refusal{
				form: b(alice), header: tt.header, clock: tt.clock,
				code: "invalid_dpop_proof", outcome: audit.Error,
				after: func(t *testing.T, body map[string]any) {
					if d, _ := body["error_description"].(string); !strings.Contains(d, tt.desc) {
						t.Errorf("error_description %q lacks %q", d, tt.desc)
					}
				},
			})
			// The audit keeps the reason as written ("typ \"JWT\""), which
			// the wire writes in the RFC 6749 section 5.2 set.
			if ev := f.exchangeEvents()[0]; !strings.Contains(errdesc.ASCII(ev.Reason), tt.desc) {
				t.Errorf("audit reason %q lacks %q", ev.Reason, tt.desc)
			}
		})
	}
}

// TestDPoP_ProofIsCheckedAfterClientAuthentication: a request that fails
// client authentication is refused for that, and its proof is not spent.
func TestDPoP_ProofIsCheckedAfterClientAuthentication(t *testing.T) {
	f := newFixture(t, conformanceConfig(t))
	raw := mintProof(t, f.tokenEndpoint(), proof{})
	f.remember(raw)
	f.expectRefusal(t, refusal{form: b(f.alice.IDToken()), header: withDPoP(basic("mcp-client", "wrong"), raw),
		status: http.StatusUnauthorized, code: "invalid_client", outcome: audit.Error, wwwAuthenticate: true})
	if resp, body := f.exchange(t, b(f.alice.IDToken()), withDPoP(basicS1, raw)); resp.StatusCode != http.StatusOK {
		t.Fatalf("the proof after a refused client: %d %v", resp.StatusCode, body)
	}
}

// TestDPoP_ProofIsSpentOnlyByAnExchangeThePolicyAllows: a request refused
// for its subject token or by the policy does not record its proof's jti.
// Otherwise anyone could fill the bounded replay store (then every DPoP
// exchange is 503 for minutes) with fresh proofs of fresh keys and no valid
// subject token at all, as a public client needs no credentials.
func TestDPoP_ProofIsSpentOnlyByAnExchangeThePolicyAllows(t *testing.T) {
	f := newFixture(t, conformanceConfig(t))
	raw := mintProof(t, f.tokenEndpoint(), proof{})
	f.remember(raw)
	f.expectRefusal(t, refusal{form: b("not-an-id-token"), header: withDPoP(basicS1, raw),
		code: "invalid_request", outcome: audit.Error})
	f.expectRefusal(t, refusal{form: b(f.alice.IDToken(), set("audience", "https://unknown.example")), header: withDPoP(basicS1, raw),
		code: "invalid_target", outcome: audit.Error, user: "alice"})
	if resp, body := f.exchange(t, b(f.alice.IDToken()), withDPoP(basicS1, raw)); resp.StatusCode != http.StatusOK {
		t.Fatalf("the proof after refused exchanges: %d %v", resp.StatusCode, body)
	}
	if resp, body := f.exchange(t, b(f.alice.IDToken()), withDPoP(basicS1, raw)); resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_dpop_proof" {
		t.Fatalf("the proof replayed after an ID-JAG: %d %v, want invalid_dpop_proof", resp.StatusCode, body)
	}
}
