package mcpserver_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/xaa-idp/xaa-idp/resource/mcpserver"
)

// TestMCPServer_EndpointWithOrWithoutTrailingSlash: the MCP endpoint
// answers at its resource's path with and without one trailing "/", as the
// IdP and the authorization servers match resources up to one trailing
// "/". An MCP URL copied as http://host/mcp/ (or configured so, and
// reached as /mcp) gets the RFC 9728 challenge and then the tools, not a
// plain-text 404 that no client can act on. A DPoP proof's htu is the URL
// the request was sent to (RFC 9449 §4.3), with or without the "/".
func TestMCPServer_EndpointWithOrWithoutTrailingSlash(t *testing.T) {
	e := newEnv(t)

	// The tracker's resource is .../mcp; reached at .../mcp/.
	req, _ := http.NewRequest(http.MethodPost, e.mcpURL+"/", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	r := do(t, req)
	wantMeta := `resource_metadata="` + e.mcpOrigin + `/.well-known/oauth-protected-resource/mcp"`
	if r.status != http.StatusUnauthorized || !strings.Contains(r.header.Get("WWW-Authenticate"), wantMeta) {
		t.Fatalf("POST %s/ without a token: HTTP %d %q %s, want 401 with %s", e.mcpURL, r.status, r.header.Get("WWW-Authenticate"), r.raw, wantMeta)
	}
	whoami := func(t *testing.T, endpoint, token string) {
		t.Helper()
		res, err := connect(t, endpoint, token).CallTool(context.Background(), &mcp.CallToolParams{Name: "whoami"})
		if err != nil {
			t.Fatalf("whoami at %s: %v", endpoint, err)
		}
		var who mcpserver.WhoAmI
		structured(t, res, &who)
		if who.Subject != alice {
			t.Errorf("whoami at %s: %+v", endpoint, who)
		}
	}
	whoami(t, e.mcpURL+"/", e.accessToken("issues.read"))

	// A DPoP-bound token at .../mcp/, its proof made for that URL.
	key := newECKey(t)
	token := e.dpopAccessToken(t, key, "issues.read")
	saved := e.mcpURL
	e.mcpURL += "/"
	reply := e.callTool(t, "whoami", "DPoP "+token, e.mintProof(t, key, proof{htu: e.mcpURL, token: token}))
	e.mcpURL = saved
	if reply.status != http.StatusOK || !strings.Contains(reply.body, alice) {
		t.Errorf("DPoP at %s/ with htu %s/: HTTP %d %s", e.mcpURL, e.mcpURL, reply.status, reply.body)
	}

	// A server whose resource is configured with the "/" is reached
	// without it too.
	srv, set := lateServer(t)
	resource := srv.URL + "/mcp/"
	h, err := mcpserver.New(mcpserver.Config{
		ID: "tracker", Resource: resource, Verifier: e.as, AuthServerIssuer: asIssuer, Scopes: trackerScopes,
	})
	if err != nil {
		t.Fatal(err)
	}
	set(h)
	tok := e.token("issues.read", nil)
	e.as.mu.Lock()
	at := e.as.tokens[tok]
	at.Resource = resource
	e.as.tokens[tok] = at
	e.as.mu.Unlock()
	whoami(t, srv.URL+"/mcp", tok)
	whoami(t, srv.URL+"/mcp/", tok)
}
