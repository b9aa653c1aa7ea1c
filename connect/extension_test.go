package connect_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/xaa-idp/xaa-idp/connect"
	"github.com/xaa-idp/xaa-idp/resource/mcpserver"
)

// recordingTransport keeps the JSON-RPC bodies sent to one URL.
type recordingTransport struct {
	url    string
	mu     sync.Mutex
	bodies [][]byte
}

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost && r.URL.String() == rt.url && r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(b))
		rt.mu.Lock()
		rt.bodies = append(rt.bodies, b)
		rt.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestRun_AdvertisesEnterpriseManagedAuthorization: an MCP client that
// uses Enterprise-Managed Authorization declares the extension
// io.modelcontextprotocol/enterprise-managed-authorization in its
// capabilities, as the demo MCP servers declare it in theirs. connect
// declared none: a server could not tell that it speaks EMA.
func TestRun_AdvertisesEnterpriseManagedAuthorization(t *testing.T) {
	issuer, mcp := startDemo(t)
	rt := &recordingTransport{url: mcp["tracker"]}
	results, err := connect.Run(context.Background(), connect.Options{
		Issuer: issuer, ClientID: "mcp-client", ClientSecret: "mcp-secret", Username: "alice", Password: "alice",
		MCPServers: []string{mcp["tracker"]}, HTTPClient: &http.Client{Transport: rt},
	})
	if err != nil || len(results) != 1 || !results[0].Connected {
		t.Fatalf("connect: %v %+v", err, results)
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	var calls int
	for _, b := range rt.bodies {
		var msg struct {
			Method string `json:"method"`
			Params struct {
				Capabilities *struct {
					Extensions map[string]any `json:"extensions"`
				} `json:"capabilities"`
				Meta map[string]json.RawMessage `json:"_meta"`
			} `json:"params"`
		}
		if json.Unmarshal(b, &msg) != nil || msg.Method == "" || msg.Method == "ping" {
			continue
		}
		caps := msg.Params.Capabilities
		if raw, ok := msg.Params.Meta["io.modelcontextprotocol/clientCapabilities"]; ok {
			_ = json.Unmarshal(raw, &caps)
		}
		if caps == nil {
			continue
		}
		calls++
		if _, ok := caps.Extensions[mcpserver.ExtensionEMA]; !ok {
			t.Errorf("%s: client capabilities %s lack %s", msg.Method, strings.TrimSpace(string(b)), mcpserver.ExtensionEMA)
		}
	}
	if calls == 0 {
		t.Fatalf("no request carried client capabilities: %q", rt.bodies)
	}
}
