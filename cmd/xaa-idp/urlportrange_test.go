package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCheck_URLPortOutOfRangeIsRefused: a URL of the configuration with
// the port 198801 passed check (Go's url.Parse takes any digits), and
// demo or a client then failed with "invalid port". check refuses it at
// the key's line, for every URL key.
func TestCheck_URLPortOutOfRangeIsRefused(t *testing.T) {
	file := filepath.Join(t.TempDir(), "idp.yaml")
	config := `issuer: http://127.0.0.1:198801
cimd:
  enabled: true
  allow: ["http://127.0.0.1:70000/*"]
users:
  - username: alice
    password: alice
    email: alice@example.com
clients:
  - client_id: app
    client_secret: s
    redirect_uris: [http://127.0.0.1:99999/callback]
    token_exchange: true
mcp_servers:
  - id: crm
    issuer: http://127.0.0.1:65536
    resources: [http://127.0.0.1:123456/mcp]
    events_endpoint: http://127.0.0.1:88888/events
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
		file + ":1: issuer: \"http://127.0.0.1:198801\" has the port 198801",
		file + ":4: cimd.allow[0]: \"http://127.0.0.1:70000/*\" has the port 70000",
		file + ":12: clients[0].redirect_uris[0]: \"http://127.0.0.1:99999/callback\" has the port 99999",
		file + ":16: mcp_servers[0].issuer: \"http://127.0.0.1:65536\" has the port 65536",
		file + ":17: mcp_servers[0].resources[0]: \"http://127.0.0.1:123456/mcp\" has the port 123456",
		file + ":18: mcp_servers[0].events_endpoint: \"http://127.0.0.1:88888/events\" has the port 88888",
	} {
		if code != 2 || !strings.Contains(stderr, want) || !strings.Contains(stderr, "0-65535") {
			t.Errorf("check: exit %d, want 2 with %q and the range 0-65535:\n%s", code, want, stderr)
		}
	}

	// The highest port and a pattern's port star stay fine.
	config = strings.NewReplacer("198801", "65535", "70000", "*", "99999", "8080", "65536", "1", "123456", "0", "88888", "443").Replace(config)
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, stderr := runCLIFor(t, 20*time.Second, "check", "--config", file); strings.Contains(stderr, "has the port") || code == 2 {
		t.Errorf("check of ports in range: exit %d:\n%s", code, stderr)
	}
}
