package interop_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestTypeScriptClient_OwnConfig runs the TypeScript client
// (interop/node/ownconfig.mjs) against `xaa-idp demo --config` with
// ownConfig (interop/gosdk_ownconfig_test.go) on free ports: an MCP
// authorization server issuer with a path, subject: email, a client_id
// with ':' and a space, a public client, and a metadata document client
// with private_key_jwt at the MCP authorization server, none of which the
// demo company's configuration has.
func TestTypeScriptClient_OwnConfig(t *testing.T) {
	requireTypeScriptClient(t)
	bin := xaaIDPBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	notesAS := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	notesMCP := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	agent := fmt.Sprintf("http://127.0.0.1:%d", freePort(t)) // ownconfig.mjs serves the metadata document there
	moved := strings.NewReplacer("http://127.0.0.1:19311", notesAS, "http://127.0.0.1:19321", notesMCP, "http://127.0.0.1:19331", agent).Replace(ownConfig)
	base := startDemoConfig(t, ctx, bin, moved, notesMCP+"/.well-known/oauth-protected-resource/mcp")

	if err := runNodeTest(t, ctx, "ownconfig.mjs", "XAA_IDP_ISSUER="+base,
		"XAA_IDP_NOTES_AS="+notesAS+"/as/notes", "XAA_IDP_NOTES_RESOURCE="+notesMCP+"/mcp", "XAA_IDP_AGENT_URL="+agent+"/agent.json"); err != nil {
		t.Fatalf("the TypeScript client failed against ownConfig: %v", err)
	}
}
