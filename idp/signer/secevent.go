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
// 2.3: typ secevent+jwt, with kid) with the current ES256 key: the ID-JAG
// key when it is ES256, else the ID token key, else one Ensure made (an
// MCP server's signing_alg, or the demo's key for Security Event Tokens).
// Being a current key, it is in the JWK Set. The claims are encoded with
// encoding/json.
func (r *Ring) SignSecEvent(claims any) (string, error) {
	r.wait()
	r.mu.RLock()
	k := r.current("ES256")
	r.mu.RUnlock()
	if k == nil {
		return "", ErrNoES256Key
	}
	set, err := k.sign(encodedHeader(string(k.alg), k.id, secevent.Type), claims)
	if err != nil {
		return "", fmt.Errorf("signer: the ES256 key: %w", err)
	}
	return set, nil
}
