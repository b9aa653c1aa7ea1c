package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheck_WarnsOfAnAdminWhoseUsernameHoldsAColon: HTTP Basic cannot carry
// a user-id with a colon (RFC 7617 §2: the first colon ends it), so an
// admin named "ops:alice" can reach the admin API only through the
// console's session, never with Basic. check says so at the username's
// line and still accepts the file; a user who is no admin signs in with the
// form only, and is not warned of.
func TestCheck_WarnsOfAnAdminWhoseUsernameHoldsAColon(t *testing.T) {
	tests := []struct {
		name, users string
		warnLine    string
	}{
		{"admin", "users:\n  - {username: alice, password: alice}\n  - username: \"ops:alice\"\n    password: pw\n    admin: true\n", "3"},
		{"not admin", "users:\n  - {username: \"ops:alice\", password: pw}\n", ""},
		{"admin without colon", "users:\n  - {username: ops, password: pw, admin: true}\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "users.yaml")
			if err := os.WriteFile(file, []byte(tt.users), 0o600); err != nil {
				t.Fatal(err)
			}
			code, out, stderr := runCLI(t, "check", "--config", file)
			if code != 0 || !strings.Contains(out, ": ok (") {
				t.Fatalf("check: exit %d\n%s%s", code, out, stderr)
			}
			if tt.warnLine == "" {
				if stderr != "" {
					t.Errorf("check's stderr, want none:\n%s", stderr)
				}
				return
			}
			if !strings.Contains(stderr, file+":"+tt.warnLine+": warning: user ops:alice: ") || !strings.Contains(stderr, "RFC 7617") {
				t.Errorf("check's stderr, want a warning at line %s:\n%s", tt.warnLine, stderr)
			}
		})
	}
}
