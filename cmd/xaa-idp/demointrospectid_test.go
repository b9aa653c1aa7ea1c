package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestDemo_ClientMappedToTheIntrospectionIDNamesTheMapping: a client
// mapped to mcp-server-<id>, the MCP server's own introspection
// client_id, makes demo exit 2 (docs/http.md). It said so in the
// authorization server's Go terms ("ResourceServers entry ... must have a
// secret and a client_id no client has") at the server's line; it now
// names the mapping's line and what to change, as check's warning does.
func TestDemo_ClientMappedToTheIntrospectionIDNamesTheMapping(t *testing.T) {
	file := minimalConfig(t, "http", freePort(t), freePort(t))
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(string(data), "my-mcp-client-at-notes", "mcp-server-notes", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runBinary(t, "demo", "--addr", "127.0.0.1:0", "--config", file)
	want := fmt.Sprintf("xaa-idp demo: %s:28: server notes: client my-mcp-client is mapped to mcp-server-notes, the client_id of the MCP server's own introspection credentials at its demo authorization server; map it to another client_id", file)
	if code != exitUsage || !strings.Contains(stderr, want) || strings.Contains(stderr, "ResourceServers") {
		t.Errorf("demo: exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr, exitUsage, want)
	}
}
