package idp

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// randomID returns n random bytes, base64url: jti values, codes, session ids.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// tokenHash is the key under which a token is remembered: stores never keep
// a bearer token itself longer than they must.
func tokenHash(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return base64.RawURLEncoding.EncodeToString(h[:])
}
