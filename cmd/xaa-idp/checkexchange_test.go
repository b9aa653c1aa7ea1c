package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheck_WarnsOfAConnectedClientWithoutTokenExchange: token_exchange
// defaults to false, and a newcomer who connects a client to an MCP
// server without setting it got "ok" from check and unauthorized_client
// at every exchange. check now warns at the client, saying what to set;
// a client connected nowhere may well be a login-only client, and is left
// alone.
func TestCheck_WarnsOfAConnectedClientWithoutTokenExchange(t *testing.T) {
	file := filepath.Join(t.TempDir(), "idp.yaml")
	config := `users: [{username: ann, password: ann}]
clients:
  - client_id: app
    client_secret: app-secret
    redirect_uris: [http://127.0.0.1/callback]
  - client_id: web
    client_secret: web-secret
    redirect_uris: [http://127.0.0.1/callback]
mcp_servers:
  - id: notes
    issuer: http://127.0.0.1:1
    resources: [http://127.0.0.1:2/mcp]
    scopes: [notes.read]
    clients: {app: app}
    access: [{users: [ann], scopes: [notes.read]}]
`
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "check", "--config", file)
	want := file + ":3: warning: client app: connected to MCP server notes, but token_exchange is false (the default), so it never gets an ID-JAG (unauthorized_client); set token_exchange: true"
	if code != exitOK || !strings.Contains(stderr+stdout, want) || strings.Contains(stderr+stdout, "client web") {
		t.Errorf("check: exit %d\nstdout %s\nstderr %s\nwant the warning %q alone", code, stdout, stderr, want)
	}
}
