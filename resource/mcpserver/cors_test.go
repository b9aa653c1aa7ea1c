package mcpserver_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// recordHeaders remembers the names of the request headers a client sets
// itself, as a browser's fetch would send them: each one that is not
// CORS-safelisted must pass the preflight.
type recordHeaders struct {
	mu    sync.Mutex
	names map[string]bool
	base  http.RoundTripper
}

func (rh *recordHeaders) RoundTrip(r *http.Request) (*http.Response, error) {
	rh.mu.Lock()
	for name := range r.Header {
		rh.names[http.CanonicalHeaderKey(name)] = true
	}
	rh.mu.Unlock()
	return rh.base.RoundTrip(r)
}

// TestMCPServer_CORSPreflightAllowsTheHeadersOfTheMCPClient: a browser-based
// MCP client reaches the demo MCP server across origins, and the browser
// sends a request only when the preflight allows each header it carries.
// The Go SDK client speaking protocol 2026-07-28 sends Mcp-Method on every
// request and Mcp-Name on a tools/call (which the SDK's server requires at
// that version): the preflight must allow every header the client sends,
// or a browser client cannot even initialize.
func TestMCPServer_CORSPreflightAllowsTheHeadersOfTheMCPClient(t *testing.T) {
	e := newEnv(t)
	token := e.accessToken("issues.read issues.write")
	rec := &recordHeaders{names: map[string]bool{}, base: bearer{token: token, base: http.DefaultTransport}}
	client := mcp.NewClient(&mcp.Implementation{Name: "browser-like", Version: "0"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: e.mcpURL, HTTPClient: &http.Client{Transport: rec}}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer cs.Close()
	if _, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "whoami"}); err != nil {
		t.Fatalf("whoami: %v", err)
	}
	if !rec.names["Mcp-Method"] {
		t.Fatalf("the Go SDK client (protocol %s) sent no Mcp-Method header (sent %v): this test no longer sees what it checks", cs.InitializeResult().ProtocolVersion, rec.names)
	}

	// CORS-safelisted request headers (Fetch standard), which need no
	// permission; Content-Type application/json is not one of them.
	safelisted := []string{"Accept", "Accept-Language", "Content-Language"}
	var requested []string
	for name := range rec.names {
		if !slices.Contains(safelisted, name) {
			requested = append(requested, strings.ToLower(name))
		}
	}
	slices.Sort(requested)

	pre, _ := http.NewRequest(http.MethodOptions, e.mcpURL, nil)
	pre.Header.Set("Origin", "https://inspector.example")
	pre.Header.Set("Access-Control-Request-Method", http.MethodPost)
	pre.Header.Set("Access-Control-Request-Headers", strings.Join(requested, ","))
	resp, err := http.DefaultClient.Do(pre)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("preflight: HTTP %d, headers %v", resp.StatusCode, resp.Header)
	}
	allowed := map[string]bool{}
	for _, v := range resp.Header.Values("Access-Control-Allow-Headers") {
		for _, name := range strings.Split(v, ",") {
			allowed[strings.ToLower(strings.TrimSpace(name))] = true
		}
	}
	for _, name := range requested {
		if !allowed[name] {
			t.Errorf("the preflight does not allow %s, which the MCP client sends: a browser would not send its requests (Access-Control-Allow-Headers: %s)", name, resp.Header.Get("Access-Control-Allow-Headers"))
		}
	}
}
