package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/xaa-idp/xaa-idp/idptest"
	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// connect against a team's own MCP server (README, "Testing your own
// authorization server"), which has its own tools and no whoami (the demo
// MCP servers' tool, not MCP's): it took the access token, so connect says
// connected and exits 0, with the scopes the authorization server granted.
// Until 2026-12-06 it said "refused ... calling "tools/call": unknown tool
// "whoami"" and exited 1.
func TestConnect_OwnMCPServerWithoutWhoami(t *testing.T) {
	listen := func() net.Listener {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return ln
	}
	asLn, mcpLn := listen(), listen()
	asURL, mcpURL := "http://"+asLn.Addr().String(), "http://"+mcpLn.Addr().String()+"/mcp"
	srv := idptest.New(t, idptest.WithConfigYAML(fmt.Sprintf(`
users: [{username: ana, password: ana-pass}]
clients: [{client_id: team-agent, client_secret: agent-secret, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}]
mcp_servers:
  - {id: notes, name: Team Notes, issuer: %s, resources: [%s], scopes: [notes.read], clients: {team-agent: team-agent-at-notes},
     access: [{users: [ana], scopes: [notes.read]}]}
`, asURL, mcpURL)))
	as, err := authserver.New(authserver.Config{Issuer: asURL, IdPIssuer: srv.Issuer(), Resources: []string{mcpURL},
		Scopes: []string{"notes.read"}, Clients: map[string]string{"team-agent-at-notes": "agent-secret"}})
	if err != nil {
		t.Fatal(err)
	}
	m := mcp.NewServer(&mcp.Implementation{Name: "team-notes", Version: "1"}, nil)
	mcp.AddTool(m, &mcp.Tool{Name: "list_notes"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, map[string]any, error) {
		return nil, map[string]any{"notes": []string{"first"}}, nil
	})
	verify := func(ctx context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
		at, err := as.VerifyAccessToken(ctx, token, mcpURL)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", auth.ErrInvalidToken, err)
		}
		return &auth.TokenInfo{UserID: at.Subject, Scopes: at.Scopes, Expiration: at.Expiry}, nil
	}
	prm := "http://" + mcpLn.Addr().String() + "/.well-known/oauth-protected-resource/mcp"
	mux := http.NewServeMux()
	mux.Handle("/.well-known/oauth-protected-resource/mcp", auth.ProtectedResourceMetadataHandler(&oauthex.ProtectedResourceMetadata{
		Resource: mcpURL, AuthorizationServers: []string{asURL}}))
	mux.Handle("/mcp", auth.RequireBearerToken(verify, &auth.RequireBearerTokenOptions{ResourceMetadataURL: prm})(
		mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return m }, nil)))
	for ln, h := range map[net.Listener]http.Handler{asLn: as, mcpLn: mux} {
		hs := &http.Server{Handler: h}
		go hs.Serve(ln)
		t.Cleanup(func() { hs.Close() })
	}

	code, stdout, stderr := runCLI(t, "connect", "--issuer", srv.Issuer(), "--client-id", "team-agent", "--client-secret", "agent-secret",
		"--username", "ana", "--password", "ana-pass")
	want := "connected  Team Notes  " + mcpURL + "  as (not shown: the server has no whoami tool), scopes notes.read\n"
	if code != exitOK || stdout != want {
		t.Errorf("connect: exit %d\n%s%s\nwant exit 0 and %q", code, stdout, stderr, want)
	}
	code, stdout, stderr = runCLI(t, "connect", "--issuer", srv.Issuer(), "--client-id", "team-agent", "--client-secret", "agent-secret",
		"--username", "ana", "--password", "ana-pass", "--json")
	if code != exitOK || !strings.Contains(stdout, `"connected": true`) || !strings.Contains(stdout, `"notes.read"`) || strings.Contains(stdout, `"whoami"`) {
		t.Errorf("connect --json: exit %d\n%s%s\nwant exit 0, connected with scopes [notes.read] and no whoami", code, stdout, stderr)
	}
}
