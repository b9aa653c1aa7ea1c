package idp_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
)

// TestDPoP_UnreadableJWKIsNamed: a DPoP proof whose jwk is no public key
// go-jose reads (an EC key without x and y, a point not on its curve, an
// unknown kty) is refused invalid_dpop_proof, as before, naming the jwk
// and what a key of its kty needs; it said "the DPoP proof is not a valid
// JWS: its JOSE header is not one this server can verify", of a header
// whose typ, alg and form are right.
func TestDPoP_UnreadableJWKIsNamed(t *testing.T) {
	f := newFixture(t, conformanceConfig(t))
	alice := f.alice.IDToken()
	enc := base64.RawURLEncoding.EncodeToString
	for name, jwk := range map[string]string{
		"EC without x and y":     `{"kty":"EC","crv":"P-256"}`,
		"EC point off the curve": `{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}`,
		"unknown kty":            `{"kty":"XYZ"}`,
		"RSA without e":          `{"kty":"RSA","n":"` + strings.Repeat("A", 342) + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			raw := enc([]byte(`{"typ":"dpop+jwt","alg":"ES256","jwk":`+jwk+`}`)) + "." + enc([]byte(`{"htm":"POST"}`)) + ".AAAA"
			f.expectRefusal(t, refusal{
				form: b(alice), header: withDPoP(basicS1, raw), code: "invalid_dpop_proof", outcome: audit.Error,
				after: func(t *testing.T, body map[string]any) {
					d, _ := body["error_description"].(string)
					if !strings.Contains(d, "the DPoP proof's jwk is not a public key") || !strings.Contains(d, "RFC 7518") || strings.Contains(d, "not one this server can verify") {
						t.Errorf("error_description %q; want it to name the jwk and what its kty needs", d)
					}
				},
			})
		})
	}
}
