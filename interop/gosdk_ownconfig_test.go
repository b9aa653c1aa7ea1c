package interop_test

import (
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/xaa-idp/xaa-idp/idptest"
)

// ownConfig is a configuration a newcomer writes, unlike the demo
// company's: an MCP authorization server whose issuer has a path (RFC 8414
// section 3.1 path insertion), subject: email mapping with an address in
// mixed case, a client_id at the MCP server with ':' and a space, a secret
// with every character form encoding changes, and a public client; and a
// public client whose client_id at the MCP server is the URL of a metadata
// document (private_key_jwt there: interop/node/ownconfig.mjs serves it).
const ownConfig = `
groups: [{name: staff}]
users:
  - {username: ann, password: ann, sub: u-ann, email: Ann.Lee@corp.example, groups: [staff]}
  - {username: cid, password: cid, sub: u-cid, groups: [staff]}
clients:
  - {client_id: desk, client_secret: "p&ss:w rd+%/x", redirect_uris: ["http://127.0.0.1/callback"], token_exchange: true}
  - {client_id: cli, redirect_uris: ["http://127.0.0.1/callback"], token_exchange: true}
  - {client_id: agent, redirect_uris: ["http://127.0.0.1/callback"], token_exchange: true}
mcp_servers:
  - id: notes
    name: Notes
    issuer: http://127.0.0.1:19311/as/notes
    resources: [http://127.0.0.1:19321/mcp]
    scopes: [notes.read, notes.write]
    subject: email
    include_email: true
    clients: {desk: "desk:at notes", cli: cli-at-notes, agent: "http://127.0.0.1:19331/agent.json"}
    access: [{groups: [staff], scopes: [notes.read, notes.write]}]
`

// TestGoSDK_EnterpriseHandler_OwnConfig: the Go SDK's EnterpriseHandler,
// unchanged, connects to a demo MCP server of ownConfig as a confidential
// and as a public client, whoami naming the user subject: email maps the
// ID-JAG to; a user without an email is refused with the reason.
func TestGoSDK_EnterpriseHandler_OwnConfig(t *testing.T) {
	srv := idptest.New(t, idptest.WithConfigYAML(ownConfig))
	demo := srv.StartDemoServers()
	notes := demo["notes"]
	desk := &oauthex.ClientCredentials{ClientID: "desk", ClientSecretAuth: &oauthex.ClientSecretAuth{ClientSecret: "p&ss:w rd+%/x"}}
	deskAt := &oauthex.ClientCredentials{ClientID: "desk:at notes", ClientSecretAuth: &oauthex.ClientSecretAuth{ClientSecret: "p&ss:w rd+%/x"}}
	for _, tt := range []struct {
		name     string
		idp, mcp *oauthex.ClientCredentials
	}{
		{"confidential client", desk, deskAt},
		{"public client", &oauthex.ClientCredentials{ClientID: "cli"}, &oauthex.ClientCredentials{ClientID: "cli-at-notes"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			session, err := connectEnterprise(t, srv.Issuer(), handlerCase{user: "ann", idp: tt.idp, mcp: tt.mcp, server: notes}, nil)
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			who := goWhoami(t, session)
			if who["username"] != "ann" || who["sub"] != "u-ann" || who["client_id"] != tt.mcp.ClientID || who["issuer"] != notes.AuthServer {
				t.Errorf("whoami = %v, want ann (u-ann) through %s at %s", who, tt.mcp.ClientID, notes.AuthServer)
			}
		})
	}
	t.Run("user without an email", func(t *testing.T) {
		_, err := connectEnterprise(t, srv.Issuer(), handlerCase{user: "cid", idp: desk, mcp: deskAt, server: notes}, nil)
		if err == nil || !strings.Contains(err.Error(), "invalid_grant") || !strings.Contains(err.Error(), "no email claim") {
			t.Fatalf("Connect: %v; want invalid_grant: the ID-JAG has no email to map", err)
		}
	})
}
