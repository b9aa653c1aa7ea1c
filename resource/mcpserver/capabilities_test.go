package mcpserver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestMCPServer_DeclaresEveryListItAnswers: the demo MCP server declares
// a capability for every list it answers ("Servers that support prompts
// MUST declare the prompts capability", and the same of resources and
// tools), in server/discover (protocol 2026-07-28, as the Go SDK client
// negotiates it) and in initialize (earlier protocols). The Go SDK answers
// prompts/list, resources/list and resources/templates/list (empty) on
// every server, so a server declaring only tools was refused by the MCP
// conformance tool's server-stateless scenario
// (sep-2575-server-declares-prompts-in-discover).
func TestMCPServer_DeclaresEveryListItAnswers(t *testing.T) {
	e := newEnv(t)
	token := e.accessToken("issues.read")
	ctx := context.Background()

	cs := connect(t, e.mcpURL, token)
	caps := cs.InitializeResult().Capabilities
	if _, err := cs.ListPrompts(ctx, nil); err == nil && caps.Prompts == nil {
		t.Errorf("protocol %s: prompts/list answers, but the prompts capability is not declared", cs.InitializeResult().ProtocolVersion)
	}
	if _, err := cs.ListResources(ctx, nil); err == nil && caps.Resources == nil {
		t.Errorf("protocol %s: resources/list answers, but the resources capability is not declared", cs.InitializeResult().ProtocolVersion)
	}
	if _, err := cs.ListResourceTemplates(ctx, nil); err == nil && caps.Resources == nil {
		t.Errorf("protocol %s: resources/templates/list answers, but the resources capability is not declared", cs.InitializeResult().ProtocolVersion)
	}
	if caps.Tools == nil {
		t.Errorf("protocol %s: the tools capability is not declared", cs.InitializeResult().ProtocolVersion)
	}

	status, raw := rawPost(t, e.mcpURL, token,
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`, nil)
	if status != http.StatusOK {
		t.Fatalf("initialize: HTTP %d %s", status, raw)
	}
	data := raw[strings.Index(raw, "{"):]
	data = data[:strings.LastIndex(data, "}")+1]
	var msg struct {
		Result struct {
			Capabilities map[string]json.RawMessage `json:"capabilities"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(data), &msg); err != nil {
		t.Fatalf("initialize: %v in %s", err, raw)
	}
	for _, name := range []string{"tools", "prompts", "resources"} {
		if _, ok := msg.Result.Capabilities[name]; !ok {
			t.Errorf("initialize 2025-11-25: capabilities %s, want %s declared", raw, name)
		}
	}
	for _, name := range []string{"logging", "completions"} {
		if _, ok := msg.Result.Capabilities[name]; ok {
			t.Errorf("initialize 2025-11-25: capabilities %s declare %s, which the server does not serve", raw, name)
		}
	}
}
