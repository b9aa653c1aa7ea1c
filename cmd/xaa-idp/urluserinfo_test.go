package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCheck_UserinfoInAnIssuerOrResourceIsRefused: an MCP server's issuer
// or resource, or the IdP's issuer, written with a user and password
// (https://u:topsecret@as.example) was accepted: every ID-JAG's aud then
// carried the password, and the URL-spelling warning quoted it into the
// log. No client sends such an audience. check refuses it at the key's
// line without quoting the password.
func TestCheck_UserinfoInAnIssuerOrResourceIsRefused(t *testing.T) {
	file := filepath.Join(t.TempDir(), "idp.yaml")
	config := `issuer: http://admin:topsecret1@127.0.0.1:8080
users:
  - username: alice
    password: alice
clients:
  - client_id: app
    client_secret: s
    redirect_uris: [http://127.0.0.1/callback]
    token_exchange: true
mcp_servers:
  - id: crm
    issuer: HTTPS://u:topsecret2@as.example
    resources: [https://u:topsecret3@mcp.example/mcp]
    clients: {app: crm-app}
    access:
      - users: [alice]
        clients: [app]
`
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stderr := runCLIFor(t, 20*time.Second, "check", "--config", file)
	for _, want := range []string{
		file + ":1: issuer: the URL has userinfo",
		file + ":12: mcp_servers[0].issuer: the URL has userinfo",
		file + ":13: mcp_servers[0].resources[0]: the URL has userinfo",
	} {
		if code != 2 || !strings.Contains(stderr, want) {
			t.Errorf("check: exit %d, want 2 with %q:\n%s", code, want, stderr)
		}
	}
	if strings.Contains(stderr, "topsecret") {
		t.Errorf("check quotes a password of a URL:\n%s", stderr)
	}
}
