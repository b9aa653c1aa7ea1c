package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCheck_HugeWholeNumberIsTooLarge: max_pending_logins:
// 99999999999999999999 (beyond 64 bits, which YAML reads as a float) was
// "expected a whole number", which it is, and a number beyond 32 bits gave
// the decoder's range, not the key's. Every integer key says the number is
// too large (or too small) and the key's own range.
func TestCheck_HugeWholeNumberIsTooLarge(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ config, want string }{
		{"security:\n  max_pending_logins: 99999999999999999999\n",
			":2: security.max_pending_logins: 99999999999999999999 is too large; use a whole number from 1 to 1000000"},
		{"security:\n  max_pending_logins: 2147483648\n",
			":2: security.max_pending_logins: 2147483648 is too large; use a whole number from 1 to 1000000"},
		{"security:\n  max_pending_logins: -99999999999999999999\n",
			":2: security.max_pending_logins: -99999999999999999999 is too small; use a whole number from 1 to 1000000"},
		{"faults:\n  - id: f\n    endpoint: token\n    http_status: 99999999999999999999\n",
			":4: faults[0].http_status: 99999999999999999999 is too large; use a whole number from 500 to 599"},
		{"faults:\n  - id: f\n    endpoint: token\n    error: {code: invalid_grant, status: 99999999999999999999}\n",
			":4: faults[0].error.status: 99999999999999999999 is too large; use a whole number from 400 to 599"},
		{"faults:\n  - id: f\n    endpoint: token\n    delay: 1s\n    times: 99999999999999999999\n",
			":5: faults[0].times: 99999999999999999999 is too large; use a whole number from 0 to 2147483647"},
	} {
		file := filepath.Join(dir, "idp.yaml")
		if err := os.WriteFile(file, []byte(c.config), 0o600); err != nil {
			t.Fatal(err)
		}
		code, stderr := runCLIFor(t, 20*time.Second, "check", "--config", file)
		if code != 2 || !strings.Contains(stderr, file+c.want) {
			t.Errorf("check of\n%s: exit %d, want 2 with %q:\n%s", c.config, code, c.want, stderr)
		}
	}
}
