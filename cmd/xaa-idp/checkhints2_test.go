package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheck_SaysWhatToWriteForABoolANumberOrADuration: a quoted true was
// refused with `expected true or false, got "true"`, and a quoted number
// with `expected a whole number, got "100"`, which reads as a
// contradiction; yes and on (YAML 1.1's booleans) were told only what was
// expected; a duration written as seconds (900) or in days (1d) was told
// to use a Go duration. Each message now says what to write.
func TestCheck_SaysWhatToWriteForABoolANumberOrADuration(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"security: {login_throttle: \"false\"}\n", `security.login_throttle: expected true or false, got the quoted text "false"; write false without quotes`},
		{"security: {login_throttle: 'true'}\n", `security.login_throttle: expected true or false, got the quoted text "true"; write true without quotes`},
		{"security: {login_throttle: yes}\n", `security.login_throttle: expected true or false, got "yes"; write true (YAML 1.2 reads yes, no, on and off as text)`},
		{"security: {login_throttle: off}\n", `security.login_throttle: expected true or false, got "off"; write false (YAML 1.2 reads yes, no, on and off as text)`},
		{"security: {max_pending_logins: \"100\"}\n", `security.max_pending_logins: expected a whole number, got the quoted text "100"; write 100 without quotes`},
		{"lifetimes: {id_jag: 900}\n", `lifetimes.id_jag: invalid duration "900"; a duration needs a unit: write 900s (or 15m, 1h30m)`},
		{"lifetimes: {refresh_token: 1d}\n", `lifetimes.refresh_token: invalid duration "1d"; a Go duration has no days: write 24h for 1d`},
		{"lifetimes: {refresh_token: 7d}\n", `lifetimes.refresh_token: invalid duration "7d"; a Go duration has no days: write 168h for 7d`},
	}
	for _, tt := range tests {
		file := filepath.Join(t.TempDir(), "idp.yaml")
		if err := os.WriteFile(file, []byte(tt.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := runCLI(t, "check", "--config", file)
		if code != 2 || !strings.Contains(stderr, file+":1: "+tt.want) {
			t.Errorf("%s: exit %d, want 2 and\n%s\n---\n%s", strings.TrimSpace(tt.yaml), code, tt.want, stderr)
		}
	}
}
