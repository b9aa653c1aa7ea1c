package connect_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/xaa-idp/xaa-idp/connect"
	"github.com/xaa-idp/xaa-idp/idptest"
	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// startOwnServer runs an MCP server as a team integrating xaa-idp writes
// one (README, "Testing your own authorization server"): its own
// authorization server, trusting the IdP, and an MCP server on the
// official Go SDK whose tools are its own (tools registers them; no
// whoami unless it adds one), on free loopback ports. It returns the
// IdP's issuer and the MCP endpoint.
func startOwnServer(t *testing.T, tools func(*mcp.Server)) (issuer, mcpURL string) {
	t.Helper()
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
groups: [{name: staff}]
users:
  - {username: ana, password: ana-pass, groups: [staff]}
clients:
  - {client_id: team-agent, client_secret: agent-secret, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}
mcp_servers:
  - id: notes
    name: Team Notes
    issuer: %s
    resources: [%s]
    scopes: [notes.read, notes.write]
    clients: {team-agent: team-agent-at-notes}
    access:
      - groups: [staff]
        scopes: [notes.read]
`, asURL, mcpURL)))
	as, err := authserver.New(authserver.Config{
		Issuer: asURL, IdPIssuer: srv.Issuer(), Resources: []string{mcpURL},
		Scopes: []string{"notes.read", "notes.write"}, Clients: map[string]string{"team-agent-at-notes": "agent-secret"},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := mcp.NewServer(&mcp.Implementation{Name: "team-notes", Version: "1"}, nil)
	tools(m)
	verify := func(ctx context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
		at, err := as.VerifyAccessToken(ctx, token, mcpURL)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", auth.ErrInvalidToken, err)
		}
		return &auth.TokenInfo{UserID: at.Subject, Scopes: at.Scopes, Expiration: at.Expiry}, nil
	}
	mux := http.NewServeMux()
	prm := "http://" + mcpLn.Addr().String() + "/.well-known/oauth-protected-resource/mcp"
	mux.Handle("/.well-known/oauth-protected-resource/mcp", auth.ProtectedResourceMetadataHandler(&oauthex.ProtectedResourceMetadata{
		Resource: mcpURL, AuthorizationServers: []string{asURL}, ScopesSupported: []string{"notes.read", "notes.write"},
	}))
	mux.Handle("/mcp", auth.RequireBearerToken(verify, &auth.RequireBearerTokenOptions{ResourceMetadataURL: prm})(
		mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return m }, nil)))
	for ln, h := range map[net.Listener]http.Handler{asLn: as, mcpLn: mux} {
		hs := &http.Server{Handler: h}
		go hs.Serve(ln)
		t.Cleanup(func() { hs.Close() })
	}
	return srv.Issuer(), mcpURL
}

type listNotesIn struct{}
type listNotesOut struct {
	Notes []string `json:"notes"`
}

func listNotes(ctx context.Context, req *mcp.CallToolRequest, _ listNotesIn) (*mcp.CallToolResult, listNotesOut, error) {
	return nil, listNotesOut{Notes: []string{"first"}}, nil
}

// whoami is the demo MCP servers' tool, not MCP's: a team's own MCP server
// that has none accepted the access token all the same. connect said
// "refused ... calling "tools/call": unknown tool "whoami"" and exited 1,
// after the token exchange, the JWT bearer grant and initialize had all
// succeeded; and a whoami of the team's own shape (no "scopes") gave
// "scopes " with nothing after it.
func TestRun_OwnMCPServerWithoutDemoWhoami(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tools   func(*mcp.Server)
		wantSub any
	}{
		{"no whoami tool", func(m *mcp.Server) {
			mcp.AddTool(m, &mcp.Tool{Name: "list_notes"}, listNotes)
		}, nil},
		{"a whoami of its own shape", func(m *mcp.Server) {
			mcp.AddTool(m, &mcp.Tool{Name: "list_notes"}, listNotes)
			mcp.AddTool(m, &mcp.Tool{Name: "whoami"}, func(ctx context.Context, req *mcp.CallToolRequest, _ listNotesIn) (*mcp.CallToolResult, map[string]any, error) {
				return nil, map[string]any{"sub": req.Extra.TokenInfo.UserID, "scope": strings.Join(req.Extra.TokenInfo.Scopes, " ")}, nil
			})
		}, "u-ana"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			issuer, mcpURL := startOwnServer(t, tc.tools)
			results, err := connect.Run(context.Background(), connect.Options{
				Issuer: issuer, ClientID: "team-agent", ClientSecret: "agent-secret", Username: "ana", Password: "ana-pass",
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(results) != 1 || results[0].MCPServer != mcpURL {
				t.Fatalf("results %+v, want the one server %s", results, mcpURL)
			}
			r := results[0]
			if !r.Connected || r.Err != nil {
				t.Fatalf("not connected to a server that took the access token: %v", r.Err)
			}
			if !slices.Equal(r.Scopes, []string{"notes.read"}) {
				t.Errorf("scopes %q, want the access token's [notes.read]", r.Scopes)
			}
			if r.WhoAmI["sub"] != tc.wantSub {
				t.Errorf("whoami %v, want sub %v", r.WhoAmI, tc.wantSub)
			}
		})
	}
}
