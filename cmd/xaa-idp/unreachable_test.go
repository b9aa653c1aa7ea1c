package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheck_WarnsOfAServerNoClientReachesAndAClientThatCannotSignIn: an
// MCP server with access entries but no clients (the map from IdP client
// to its client_id at the server, which a newcomer leaves out) passed
// check, and every token exchange for it was invalid_target; a client
// with token_exchange: true but no redirect_uris passed too, and could
// never sign a user in, so never held an ID token to exchange. check now
// warns of each at its line and still accepts the file.
func TestCheck_WarnsOfAServerNoClientReachesAndAClientThatCannotSignIn(t *testing.T) {
	config := `users: [{username: alice, password: alice}]
clients:
  - client_id: app
    client_secret: s
    token_exchange: true
mcp_servers:
  - id: notes
    issuer: https://as.example.com
    scopes: [read]
    access:
      - users: [alice]
        scopes: [read]
`
	file := filepath.Join(t.TempDir(), "idp.yaml")
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runCLI(t, "check", "--config", file)
	if code != 0 || !strings.Contains(out, ": ok (") {
		t.Fatalf("check: exit %d\n%s%s", code, out, stderr)
	}
	for _, want := range []string{
		file + ":3: warning: client app: token_exchange is true but the client has no redirect_uris",
		file + ":11: warning: server notes: access entries but no clients",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("check's stderr lacks\n%s\n---\n%s", want, stderr)
		}
	}
	if n := strings.Count(stderr, "warning:"); n != 2 {
		t.Errorf("%d warnings, want 2:\n%s", n, stderr)
	}
}
