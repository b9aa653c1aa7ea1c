package idp

import (
	"strings"
	"testing"
)

// BenchmarkTokenHash hashes a subject ID token's size of string, as the exchange's subject cache
// does once per request.
func BenchmarkTokenHash(b *testing.B) {
	tok := strings.Repeat("eyJhbGciOiJSUzI1NiJ9.", 50)
	b.ReportAllocs()
	for b.Loop() {
		_ = tokenHash(tok)
	}
}

// TestTokenHash pins tokenHash to base64url(SHA-256(token)): stores keyed by it must find
// what was put in them before the copy-free hashing.
func TestTokenHash(t *testing.T) {
	for tok, want := range map[string]string{
		"":    "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU",
		"abc": "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0",
	} {
		if got := tokenHash(tok); got != want {
			t.Errorf("tokenHash(%q) = %s, want %s", tok, got, want)
		}
	}
}
