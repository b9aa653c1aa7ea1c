package idp_test

import (
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/policy"
)

const auditServerYAML = `
users:
  - {username: alice, password: alice-pw, sub: u-alice}
  - {username: bob, password: bob-pw, sub: u-bob}
clients:
  - {client_id: mcp-client, client_secret: s1, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}
  - {client_id: login-only, client_secret: s2, redirect_uris: [http://127.0.0.1/callback]}
mcp_servers:
  - id: chat
    issuer: https://as.chat.example
    resources: [https://mcp.chat.example/mcp]
    scopes: [chat.read]
    clients: {mcp-client: mcp-client-at-chat, login-only: login-only-at-chat}
    access:
      - {users: [alice], scopes: [chat.read]}
    deny:
      - users: [bob]
`

// TestAudit_ExchangeRefusalNamesTheServer: every token_exchange refusal
// whose audience names an MCP server records that server in the event,
// whatever the code. Until 2026-12-06 the unauthorized_client of a client
// without token_exchange left it empty.
func TestAudit_ExchangeRefusalNamesTheServer(t *testing.T) {
	cfg, err := policy.Parse([]byte(auditServerYAML), "audit.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	for _, c := range []struct {
		client, secret, user, password, param, value, want string
	}{
		{"login-only", "s2", "alice", "alice-pw", "", "", "unauthorized_client"},
		{"mcp-client", "s1", "alice", "alice-pw", "scope", "chat.write", "invalid_scope"},
		{"mcp-client", "s1", "alice", "alice-pw", "resource", "https://mcp.other.example/mcp", "invalid_target"},
		{"mcp-client", "s1", "bob", "bob-pw", "", "", "access_denied"},
	} {
		tok := p.login(t, c.client, c.secret, c.user, c.password)
		form := exchangeForm(tok["id_token"].(string))
		form.Set("client_id", c.client)
		form.Set("client_secret", c.secret)
		if c.param != "" {
			form.Set(c.param, c.value)
		}
		if _, body := p.postToken(t, form, nil); body["error"] != c.want {
			t.Fatalf("%s: %v, want %s", c.want, body, c.want)
		}
		evs := p.Audit.Query(audit.Filter{Type: audit.TypeTokenExchange, Client: c.client})
		if len(evs) == 0 || evs[0].Error != c.want || evs[0].Server != "chat" {
			t.Errorf("%s: events %+v, want the refusal naming server chat", c.want, evs)
		}
	}
}
