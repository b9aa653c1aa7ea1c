package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheck_WarnsOfValuesTakenAsWritten: a file written as a template
// (client_secret: ${MCP_SECRET}, password: $ALICE_PASSWORD) passed check
// and serve, and the secret was those characters: xaa-idp expands no
// environment variable, so every client then failed with invalid_client
// and nothing said why. A password that is a bcrypt hash (under password:
// rather than password_bcrypt:) let the user sign in only by typing the
// hash. A username written decomposed (NFD, as macOS file names are)
// never matched what a keyboard types (NFC). check now warns of each at
// its line, without printing the value, and still accepts the file.
func TestCheck_WarnsOfValuesTakenAsWritten(t *testing.T) {
	config := "users:\n" +
		"  - username: alice\n" +
		"    password: $ALICE_PASSWORD\n" +
		"  - username: bob\n" +
		"    password: \"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy\"\n" +
		"  - username: \"re\u0301my\"\n" +
		"    password: \"p$w0rd ${not a var}\"\n" +
		"clients:\n" +
		"  - client_id: c\n" +
		"    client_secret: \"${MCP_SECRET}\"\n" +
		"    redirect_uris: [\"http://127.0.0.1/cb\"]\n"
	file := filepath.Join(t.TempDir(), "idp.yaml")
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runCLI(t, "check", "--config", file)
	if code != 0 || !strings.Contains(out, ": ok (") {
		t.Fatalf("check: exit %d\n%s%s", code, out, stderr)
	}
	for _, want := range []string{
		file + ":3: warning: users[0].password: looks like a reference to an environment variable",
		file + ":5: warning: user bob: password holds a bcrypt hash",
		file + ":6: warning: user re\u0301my: username is not written composed (Unicode NFC)",
		file + ":10: warning: clients[0].client_secret: looks like a reference to an environment variable",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("check's stderr lacks\n%s\n---\n%s", want, stderr)
		}
	}
	if n := strings.Count(stderr, "warning:"); n != 4 {
		t.Errorf("%d warnings, want 4:\n%s", n, stderr)
	}
	for _, secret := range []string{"ALICE_PASSWORD", "MCP_SECRET", "N9qo8uLO"} {
		if strings.Contains(stderr, secret) {
			t.Errorf("check's stderr shows the value %s:\n%s", secret, stderr)
		}
	}
}
