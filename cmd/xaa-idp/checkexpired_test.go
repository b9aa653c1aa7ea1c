package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheck_WarnsOfAnAccessEntryAlreadyExpired: an access entry whose
// expires has passed matches nobody from the start (a year mistyped,
// 2025 for 2027), and check said "ok" of it: the first sign was a
// refused exchange. check now warns at its expires, by this machine's
// clock; serve --clock can still start the IdP before it. An entry that
// has not expired is left alone.
func TestCheck_WarnsOfAnAccessEntryAlreadyExpired(t *testing.T) {
	file := filepath.Join(t.TempDir(), "idp.yaml")
	config := `users: [{username: ann, password: ann}]
clients:
  - {client_id: app, client_secret: app-secret, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}
mcp_servers:
  - id: notes
    issuer: http://127.0.0.1:1
    resources: [http://127.0.0.1:2/mcp]
    scopes: [notes.read]
    clients: {app: app}
    access:
      - users: [ann]
        scopes: [notes.read]
        expires: 2020-01-01T00:00:00Z
      - {users: [ann], scopes: [notes.read], expires: "2261-01-01T00:00:00Z"}
`
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "check", "--config", file)
	want := file + ":13: warning: mcp_servers[0].access[0]: expires 2020-01-01T00:00:00Z has passed (this machine's clock reads "
	if code != exitOK || !strings.Contains(stderr, want) || strings.Contains(stderr, "access[1]") || !strings.Contains(stdout, ": ok (") {
		t.Errorf("check: exit %d\nstdout %s\nstderr %s\nwant the warning %q alone", code, stdout, stderr, want)
	}
}
