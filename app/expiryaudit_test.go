package app_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/policy"
)

// expiryYAML gives bob one access entry, long expired.
const expiryYAML = `
users:
  - {username: bob, password: bob, sub: u-bob}
clients:
  - {client_id: mcp-client, client_secret: s1, redirect_uris: ["http://127.0.0.1/callback"], token_exchange: true}
mcp_servers:
  - id: chat
    issuer: https://as.chat.example
    resources: [https://mcp.chat.example/mcp]
    scopes: [chat.read]
    clients: {mcp-client: mcp-client-at-chat}
    access:
      - {users: [bob], scopes: [chat.read], expires: "2020-01-01T00:00:00Z"}
`

// TestExpiredAccess_AuditedByTheDecisionThatFindsIt: docs/configuration.md
// ("Time-bound access") has the access_request event with outcome expired
// written at the latest when a decision first finds the entry expired. A token exchange refused
// because bob's only entry expired must find that event in the audit log
// when its answer arrives, and before its own token_exchange event, not
// only after the Pusher's next periodic look (here an hour away, as the
// second of a default IdP is, for a script, a race).
func TestExpiredAccess_AuditedByTheDecisionThatFindsIt(t *testing.T) {
	store, err := policy.NewStore([]byte(expiryYAML), "expiry.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ts, srv := startPushing(t, store, time.Hour)
	issuer := ts.URL

	ctx := context.Background()
	tok, err := idpclient.Login(ctx, idpclient.LoginOptions{Issuer: issuer, ClientID: "mcp-client", ClientSecret: "s1", Username: "bob", Password: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = idpclient.Exchange(ctx, idpclient.ExchangeOptions{Issuer: issuer, ClientID: "mcp-client", ClientSecret: "s1",
		SubjectToken: tok.IDToken(), Audience: "https://as.chat.example", Resource: "https://mcp.chat.example/mcp"})
	var oe *idpclient.Error
	if !errors.As(err, &oe) || oe.Code != "access_denied" {
		t.Fatalf("exchange: %v, want access_denied (bob's access expired)", err)
	}

	expired := srv.Audit().Query(audit.Filter{Type: audit.TypeAccessRequest, Outcome: audit.Expired})
	if len(expired) != 1 {
		t.Fatalf("access_request expired events once the refusal arrived: %d, want 1", len(expired))
	}
	if ev := expired[0]; ev.User != "bob" || ev.Server != "chat" || ev.Rule != "chat access[0]" {
		t.Errorf("expired event = user %q server %q rule %q, want bob, chat, chat access[0]", ev.User, ev.Server, ev.Rule)
	}
	exchanges := srv.Audit().Query(audit.Filter{Type: audit.TypeTokenExchange})
	if len(exchanges) != 1 || exchanges[0].ID < expired[0].ID {
		t.Errorf("the expired event should precede the refusal's token_exchange event: %+v, %+v", expired, exchanges)
	}

	// A second refusal writes no second event.
	_, _ = idpclient.Exchange(ctx, idpclient.ExchangeOptions{Issuer: issuer, ClientID: "mcp-client", ClientSecret: "s1",
		SubjectToken: tok.IDToken(), Audience: "https://as.chat.example", Resource: "https://mcp.chat.example/mcp"})
	if n := len(srv.Audit().Query(audit.Filter{Type: audit.TypeAccessRequest, Outcome: audit.Expired})); n != 1 {
		t.Errorf("expired events after a second refusal: %d, want 1", n)
	}
}

// TestExpiredAccess_AuditedWhenAnEditRemovesIt: an access entry that has
// expired and is removed by an admin's edit before the Pusher's periodic
// look (here an hour away; by default the first second after the instant,
// or after a start) still gets its access_request event with outcome
// expired: "one per expired entry" (docs/configuration.md, "Time-bound
// access"), and the admin_change that removed it does not erase that it
// expired first.
func TestExpiredAccess_AuditedWhenAnEditRemovesIt(t *testing.T) {
	yaml := strings.Replace(expiryYAML, "users:\n", "users:\n  - {username: alice, password: alice, admin: true}\n", 1)
	store, err := policy.NewStore([]byte(yaml), "expiry.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ts, srv := startPushing(t, store, time.Hour)

	resp, body := send(t, ts, http.MethodPut, "/admin/api/servers/chat/access", ts.Listener.Addr().String(),
		strings.NewReader(`[{"users":["alice"],"scopes":["chat.read"]}]`),
		"Authorization", basic("alice", "alice"), "Content-Type", "application/json")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT access: %s %s", resp.Status, body)
	}
	expired := srv.Audit().Query(audit.Filter{Type: audit.TypeAccessRequest, Outcome: audit.Expired})
	if len(expired) != 1 || expired[0].User != "bob" || expired[0].Server != "chat" {
		t.Fatalf("access_request expired events after the edit removed bob's expired entry: %+v, want one for bob at chat", expired)
	}
}
