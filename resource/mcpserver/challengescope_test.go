package mcpserver_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestMCPServer_UnauthorizedChallengeNamesTheScopes: MCP authorization
// (2025-11-25 and 2026-07-28, "Scope Selection Strategy") says an MCP
// server SHOULD name the scopes it needs in the 401's WWW-Authenticate
// (RFC 6750 §3), and clients take them before scopes_supported. The
// demo servers named only resource_metadata; they now name the scopes
// they publish as scopes_supported, with and without a refused token.
func TestMCPServer_UnauthorizedChallengeNamesTheScopes(t *testing.T) {
	e := newEnv(t)
	want := `scope="issues.read issues.write"`
	for _, authorization := range []string{"", "Bearer not-a-token"} {
		req, _ := http.NewRequest(http.MethodPost, e.mcpURL, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		r := do(t, req)
		if challenge := r.header.Get("WWW-Authenticate"); r.status != http.StatusUnauthorized || !strings.Contains(challenge, want) {
			t.Errorf("Authorization %q: HTTP %d, WWW-Authenticate %q, want 401 with %s", authorization, r.status, challenge, want)
		}
	}
}
