package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLI_ExplainNamesWhyAURLClientIsRefused: explain of a client_id that
// is a URL the cimd section does not admit says why, as the IdP's token
// endpoint does ("client_id URL not allowed: ... matches no allowed
// pattern", "client ID metadata documents are disabled"), not that the
// client "is not registered", which sends an admin looking for a missing
// clients: entry when cimd.allow (or cimd.enabled) is what to change.
func TestCLI_ExplainNamesWhyAURLClientIsRefused(t *testing.T) {
	const base = `
users: [{username: alice, password: alice}]
mcp_servers:
  - id: chat
    issuer: https://as.chat.example
    resources: [https://mcp.chat.example/mcp]
    scopes: [chat.read]
    clients: {"http://127.0.0.1:9/c.json": c-at-chat}
    access: [{users: [alice], scopes: [chat.read]}]
`
	dir := t.TempDir()
	for _, tc := range []struct {
		name, cimd, client string
		want               []string
	}{
		{"not allowed", "cimd: {allow: [\"http://127.0.0.1:*\"]}\n", "https://evil.example/c.json",
			[]string{"refused (invalid_client)", "matches no cimd.allow pattern (http://127.0.0.1:*)", "client_id URL not allowed"}},
		{"disabled", "cimd: {enabled: false}\n", "http://127.0.0.1:9/c.json",
			[]string{"refused (invalid_client)", "cimd.enabled is false", "client ID metadata documents are disabled"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".yaml")
			body := tc.cimd + base
			if tc.name == "disabled" {
				// A disabled cimd admits no URL client in clients: either.
				body = strings.Replace(body, `clients: {"http://127.0.0.1:9/c.json": c-at-chat}`, `clients: {}`, 1)
			}
			if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			code, out, stderr := runCLI(t, "explain", "--config", cfg, "--user", "alice", "--client", tc.client, "--audience", "chat")
			if code != 0 {
				t.Fatalf("explain: exit %d: %s", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("explain output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, "not registered") {
				t.Errorf("explain calls the URL client unregistered:\n%s", out)
			}
		})
	}
}
