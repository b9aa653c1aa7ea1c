// Package ed25519alg verifies JWSs whose alg is Ed25519, the name RFC 9864
// (fully-specified JOSE algorithms) gives the signature that "EdDSA" names
// with an Ed25519 key. openid-client and jose (panva's) write it for such a
// key, in client assertions and DPoP proofs; go-jose (v4.1) knows only
// "EdDSA" and refuses it.
package ed25519alg

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/xaa-idp/xaa-idp/internal/jwscrit"
)

// Alg is RFC 9864's Ed25519.
const Alg = jose.SignatureAlgorithm("Ed25519")

// Claims is tok.Claims(key, out) for tok, parsed from the compact raw, that
// also verifies an Ed25519 signature (with an Ed25519 key only, as RFC 9864
// section 2.2 asks).
func Claims(tok *jwt.JSONWebToken, raw string, key any, out any) error {
	if len(tok.Headers) != 1 || tok.Headers[0].Algorithm != string(Alg) {
		return tok.Claims(key, out)
	}
	// go-jose checks crit when it verifies; this is the check it would
	// have made.
	if err := jwscrit.Check(tok.Headers[0]); err != nil {
		return err
	}
	pub, ok := key.(ed25519.PublicKey)
	if !ok || len(pub) != ed25519.PublicKeySize {
		return errors.New("alg Ed25519 takes an Ed25519 key")
	}
	i := strings.LastIndexByte(raw, '.')
	if i < 0 {
		return errors.New("not a compact JWS")
	}
	sig, err := base64.RawURLEncoding.DecodeString(raw[i+1:])
	if err != nil || !ed25519.Verify(pub, []byte(raw[:i]), sig) {
		return errors.New("ed25519 signature failed to verify")
	}
	return tok.UnsafeClaimsWithoutVerification(out)
}

// SameAlg reports whether two alg names name one signature: equal, or
// EdDSA and Ed25519, RFC 9864's name for it with the Ed25519 keys that
// are the only EdDSA keys here (a key registered for EdDSA verifies an
// Ed25519 JWS).
func SameAlg(a, b string) bool {
	eddsa := func(s string) bool { return s == string(jose.EdDSA) || s == string(Alg) }
	return a == b || eddsa(a) && eddsa(b)
}
