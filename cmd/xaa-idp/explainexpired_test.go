package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLI_ExplainListsExpiredEntries: explain prints the time-bound access
// entries that would have matched but expired on an "expired:" line, each
// with its rule and instant, as GET /admin/api/explain answers them under
// "expired" (docs/configuration.md, "Time-bound access"). Before, the CLI
// left them out: an expired entry beside one that still allows showed only
// at the end of the reason.
func TestCLI_ExplainListsExpiredEntries(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(file, []byte(`users: [{username: alice, password: alice, groups: [eng]}, {username: bob, password: bob}]
groups: [{name: eng}]
clients: [{client_id: c, client_secret: s, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}]
mcp_servers:
  - id: notes
    issuer: http://127.0.0.1:9101
    resources: [http://127.0.0.1:9201/mcp]
    scopes: [notes.read, notes.write]
    clients: {c: c-at-notes}
    access:
      - groups: [eng]
        scopes: [notes.read]
      - users: [alice, bob]
        scopes: [notes.read, notes.write]
        expires: 2030-01-01T08:00:00Z
      - users: [bob]
        scopes: [notes.write]
        expires: 2030-01-01T09:00:00Z
`), 0o600); err != nil {
		t.Fatal(err)
	}
	explain := func(user, clock string) string {
		t.Helper()
		code, out, stderr := runCLI(t, "explain", "--config", file, "--user", user, "--client", "c", "--audience", "notes", "--clock", clock)
		if code != exitOK {
			t.Fatalf("explain %s at %s: exit %d: %s", user, clock, code, stderr)
		}
		return out
	}
	for _, c := range []struct{ user, clock, decision, expired string }{
		// allowed by the group's entry, beside the expired one
		{"alice", "2030-01-01T08:30:00Z", "decision: allowed", "expired:  notes access[1] at 2030-01-01T08:00:00Z\n"},
		// refused: every entry that named bob has expired
		{"bob", "2030-01-01T10:00:00Z", "decision: refused (access_denied)", "expired:  notes access[1] at 2030-01-01T08:00:00Z, notes access[2] at 2030-01-01T09:00:00Z\n"},
	} {
		out := explain(c.user, c.clock)
		if !strings.Contains(out, c.decision+"\n") || !strings.Contains(out, c.expired) {
			t.Errorf("explain %s at %s: want %q and %q:\n%s", c.user, c.clock, c.decision, c.expired, out)
		}
	}
	// Nothing expired yet: no such line.
	if out := explain("bob", "2030-01-01T07:00:00Z"); strings.Contains(out, "expired:") {
		t.Errorf("explain before any expires printed an expired line:\n%s", out)
	}
}
