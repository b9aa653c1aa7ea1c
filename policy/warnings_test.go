package policy_test

import (
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestWarnings_SubjectEmailInTenants: in a file with tenants, the warning
// of a subject: email server without the email claim names the line of
// the tenant's server, and a persona that presets id_jag.email (okta)
// needs no include_email.
func TestWarnings_SubjectEmailInTenants(t *testing.T) {
	data := []byte(`tenants:
  - id: a
    persona: okta
    users: [{username: alice, password: alice, email: alice@a.example}]
    clients: [{client_id: c, client_secret: s, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}]
    mcp_servers:
      - {id: notes, issuer: http://127.0.0.1:1, resources: [http://127.0.0.1:2/mcp], scopes: [n], clients: {c: c-at-notes}, subject: email}
  - id: b
    users: [{username: bob, password: bob, email: bob@b.example}]
    clients: [{client_id: c, client_secret: s, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}]
    mcp_servers:
      - id: notes
        issuer: http://127.0.0.1:1
        resources: [http://127.0.0.1:2/mcp]
        scopes: [n]
        clients: {c: c-at-notes}
        subject: email
`)
	cfg, err := policy.Parse(data, "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ws := policy.Warnings(cfg, data, "t.yaml")
	if len(ws) != 1 || !strings.HasPrefix(ws[0].String(), "t.yaml:17: warning: server notes: ") {
		t.Errorf("warnings: %v", ws)
	}

	// A tenant's admin API answers its tenant's warnings alone, at the
	// lines of the whole file.
	store, err := policy.NewStore(data, "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if ws := store.Snapshot().Warnings(); len(ws) != 1 || ws[0].Line != 17 {
		t.Errorf("the store's warnings: %v", ws)
	}
	if ws := store.Tenant("a").Snapshot().Warnings(); len(ws) != 0 {
		t.Errorf("tenant a's warnings: %v", ws)
	}
	if ws := store.Tenant("b").Snapshot().Warnings(); len(ws) != 1 || ws[0].String() != policy.Warnings(cfg, data, "t.yaml")[0].String() {
		t.Errorf("tenant b's warnings: %v", ws)
	}
}
