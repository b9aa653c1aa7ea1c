package idp_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/policy"
)

const scopesYAML = `
groups:
  - name: eng
users:
  - username: alice
    password: alice-pw
    sub: u-alice
    email: alice@example.com
    name: Alice Anderson
    groups: [eng]
    claims: {department: R&D}
clients:
  - client_id: mcp-client
    client_secret: s1
    redirect_uris: [http://127.0.0.1/callback]
    token_exchange: true
  - client_id: pub-client
    redirect_uris: [http://127.0.0.1/callback]
    token_exchange: true
mcp_servers:
  - id: chat
    issuer: https://as.chat.example
    resources: [https://mcp.chat.example/mcp]
    scopes: [chat.read]
    include_email: true
    clients: {mcp-client: mcp-client-at-chat, pub-client: pub-client-at-chat}
    access:
      - groups: [eng]
        scopes: [chat.read]
`

// TestScopelessLoginExchanges checks that a public client which sends no
// scope at all (the MCP conformance tool, oauth4webapi) gets an ID token
// that the token exchange accepts, and that the ID-JAG still carries the
// email the policy asks for: it reads the user from the policy, not from
// the ID token's claims.
func TestScopelessLoginExchanges(t *testing.T) {
	cfg, err := policy.Parse([]byte(scopesYAML), "scopes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	tok, err := idpclient.Login(context.Background(), idpclient.LoginOptions{
		Issuer: p.URL, ClientID: "pub-client", Username: "alice", Password: "alice-pw", Scopes: []string{},
	})
	if err != nil {
		t.Fatalf("scope-less login of a public client: %v", err)
	}
	form := exchangeForm(tok.IDToken())
	form.Set("client_id", "pub-client")
	resp, body := p.postToken(t, form, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("exchange: %d %v", resp.StatusCode, body)
	}
	_, jag := p.verifyJWT(t, body["access_token"].(string))
	if jag["sub"] != "u-alice" || jag["email"] != "alice@example.com" {
		t.Errorf("ID-JAG sub %v email %v, want u-alice alice@example.com", jag["sub"], jag["email"])
	}
}
