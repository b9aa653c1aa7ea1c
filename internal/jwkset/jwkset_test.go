package jwkset_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/internal/jwkset"
)

func TestPublic_KeepsOnlyPublicSignatureKeys(t *testing.T) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: priv, KeyID: "private-member", Algorithm: "ES256"},           // kept, without d
		{Key: priv.Public(), KeyID: "enc", Use: "enc", Algorithm: "ES256"}, // not for signatures
		{Key: []byte("0123456789abcdef0123456789abcdef"), KeyID: "hmac"},   // symmetric
	}})
	keys, listed, err := jwkset.Public(set)
	if err != nil || listed != 3 {
		t.Fatalf("listed %d, err %v", listed, err)
	}
	if len(keys) != 1 || keys[0].KeyID != "private-member" || !keys[0].IsPublic() {
		t.Fatalf("keys = %+v, want only the public half of private-member", keys)
	}
	if _, _, err := jwkset.Public([]byte(`[]`)); err == nil {
		t.Error("a JSON array was taken for a JWK Set")
	}
}
