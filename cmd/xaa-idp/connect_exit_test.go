package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestConnect_ExitsNonZeroWhenNothingOrANamedServerFailed: connect's
// job is to connect, and scripts chain it (connect ... && next-step). It
// exits 1 when it connected nothing (a user assigned to no MCP server,
// with --all too), and when a server named with --mcp did not connect,
// --all notwithstanding; 0 when every server it was to connect did, --all
// forgiving the refusals of servers the user is not assigned to.
func TestConnect_ExitsNonZeroWhenNothingOrANamedServerFailed(t *testing.T) {
	mcpPort := freePort(t)
	cfg := minimalConfig(t, "http", freePort(t), mcpPort)
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// idle may log in, and is assigned to nothing.
	data = []byte(strings.Replace(string(data), "users:\n", "users:\n  - username: idle\n    password: idle\n", 1))
	if err := os.WriteFile(cfg, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, stdout := startBinary(t, &syncBuffer{}, "demo", "--addr", "127.0.0.1:0", "--config", cfg)
	banner := waitFor(t, stdout, "Ctrl-C stops everything.")
	issuer := strings.Fields(banner[strings.Index(banner, "  IdP"):])[1]
	notes := fmt.Sprintf("http://127.0.0.1:%d/mcp", mcpPort)
	nothing := fmt.Sprintf("http://127.0.0.1:%d/mcp", freePort(t)) // no server there

	for _, c := range []struct {
		name  string
		args  []string
		code  int
		inErr string
	}{
		{"every assigned server connects", []string{"--username", "dev", "--password", "dev"}, exitOK, ""},
		{"--all, the assigned server connects", []string{"--username", "dev", "--password", "dev", "--all"}, exitOK, ""},
		{"--mcp naming the server", []string{"--username", "dev", "--password", "dev", "--mcp", notes}, exitOK, ""},
		{"assigned to nothing", []string{"--username", "idle", "--password", "idle"}, exitFailure, "idle is assigned to no MCP server through my-mcp-client"},
		{"assigned to nothing, --json", []string{"--username", "idle", "--password", "idle", "--json"}, exitFailure, "idle is assigned to no MCP server"},
		{"assigned to nothing, --all refused everywhere", []string{"--username", "idle", "--password", "idle", "--all"}, exitFailure, "connected to no MCP server"},
		{"--mcp naming a server that is not there, --all", []string{"--username", "dev", "--password", "dev", "--mcp", nothing, "--all"}, exitFailure, ""},
		{"--mcp naming one that is there and one that is not", []string{"--username", "dev", "--password", "dev", "--mcp", notes, "--mcp", nothing, "--all"}, exitFailure, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"connect", "--issuer", issuer, "--client-id", "my-mcp-client", "--client-secret", "change-me"}, c.args...)
			code, out, stderr := runCLI(t, args...)
			if code != c.code || !strings.Contains(stderr, c.inErr) {
				t.Errorf("exit %d, want %d and %q on stderr\nstdout:\n%s\nstderr:\n%s", code, c.code, c.inErr, out, stderr)
			}
		})
	}
}
