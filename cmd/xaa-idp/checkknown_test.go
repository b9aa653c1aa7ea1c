package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheck_KnownNamesLeaveOutAnUnnamedEntry: an entry whose name is
// missing (a typo in its key: usernme) is a problem of its own, at its
// line; the list of known names that another problem offers does not hold
// it as an empty name ("known users: , bob").
func TestCheck_KnownNamesLeaveOutAnUnnamedEntry(t *testing.T) {
	file := filepath.Join(t.TempDir(), "idp.yaml")
	config := `groups:
  - nme: eng
  - name: ops
users:
  - usernme: alice
    password: alice
  - username: bob
    password: bob
    groups: [engg]
mcp_servers:
  - id: s
    issuer: https://as.example
    access: [{users: [bob, zed]}]
`
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "check", "--config", file)
	if code != exitUsage {
		t.Fatalf("check: exit %d, want %d: %s", code, exitUsage, stderr)
	}
	for _, want := range []string{
		`users[0].username: missing`,
		`unknown user "zed"; known users: bob`,
		`unknown group "engg"; known groups: ops`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("check: stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, ": , ") || strings.Contains(stderr, ", ,") {
		t.Errorf("check lists an empty name among the known ones:\n%s", stderr)
	}
}
