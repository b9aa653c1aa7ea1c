package push_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/policy"
	"github.com/xaa-idp/xaa-idp/push"
)

// TestPush_LostSETsAuditedInFewSyncs: without a journal, the SETs still
// pending at a stop are each audited as not delivered (README,
// "Stopping"). They were audited one after another, each waiting for its
// own fsync of the audit log: at about 4 ms a sync, a full queue added
// minutes to a stop that the log says takes at most 8 s. Audited at once,
// the log's group commit shares its fsyncs among them; announced to the log
// first (Expect), so that the sharing does not depend on how soon the
// auditing goroutines run (unannounced, a loaded CI machine saw 16 fsyncs
// for 40).
func TestPush_LostSETsAuditedInFewSyncs(t *testing.T) {
	const n = 100 // more than lostAuditors: two chunks
	var users, names strings.Builder
	for i := range n {
		fmt.Fprintf(&users, "  - {username: u%d, password: p, sub: 00u-%d}\n", i, i)
		fmt.Fprintf(&names, "u%d, ", i)
	}
	yaml := func(disabled bool) string {
		u := users.String()
		if disabled {
			u = strings.ReplaceAll(u, "password: p,", "password: p, disabled: true,")
		}
		return "signing: {id_token_alg: ES256}\nusers:\n" + u + `clients:
  - {client_id: c, client_secret: s, token_exchange: true}
mcp_servers:
  - id: crm
    issuer: https://as.crm.example
    events_endpoint: https://receiver.example/events
    clients: {c: c-at-crm}
    access:
      - {users: [` + strings.TrimSuffix(names.String(), ", ") + `]}
`
	}
	cfg, err := policy.Parse([]byte(yaml(false)), "lost.yaml")
	if err != nil {
		t.Fatal(err)
	}
	log, err := audit.Open(audit.Options{Path: filepath.Join(t.TempDir(), "audit.jsonl")})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	srv, err := idp.New(idp.Options{Config: cfg, Issuer: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	o := push.Options{Issuer: "http://127.0.0.1:1", Signer: srv, Audit: log, Config: cfg}
	down(&o)
	p, err := push.New(o)
	if err != nil {
		t.Fatal(err)
	}
	disabled, err := policy.Parse([]byte(yaml(true)), "lost.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.ConfigChanged(disabled); err != nil {
		t.Fatal(err)
	}
	if got := p.Pending(); got != n {
		t.Fatalf("%d SETs pending, want %d", got, n)
	}
	syncs := log.Syncs()
	p.Close()
	lost := 0
	for _, ev := range log.Query(audit.Filter{Type: audit.TypeEventPush, Limit: 1000}) {
		if strings.Contains(ev.Reason, "not delivered") {
			lost++
		}
	}
	if lost != n {
		t.Fatalf("%d SETs audited as not delivered, want %d", lost, n)
	}
	if made := log.Syncs() - syncs; made > n/8 {
		t.Errorf("auditing %d lost SETs made %d fsyncs of the audit log: one each, not shared", n, made)
	}
}
