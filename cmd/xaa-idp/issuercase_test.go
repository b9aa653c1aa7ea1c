package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestIssuerSchemeInUpperCase: `issuer: HTTP://127.0.0.1:8080` (or
// --issuer so) passed check, and serve then stopped with exit 1 and
// op's "idp: scheme for issuer must be `https`", naming neither the file
// nor the line: the scheme was taken for https because it was not spelt
// "http://". An issuer is compared as written (RFC 8414 section 3.3) and
// clients lower-case a URL's scheme, so both check and serve now refuse
// it, exit 2, at its line (or naming --issuer), saying what to write.
func TestIssuerSchemeInUpperCase(t *testing.T) {
	for _, scheme := range []string{"HTTP", "Https"} {
		t.Run(scheme, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "idp.yaml")
			data := "issuer: " + scheme + "://127.0.0.1:8080\nusers:\n  - {username: alice, password: alice}\n"
			if err := os.WriteFile(file, []byte(data), 0o600); err != nil {
				t.Fatal(err)
			}
			want := "write the scheme in lower case: " + strings.ToLower(scheme) + "://127.0.0.1:8080"
			for _, args := range [][]string{
				{"check", "--config", file},
				{"serve", "--config", file, "--addr", "127.0.0.1:0"},
			} {
				code, stderr := runCLIFor(t, 20*time.Second, args...)
				if code != 2 || !strings.Contains(stderr, file+":1: issuer: ") || !strings.Contains(stderr, want) {
					t.Errorf("%s: exit %d, want 2 with %q at line 1:\n%s", args[0], code, want, stderr)
				}
			}
			code, stderr := runCLIFor(t, 20*time.Second, "serve", "--addr", "127.0.0.1:0", "--issuer", scheme+"://127.0.0.1:8080")
			if code != 2 || !strings.Contains(stderr, "--issuer") || !strings.Contains(stderr, want) {
				t.Errorf("serve --issuer: exit %d, want 2 with %q:\n%s", code, want, stderr)
			}
		})
	}
}
