package policy_test

import (
	"strings"
	"testing"
)

// TestWarnings_ClientMappedToTheIntrospectionClientID: `xaa-idp demo`
// registers each MCP server at its authorization server as
// "mcp-server-<id>" (its introspection credentials, docs/http.md), and
// refuses a file that maps an IdP client to that client_id at that
// server; check said nothing of it. It warns at the mapping's line.
func TestWarnings_ClientMappedToTheIntrospectionClientID(t *testing.T) {
	data := []byte(`users: [{username: alice, password: p}]
clients:
  - {client_id: desk, client_secret: s, redirect_uris: [http://127.0.0.1/cb], token_exchange: true}
  - {client_id: cli, redirect_uris: [http://127.0.0.1/cb], token_exchange: true}
mcp_servers:
  - id: notes
    issuer: http://127.0.0.1:19901
    resources: [http://127.0.0.1:19902/mcp]
    clients:
      desk: desk-at-notes
      cli: mcp-server-notes
  - id: files
    issuer: http://127.0.0.1:19903
    resources: [http://127.0.0.1:19904/mcp]
    clients: {desk: mcp-server-notes}
`)
	got := warningsOf(t, data, "r.yaml")
	want := []string{`r.yaml:11: warning: server notes: client cli is mapped to mcp-server-notes, the client_id of the MCP server's own introspection credentials at its demo authorization server, which xaa-idp demo refuses; map it to another client_id`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
