package idp

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"unsafe"
)

// randomID returns n random bytes, base64url: jti values, codes, session ids.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// tokenHash is the key under which a token is remembered: stores never keep
// a bearer token itself longer than they must.
//
// It hashes the token's bytes in place: []byte(tok) copied the token (an ID
// token is about 1 KB) on every exchange. sha256 only reads its input.
func tokenHash(tok string) string {
	h := sha256.Sum256(unsafe.Slice(unsafe.StringData(tok), len(tok)))
	var out [43]byte // base64.RawURLEncoding.EncodedLen(sha256.Size)
	base64.RawURLEncoding.Encode(out[:], h[:])
	return string(out[:])
}
