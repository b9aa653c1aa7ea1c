package main

import (
	"strings"
	"testing"
)

// TestExchange_ConfigUnknownIDListsTheIDs: exchange --config names an MCP
// server by its id, as explain does; a mistyped id got the IdP's "unknown
// audience" alone, where explain also lists the ids the file has. exchange
// lists them too, after the IdP's answer (exit 1 still: the IdP refused).
func TestExchange_ConfigUnknownIDListsTheIDs(t *testing.T) {
	issuer := startServe(t)
	_, idToken, _ := runCLI(t, "login", "--issuer", issuer, "--client-id", "mcp-client", "--client-secret", "mcp-secret", "--username", "alice", "--password", "alice", "--print", "id_token")
	code, out, stderr := runCLI(t, "exchange", "--issuer", issuer, "--client-id", "mcp-client", "--client-secret", "mcp-secret",
		"--id-token", strings.TrimSpace(idToken), "--config", "../../fixtures/demo.yaml", "--audience", "trackr")
	want := `xaa-idp exchange: --audience "trackr" names no MCP server of ../../fixtures/demo.yaml; their ids: tracker, wiki, design, crm (or give an issuer or alias)`
	if code != exitFailure || !strings.Contains(out, "invalid_target") || !strings.Contains(stderr, want) {
		t.Errorf("exchange --audience trackr: exit %d, stdout %q, stderr %q; want exit %d saying %q", code, out, stderr, exitFailure, want)
	}
}
