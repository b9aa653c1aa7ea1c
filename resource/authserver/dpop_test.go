package authserver_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// proof is an RFC 9449 DPoP proof to mint with mintProof: by default for a
// POST, made now by the environment's clock, without ath.
type proof struct {
	htm    string         // "": POST
	htu    string         // required
	typ    string         // "": dpop+jwt
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
	if p.typ == "" {
		p.typ = "dpop+jwt"
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{EmbedJWK: true}).WithType(jose.ContentType(p.typ)))
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

// tokenProof mints a proof for the authorization server's token endpoint.
func (e *env) tokenProof(t testing.TB, key *ecdsa.PrivateKey) string {
	return e.mintProof(t, key, proof{htu: e.asURL + "/token"})
}

// boundJAG mints a valid ID-JAG bound to the key with thumbprint jkt.
func (e *env) boundJAG(t testing.TB, jkt string) string {
	return e.jag(t, func(c map[string]any) { c["cnf"] = map[string]any{"jkt": jkt} })
}

func withProofs(r tokenRequest, proofs ...string) tokenRequest {
	r.dpop = proofs
	return r
}

// TestTokenEndpoint_DPoP covers the JWT bearer grant with DPoP (RFC 9449
// §5): a bound ID-JAG (cnf.jkt) needs a proof of its key, and any valid
// proof gets a DPoP-bound access token.
func TestTokenEndpoint_DPoP(t *testing.T) {
	e := newEnv(t)
	keyA, keyB := newECKey(t), newECKey(t)
	jktA, jktB := jkt(t, keyA), jkt(t, keyB)
	now := e.clock.Now()

	tests := []struct {
		name       string
		req        func(t *testing.T) tokenRequest
		wantStatus int
		wantError  string // for a refusal
		wantDesc   string // a substring of error_description
		wantType   string // token_type of a success
		wantJKT    string // cnf.jkt of the access token, "" for none
	}{
		{
			name:       "bound ID-JAG without a proof",
			req:        func(t *testing.T) tokenRequest { return grant(e.boundJAG(t, jktA)) },
			wantStatus: 400, wantError: "invalid_grant",
			wantDesc: `the ID-JAG is DPoP-bound (cnf.jkt '` + jktA + `'); send a DPoP proof with that key`,
		},
		{
			name:       "bound ID-JAG with a proof of another key",
			req:        func(t *testing.T) tokenRequest { return withProofs(grant(e.boundJAG(t, jktA)), e.tokenProof(t, keyB)) },
			wantStatus: 400, wantError: "invalid_grant",
			wantDesc: `the ID-JAG is DPoP-bound (cnf.jkt '` + jktA + `'); send a DPoP proof with that key, not with the key '` + jktB + `'`,
		},
		{
			name:       "bound ID-JAG with a proof of its key",
			req:        func(t *testing.T) tokenRequest { return withProofs(grant(e.boundJAG(t, jktA)), e.tokenProof(t, keyA)) },
			wantStatus: 200, wantType: "DPoP", wantJKT: jktA,
		},
		{
			name: "bound ID-JAG with a proof of its key, client_secret_post",
			req: func(t *testing.T) tokenRequest {
				r := withProofs(grant(e.boundJAG(t, jktA)), e.tokenProof(t, keyA))
				r.basic = nil
				r.form.Set("client_id", confidentialClient)
				r.form.Set("client_secret", confidentialSecret)
				return r
			},
			wantStatus: 200, wantType: "DPoP", wantJKT: jktA,
		},
		{
			name:       "unbound ID-JAG with a proof",
			req:        func(t *testing.T) tokenRequest { return withProofs(grant(e.jag(t, nil)), e.tokenProof(t, keyB)) },
			wantStatus: 200, wantType: "DPoP", wantJKT: jktB,
		},
		{
			name:       "unbound ID-JAG without a proof",
			req:        func(t *testing.T) tokenRequest { return grant(e.jag(t, nil)) },
			wantStatus: 200, wantType: "Bearer",
		},
		{
			name: "bound ID-JAG with an invalid proof of its key",
			req: func(t *testing.T) tokenRequest {
				return withProofs(grant(e.boundJAG(t, jktA)), e.mintProof(t, keyA, proof{htm: http.MethodGet, htu: e.asURL + "/token"}))
			},
			wantStatus: 400, wantError: "invalid_dpop_proof", wantDesc: `htm 'GET' is not the request's method POST`,
		},
		{
			name: "proof for another token endpoint",
			req: func(t *testing.T) tokenRequest {
				return withProofs(grant(e.jag(t, nil)), e.mintProof(t, keyA, proof{htu: e.idp.issuer + "/token"}))
			},
			wantStatus: 400, wantError: "invalid_dpop_proof", wantDesc: `htu '` + e.idp.issuer + `/token' is not ` + e.asURL + "/token",
		},
		// typ is a media type (RFC 7515 section 4.1.9), as at the IdP:
		// any case, "application/" optional; until 2026-12-06 only
		// dpop+jwt passed.
		{
			name: "proof typed DPoP+JWT",
			req: func(t *testing.T) tokenRequest {
				return withProofs(grant(e.jag(t, nil)), e.mintProof(t, keyA, proof{htu: e.asURL + "/token", typ: "DPoP+JWT"}))
			},
			wantStatus: 200, wantType: "DPoP", wantJKT: jktA,
		},
		{
			name: "proof typed application/dpop+jwt",
			req: func(t *testing.T) tokenRequest {
				return withProofs(grant(e.jag(t, nil)), e.mintProof(t, keyA, proof{htu: e.asURL + "/token", typ: "application/dpop+jwt"}))
			},
			wantStatus: 200, wantType: "DPoP", wantJKT: jktA,
		},
		{
			name: "proof typed JWT",
			req: func(t *testing.T) tokenRequest {
				return withProofs(grant(e.jag(t, nil)), e.mintProof(t, keyA, proof{htu: e.asURL + "/token", typ: "JWT"}))
			},
			wantStatus: 400, wantError: "invalid_dpop_proof", wantDesc: `typ 'JWT' is not 'dpop+jwt'`,
		},
		// A URL with userinfo is not the request's (RFC 9449 section
		// 4.3), as at the IdP; until 2026-12-06 it passed.
		{
			name: "proof for the token endpoint with userinfo",
			req: func(t *testing.T) tokenRequest {
				return withProofs(grant(e.jag(t, nil)), e.mintProof(t, keyA, proof{htu: strings.Replace(e.asURL, "://", "://user:pass@", 1) + "/token"}))
			},
			wantStatus: 400, wantError: "invalid_dpop_proof", wantDesc: `htu '` + strings.Replace(e.asURL, "://", "://user:xxxxx@", 1) + `/token' is not ` + e.asURL + "/token",
		},
		{
			name: "proof with ath",
			req: func(t *testing.T) tokenRequest {
				return withProofs(grant(e.jag(t, nil)), e.mintProof(t, keyA, proof{htu: e.asURL + "/token", token: "x"}))
			},
			wantStatus: 400, wantError: "invalid_dpop_proof", wantDesc: "has an ath",
		},
		{
			name: "proof made too long ago",
			req: func(t *testing.T) tokenRequest {
				return withProofs(grant(e.jag(t, nil)), e.mintProof(t, keyA, proof{htu: e.asURL + "/token", iat: now.Add(-2 * time.Minute)}))
			},
			wantStatus: 400, wantError: "invalid_dpop_proof", wantDesc: "before now",
		},
		{
			name: "two proofs",
			req: func(t *testing.T) tokenRequest {
				return withProofs(grant(e.boundJAG(t, jktA)), e.tokenProof(t, keyA), e.tokenProof(t, keyA))
			},
			wantStatus: 400, wantError: "invalid_dpop_proof", wantDesc: "2 DPoP headers",
		},
		{
			name:       "not a JWT",
			req:        func(t *testing.T) tokenRequest { return withProofs(grant(e.jag(t, nil)), "not-a-jwt") },
			wantStatus: 400, wantError: "invalid_dpop_proof", wantDesc: "not a JWT",
		},
		{
			name:       "cnf with a confirmation method other than jkt",
			req:        e.withBinding(map[string]any{"jkt": jktA, "x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}),
			wantStatus: 400, wantError: "invalid_grant", wantDesc: `confirmation method 'x5t#S256'`,
		},
		{
			name:       "cnf without jkt",
			req:        e.withBinding(map[string]any{"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}),
			wantStatus: 400, wantError: "invalid_grant", wantDesc: "cnf is unusable: no jkt",
		},
		{
			name:       "cnf not an object",
			req:        e.withBinding(jktA),
			wantStatus: 400, wantError: "invalid_grant", wantDesc: "want a JSON object",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.post(t, tt.req(t))
			if r.status != tt.wantStatus {
				t.Fatalf("HTTP %d %s, want %d", r.status, r.raw, tt.wantStatus)
			}
			if tt.wantStatus != http.StatusOK {
				if r.str("error") != tt.wantError || !strings.Contains(r.str("error_description"), tt.wantDesc) {
					t.Errorf("got %s, want %s with %q", r.raw, tt.wantError, tt.wantDesc)
				}
				if _, ok := r.body["access_token"]; ok {
					t.Errorf("a refusal carries an access token: %s", r.raw)
				}
				return
			}
			if r.str("token_type") != tt.wantType {
				t.Errorf("token_type %q, want %q", r.str("token_type"), tt.wantType)
			}
			at, err := e.as.VerifyAccessToken(t.Context(), r.str("access_token"), e.mcpURL)
			if err != nil {
				t.Fatal(err)
			}
			if at.JKT != tt.wantJKT {
				t.Errorf("access token JKT %q, want %q", at.JKT, tt.wantJKT)
			}
			var claims map[string]any
			tok, _ := jwt.ParseSigned(r.str("access_token"), []jose.SignatureAlgorithm{jose.ES256})
			_ = tok.UnsafeClaimsWithoutVerification(&claims)
			cnf, bound := claims["cnf"].(map[string]any)
			if bound != (tt.wantJKT != "") || (bound && cnf["jkt"] != tt.wantJKT) {
				t.Errorf("access token cnf %v, want jkt %q", claims["cnf"], tt.wantJKT)
			}
		})
	}
}

// withBinding mints an ID-JAG whose cnf claim is cnf.
func (e *env) withBinding(cnf any) func(*testing.T) tokenRequest {
	return func(t *testing.T) tokenRequest {
		return grant(e.jag(t, func(c map[string]any) { c["cnf"] = cnf }))
	}
}

// TestTokenEndpoint_DPoPProofIsSingleUse: a proof redeems one grant; a
// refusal for the proof does not burn the ID-JAG.
func TestTokenEndpoint_DPoPProofIsSingleUse(t *testing.T) {
	e := newEnv(t)
	key := newECKey(t)
	p := e.tokenProof(t, key)
	if r := e.post(t, withProofs(grant(e.boundJAG(t, jkt(t, key))), p)); r.status != http.StatusOK {
		t.Fatalf("first use: HTTP %d %s", r.status, r.raw)
	}
	jag := e.boundJAG(t, jkt(t, key))
	r := e.post(t, withProofs(grant(jag), p))
	if r.status != http.StatusBadRequest || r.str("error") != "invalid_dpop_proof" || !strings.Contains(r.str("error_description"), "already used") {
		t.Fatalf("replayed proof: HTTP %d %s", r.status, r.raw)
	}
	if r := e.post(t, grant(jag)); r.str("error") != "invalid_grant" {
		t.Fatalf("without a proof: HTTP %d %s", r.status, r.raw)
	}
	if r := e.post(t, withProofs(grant(jag), e.tokenProof(t, key))); r.status != http.StatusOK {
		t.Fatalf("the ID-JAG with a fresh proof after two refusals: HTTP %d %s", r.status, r.raw)
	}
}

// TestTokenEndpoint_DPoPOneUserCannotFillProofCache: one user's grants,
// each with a new proof, accepted or refused for her share of the ID-JAG
// cache, cannot fill the DPoP proof cache every user's DPoP grant needs:
// once it is half full, her proofs are refused at her share too, and
// another user's DPoP grant passes.
func TestTokenEndpoint_DPoPOneUserCannotFillProofCache(t *testing.T) {
	e := newEnv(t, func(c *authserver.Config) { c.ReplayCacheSize = 100 })
	key := newECKey(t)
	as := func(sub string) string {
		return e.jag(t, func(c map[string]any) { c["sub"], c["cnf"] = sub, map[string]any{"jkt": jkt(t, key)} })
	}
	for i := range 100 {
		r := e.post(t, withProofs(grant(as("u-alice")), e.tokenProof(t, key)))
		if r.status != http.StatusOK && r.status != http.StatusServiceUnavailable {
			t.Fatalf("alice's grant %d: HTTP %d %s", i+1, r.status, r.raw)
		}
	}
	if r := e.post(t, withProofs(grant(as("u-bob")), e.tokenProof(t, key))); r.status != http.StatusOK {
		t.Fatalf("bob's DPoP grant after alice's 100: HTTP %d %s, want 200", r.status, r.raw)
	}
}
