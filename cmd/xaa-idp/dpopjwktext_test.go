package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDPoPKey_AnUnreadableJWKSaysWhatAKeyNeeds: a --dpop-key file that is
// a JSON object but no JWK go-jose reads (an unknown kty, an EC key
// without x and y, a member of the wrong type, no kty) is bad usage that
// names what a private key of each kty needs, not go-jose's or
// encoding/json's own text ("go-jose/go-jose: invalid EC key, missing x/y
// values", "json: cannot unmarshal number into Go value of type string").
func TestDPoPKey_AnUnreadableJWKSaysWhatAKeyNeeds(t *testing.T) {
	dir := t.TempDir()
	for name, jwk := range map[string]string{
		"unknown kty":   `{"kty":"XYZ"}`,
		"EC without x":  `{"kty":"EC","crv":"P-256"}`,
		"x as a number": `{"kty":"EC","crv":"P-256","x":5}`,
		"no kty":        `{}`,
	} {
		file := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".jwk")
		if err := os.WriteFile(file, []byte(jwk), 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := runCLI(t, "dpop-proof", "--dpop-key", file, "--htu", "https://as.example/token")
		if code != exitUsage || !strings.Contains(stderr, file+": not a private JWK") || !strings.Contains(stderr, "an EC key needs crv P-256, x, y and d") ||
			strings.Contains(stderr, "go-jose") || strings.Contains(stderr, "json:") {
			t.Errorf("%s: exit %d, stderr %q; want exit %d naming what a private JWK needs", name, code, stderr, exitUsage)
		}
	}
}
