package jwkset_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/internal/jwkset"
)

// FuzzPublic reads arbitrary JWK Sets, as an IdP's JWKS or a client's
// metadata document (anyone's, with CIMD) may hold: never a panic, every
// key returned is a valid public key, and verifying a signature with it
// (what the callers do next) does not panic either.
func FuzzPublic(f *testing.F) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rs, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: ec.Public(), KeyID: "ec", Algorithm: "ES256", Use: "sig"},
		{Key: rs.Public(), KeyID: "rsa", Algorithm: "RS256"},
		{Key: ed.Public(), KeyID: "ed", Algorithm: "EdDSA"},
	}})
	f.Add(set)
	for _, s := range []string{
		`{"keys":[]}`, `{"keys":null}`, `{"keys":[null,1,"x",{}]}`, `[]`, `null`,
		`{"keys":[{"kty":"EC","crv":"P-256","x":"","y":""}]}`,
		`{"keys":[{"kty":"RSA","n":"AQ","e":"AQ"}]}`,
		`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA"}]}`,
		`{"keys":[{"kty":"oct","k":"AAAA"}]}`,
	} {
		f.Add([]byte(s))
	}
	signers := map[string]jose.Signer{}
	for alg, key := range map[jose.SignatureAlgorithm]any{jose.ES256: ec, jose.RS256: rs, jose.EdDSA: ed} {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, nil)
		if err != nil {
			f.Fatal(err)
		}
		signers[string(alg)] = s
	}
	jws := map[string]string{}
	for alg, s := range signers {
		obj, err := s.Sign([]byte(`{"iss":"x"}`))
		if err != nil {
			f.Fatal(err)
		}
		jws[alg], _ = obj.CompactSerialize()
	}
	f.Fuzz(func(t *testing.T, set []byte) {
		keys, listed, err := jwkset.Public(set)
		if err != nil {
			return
		}
		if len(keys) > listed {
			t.Fatalf("%d keys of %d listed", len(keys), listed)
		}
		for _, k := range keys {
			if !k.IsPublic() || !k.Valid() {
				t.Fatalf("key %+v is not a valid public key", k)
			}
			for _, raw := range jws {
				obj, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.EdDSA})
				if err != nil {
					t.Fatal(err)
				}
				_, _ = obj.Verify(k.Key)
			}
		}
	})
}
