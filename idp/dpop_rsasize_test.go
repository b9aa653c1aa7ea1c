package idp_test

import (
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/audit"
)

// TestDPoP_RSAKeySizes: a DPoP proof of an RSA key of 2048 to 4096 bits
// binds the ID-JAG; go-jose reads no larger key (jose.MaxRSAModulusBits),
// so one of 8192 bits is refused, saying so: the comment of
// dpop.MaxProofBytes said an RSA-8192 proof was accepted, and the answer
// was "unsupported key type/format", for a key type the IdP announces.
func TestDPoP_RSAKeySizes(t *testing.T) {
	f := newFixture(t, conformanceConfig(t))
	alice := f.alice.IDToken()
	rsa4096, err := rsa.GenerateKey(rand.Reader, 4096)
	if err != nil {
		t.Fatal(err)
	}
	// Eight primes make a real 8192-bit key in a second, not a minute; only
	// its size matters here.
	//lint:ignore SA1019 a test key, made fast; its security is beside the point
	rsa8192, err := rsa.GenerateMultiPrimeKey(rand.Reader, 8, 8192)
	if err != nil {
		t.Fatal(err)
	}
	for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.PS256} {
		t.Run("4096 bits "+string(alg), func(t *testing.T) {
			f.expectIDJAG(t, grantCase{form: b(alice), header: f.dpopHeader(t, proof{key: rsa4096, alg: alg}),
				sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read",
				check: wantJKT(jkt(t, rsa4096))})
		})
		t.Run("8192 bits "+string(alg), func(t *testing.T) {
			const desc = "the DPoP proof's RSA key has 8192 bits; at most 4096 are accepted"
			f.expectRefusal(t, refusal{
				form: b(alice), header: f.dpopHeader(t, proof{key: rsa8192, alg: alg}),
				code: "invalid_dpop_proof", outcome: audit.Error,
				after: func(t *testing.T, body map[string]any) {
					if d, _ := body["error_description"].(string); !strings.Contains(d, desc) {
						t.Errorf("error_description %q lacks %q", d, desc)
					}
				},
			})
		})
	}
}
