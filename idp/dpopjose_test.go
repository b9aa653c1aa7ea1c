package idp_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/audit"
)

// TestDPoP_JOSEMatrix sends, as the DPoP proof of a token exchange, the
// rows of the JOSE confusion matrix TestDPoP_InvalidProofIsRefused does
// not: other spellings of none, serializations other than compact, an
// unencoded payload, dates go-jose cannot hold, members sent twice,
// padding, and tokens of other types. Each is invalid_dpop_proof saying
// why, audited, and binds nothing.
func TestDPoP_JOSEMatrix(t *testing.T) {
	f := newFixture(t, conformanceConfig(t))
	alice := f.alice.IDToken()
	key := newP256(t)
	enc := base64.RawURLEncoding.EncodeToString
	header := map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": jwkOf(t, key.Public())}
	claims := func() map[string]any {
		return map[string]any{"jti": randomJTI(), "htm": "POST", "htu": f.tokenEndpoint(), "iat": time.Now().Unix()}
	}
	js := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	plus := func(obj, name, value string) string {
		return strings.TrimSuffix(obj, "}") + `,"` + name + `":` + value + "}"
	}
	// raw signs header and claims JSON as given.
	raw := func(h, c string) string {
		in := enc([]byte(h)) + "." + enc([]byte(c))
		return in + "." + enc(signJWS(t, key, jose.ES256, in))
	}
	withAlg := func(alg string) string {
		h := map[string]any{"typ": "dpop+jwt", "alg": alg, "jwk": header["jwk"]}
		return enc([]byte(js(h))) + "." + enc([]byte(js(claims()))) + "."
	}
	compact := strings.Split(raw(js(header), js(claims())), ".")
	b64false := enc([]byte(plus(plus(js(header), "b64", "false"), "crit", `["b64"]`)))
	unencoded := js(claims())
	iatLess := claims()
	delete(iatLess, "iat")

	for _, tt := range []struct{ name, proof, desc string }{
		{"alg NONE", withAlg("NONE"), "'NONE'"},
		{"alg None", withAlg("None"), "'None'"},
		{"JWS JSON serialization, flattened", js(map[string]string{"protected": compact[0], "payload": compact[1], "signature": compact[2]}), "not a JWT"},
		{"JWS JSON serialization, general", js(map[string]any{"payload": compact[1], "signatures": []any{map[string]string{"protected": compact[0], "signature": compact[2]}}}), "not a JWT"},
		{"b64 false (RFC 7797), payload unencoded", b64false + "." + unencoded + "." + enc(signJWS(t, key, jose.ES256, b64false+"."+unencoded)), "DPoP proof"},
		{"JWE compact", "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d", "not a JWT"},
		{"iat 1e30", raw(js(header), plus(js(iatLess), "iat", "1e30")), "the iat claim must be a number of seconds since 1970, got 1e30"},
		{"iat a string", raw(js(header), plus(js(iatLess), "iat", `"1700000000"`)), "the iat claim must be a number (seconds since 1970), got a string"},
		{"exp 1e30", raw(js(header), plus(js(claims()), "exp", "1e30")), "the exp claim must be a number of seconds since 1970, got 1e30"},
		{"a claim twice (htu, last another URL)", raw(js(header), plus(js(claims()), "htu", `"https://as.chat.example/token"`)), "its claim 'htu' appears twice (RFC 7519 section 4)"},
		{"a header member twice (jwk, last another key)", raw(plus(js(header), "jwk", string(jwkOf(t, newP256(t).Public()))), js(claims())), "its JOSE header member 'jwk' appears twice (RFC 7515 section 4)"},
		{"padding after the claims", compact[0] + "." + compact[1] + "=." + compact[2], "its payload is not base64url"},
		{"typ secevent+jwt", raw(plus(js(map[string]any{"alg": "ES256", "jwk": header["jwk"]}), "typ", `"secevent+jwt"`), js(claims())), "secevent+jwt"},
		{"the subject ID token as the proof", alice, "typ 'JWT'"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f.remember(tt.proof)
			f.expectRefusal(t, refusal{
				form: b(alice), header: withDPoP(basicS1, tt.proof),
				code: "invalid_dpop_proof", outcome: audit.Error,
				after: func(t *testing.T, body map[string]any) {
					if d, _ := body["error_description"].(string); !strings.Contains(d, tt.desc) {
						t.Errorf("error_description %q lacks %q", d, tt.desc)
					}
				},
			})
		})
	}
	f.checkAuditHasNoTokens(t)
}
