package signer

import (
	"errors"
	"fmt"

	"github.com/xaa-idp/xaa-idp/internal/secevent"
)

// ErrNoES256Key means the ring holds no ES256 key: neither ID tokens nor
// ID-JAGs are signed with ES256.
var ErrNoES256Key = errors.New("signer: no ES256 key to sign Security Event Tokens; set signing.id_jag_alg or signing.id_token_alg to ES256")

// SignSecEvent signs claims as a Security Event Token (RFC 8417 section
// 2.3: typ secevent+jwt, with kid) with the current ES256 key, the ID-JAG
// key when it is ES256, else the ID token key. Being a current key, it is
// in the JWK Set. The claims are encoded with encoding/json.
func (r *Ring) SignSecEvent(claims any) (string, error) {
	k := r.idJAGKey()
	if k.alg != "ES256" {
		k = r.IDTokenKey()
	}
	if k.alg != "ES256" {
		return "", ErrNoES256Key
	}
	set, err := k.sign(encodedHeader(string(k.alg), k.id, secevent.Type), claims)
	if err != nil {
		return "", fmt.Errorf("signer: the ES256 key: %w", err)
	}
	return set, nil
}
