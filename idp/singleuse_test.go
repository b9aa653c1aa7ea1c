package idp_test

import (
	"crypto/elliptic"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
)

// TestSingleUseSubject_RespelledToken covers case 50 against a client that
// re-sends a used ID token spelled differently: a JWS whose base64url has
// other unused trailing bits or a line break decodes to the same bytes, and
// an ECDSA signature (r, s) has the twin (r, n-s); each verifies. In
// single-use mode the IdP must see the one ID token behind all of them.
func TestSingleUseSubject_RespelledToken(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			cfg := conformanceConfigWith(t, "groups:\n  - name: eng", "signing: {id_token_alg: "+alg+"}\ngroups:\n  - name: eng")
			cfg.Exchange.SingleUseSubject = true
			f := newFixture(t, cfg)
			alice := f.alice.IDToken()
			chat := grantCase{form: b(alice), header: basicS1,
				sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read"}
			f.expectIDJAG(t, chat)

			respelled := map[string]string{
				"other trailing bits of the signature": otherTrailingBits(t, alice),
				"a line break in the payload":          insertNewline(alice),
			}
			if alg == "ES256" {
				respelled["the signature's twin (r, n-s)"] = ecdsaTwin(t, alice)
			}
			for name, tok := range respelled {
				t.Run(name, func(t *testing.T) {
					f.expectRefusal(t, refusal{form: b(tok), code: "invalid_grant", outcome: audit.Error})
				})
			}
		})
	}
}

// otherTrailingBits respells the JWS's signature with other unused bits in
// its last base64url character: the same bytes, another string.
func otherTrailingBits(t *testing.T, tok string) string {
	t.Helper()
	i := strings.LastIndexByte(tok, '.')
	sig := tok[i+1:]
	want, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		t.Fatal(err)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for _, c := range alphabet {
		v := sig[:len(sig)-1] + string(c)
		if got, err := base64.RawURLEncoding.DecodeString(v); v != sig && err == nil && string(got) == string(want) {
			return tok[:i+1] + v
		}
	}
	t.Fatalf("the signature %q has no unused bits to respell", sig)
	return ""
}

// insertNewline puts a line break into the payload, which base64 decoders
// skip.
func insertNewline(tok string) string {
	i := strings.IndexByte(tok, '.') + 5
	return tok[:i] + "\n" + tok[i:]
}

// ecdsaTwin is an ES256 JWS with the signature (r, n-s), which verifies as
// well as (r, s): no key needed.
func ecdsaTwin(t *testing.T, tok string) string {
	t.Helper()
	i := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil || len(sig) != 64 {
		t.Fatalf("not an ES256 signature: %d bytes, %v", len(sig), err)
	}
	s := new(big.Int).SetBytes(sig[32:])
	s.Sub(elliptic.P256().Params().N, s)
	twin := append(append([]byte{}, sig[:32]...), s.FillBytes(make([]byte, 32))...)
	return tok[:i+1] + base64.RawURLEncoding.EncodeToString(twin)
}
