// Package jwkset reads the public signature keys of a JWK Set (RFC 7517
// §5): an IdP's JWKS at the authorization servers, a client's keys in its
// metadata document at the IdP.
package jwkset

import (
	"encoding/json"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
)

// Public returns the public signature keys of the JWK Set in set, and how
// many keys the set listed. Keys it cannot use are skipped rather than
// failing the set, as RFC 7517 §5 asks: an unknown kty, "use" other than
// "sig", malformed members. Symmetric ("oct") keys have no public half and
// are never usable: HMAC with a key that anyone can read would let anyone
// sign. Private members, should a set carry them, are dropped.
func Public(set []byte) (keys []jose.JSONWebKey, listed int, err error) {
	var s struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(set, &s); err != nil {
		return nil, 0, fmt.Errorf("not a JWK Set: %v", err)
	}
	for _, raw := range s.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil || !k.Valid() {
			continue
		}
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		if pub := k.Public(); pub.IsPublic() {
			keys = append(keys, pub)
		}
	}
	return keys, len(s.Keys), nil
}
