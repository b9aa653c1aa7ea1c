package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheck_WarnsOfOfflineAccessOrOpenIDAsAnMCPServersScope: an MCP
// server whose scopes held offline_access or openid passed check without
// a word, and its demo MCP server listed them in scopes_supported and its
// 401 challenge's scope, which MCP authorization says servers SHOULD NOT
// do for offline_access (refresh tokens are not a resource's
// requirement). An exchange for them works, but nothing comes of them:
// the ID-JAG and the access token carry the word, and no refresh token or
// ID token is issued. check now warns at the scope's line.
func TestCheck_WarnsOfOfflineAccessOrOpenIDAsAnMCPServersScope(t *testing.T) {
	file := filepath.Join(t.TempDir(), "idp.yaml")
	config := `users: [{username: ann, password: ann}]
clients:
  - {client_id: app, client_secret: app-secret, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}
mcp_servers:
  - id: notes
    issuer: http://127.0.0.1:20202
    resources: [http://127.0.0.1:20203/mcp]
    scopes:
      - notes.read
      - offline_access
      - openid
    clients: {app: app}
    access: [{users: [ann], scopes: [notes.read, offline_access]}]
`
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "check", "--config", file)
	for _, want := range []string{
		file + ":10: warning: server notes: scope offline_access ",
		file + ":11: warning: server notes: scope openid ",
	} {
		if code != exitOK || !strings.Contains(stderr, want) {
			t.Errorf("check: exit %d\nstdout %s\nstderr %s\nwant exit 0 and %q", code, stdout, stderr, want)
		}
	}
	if strings.Contains(stderr, ":9: warning") {
		t.Errorf("check warned of notes.read:\n%s", stderr)
	}
}
