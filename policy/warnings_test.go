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

// TestChangeWarnings_AreTheEditsOwn: the warnings of an edit are those of
// the configuration it made, also once a later edit has replaced it (two
// admins editing at once each read their own change's warnings), and
// those of a tenant's edit its tenant's alone.
func TestChangeWarnings_AreTheEditsOwn(t *testing.T) {
	data := []byte(`users: [{username: alice, password: alice, admin: true}]
clients: [{client_id: c, client_secret: s, redirect_uris: [http://127.0.0.1/callback]}]
`)
	store, err := policy.NewStore(data, "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	first, err := store.PutUser(policy.User{Username: "ops:1", Password: "p", Admin: true}, "*")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.DeleteUser("ops:1", "*"); err != nil {
		t.Fatal(err)
	}
	if ws := store.Snapshot().Warnings(); len(ws) != 0 {
		t.Fatalf("the running configuration's warnings: %v", ws)
	}
	if ws := first.Warnings(); len(ws) != 1 || !strings.Contains(ws[0].String(), "t.yaml:1: warning: user ops:1: ") {
		t.Errorf("the first edit's warnings, after a second edit: %v", ws)
	}
	same, err := store.PutUser(policy.User{Username: "alice", Password: "alice", Admin: true}, "*")
	if err != nil {
		t.Fatal(err)
	}
	if !same.Unchanged || len(same.Warnings()) != 0 {
		t.Errorf("an edit that changed nothing: unchanged %v, warnings %v", same.Unchanged, same.Warnings())
	}

	tenants := []byte(`tenants:
  - id: a
    users: [{username: alice, password: alice}]
  - id: b
    users: [{username: "ops:1", password: p, admin: true}]
`)
	store, err = policy.NewStore(tenants, "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ch, err := store.Tenant("a").PutUser(policy.User{Username: "bob", Password: "bob"}, "*")
	if err != nil {
		t.Fatal(err)
	}
	if ws := ch.Warnings(); len(ws) != 0 {
		t.Errorf("tenant a's edit reports tenant b's warnings: %v", ws)
	}
	if ws := store.Snapshot().Warnings(); len(ws) != 1 {
		t.Errorf("the whole file's warnings: %v", ws)
	}
}
