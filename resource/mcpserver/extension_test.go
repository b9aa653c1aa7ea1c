package mcpserver_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/resource/mcpserver"
)

// TestMCPServer_AdvertisesEnterpriseManagedAuthorization: the demo MCP
// server declares the MCP extension it is reached through,
// io.modelcontextprotocol/enterprise-managed-authorization, in its
// capabilities' extensions (with empty settings, an object), as MCP
// extensions are declared: to the official Go SDK client (which
// negotiates with server/discover, protocol 2026-07-28, falling back to
// initialize) and to an initialize of an earlier protocol, with its
// tools still declared.
func TestMCPServer_AdvertisesEnterpriseManagedAuthorization(t *testing.T) {
	e := newEnv(t)
	token := e.accessToken("issues.read")

	cs := connect(t, e.mcpURL, token)
	caps := cs.InitializeResult().Capabilities
	if settings, ok := caps.Extensions[mcpserver.ExtensionEMA].(map[string]any); !ok || len(settings) != 0 {
		t.Errorf("Go SDK client (protocol %s): extensions %v, want %s with empty settings", cs.InitializeResult().ProtocolVersion, caps.Extensions, mcpserver.ExtensionEMA)
	}
	if caps.Tools == nil {
		t.Error("Go SDK client: the tools capability is gone")
	}

	status, raw := rawPost(t, e.mcpURL, token,
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`, nil)
	if status != http.StatusOK {
		t.Fatalf("initialize: HTTP %d %s", status, raw)
	}
	data := raw[strings.Index(raw, "{"):]
	data = data[:strings.LastIndex(data, "}")+1]
	var msg struct {
		Result struct {
			Capabilities struct {
				Extensions map[string]json.RawMessage `json:"extensions"`
				Tools      json.RawMessage            `json:"tools"`
			} `json:"capabilities"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(data), &msg); err != nil {
		t.Fatalf("initialize: %v in %s", err, raw)
	}
	if got := string(msg.Result.Capabilities.Extensions["io.modelcontextprotocol/enterprise-managed-authorization"]); got != "{}" || msg.Result.Capabilities.Tools == nil {
		t.Errorf("initialize 2025-06-18: capabilities %s, want the extension with {} and tools", raw)
	}
}
