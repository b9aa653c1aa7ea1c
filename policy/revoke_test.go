package policy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/policy"
)

const revokeBase = `
users:
  - {username: alice, password: a, groups: [eng]}
  - {username: bob, password: b}
  - {username: carol, password: c}
groups: [{name: eng}]
clients:
  - {client_id: c, client_secret: s, token_exchange: true}
mcp_servers:
  - id: crm
    issuer: https://as.crm.example
    events_endpoint: https://as.crm.example/events
    scopes: [crm.read]
    clients: {c: c-at-crm}
    access:
      - {groups: [eng], scopes: [crm.read]}
      - {users: [bob], scopes: [crm.read], expires: 2026-12-04T18:00:00Z}
  - id: wiki
    issuer: https://as.wiki.example
    clients: {c: c-at-wiki}
    access:
      - {users: [alice, carol]}
`

var revokeAt = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

func parseYAML(t *testing.T, y string) *policy.Config {
	t.Helper()
	cfg, err := policy.Parse([]byte(y), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestRevocations diffs the base configuration with edited ones and with
// itself later, and lists "user server kind" for each revocation.
func TestRevocations(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(string) string
		later time.Duration
		want  []string
	}{
		{"no change", nil, 0, nil},
		{"access entry removed", func(y string) string {
			return strings.Replace(y, "{groups: [eng], scopes: [crm.read]}", "{users: [carol], scopes: [crm.read]}", 1)
		}, 0, []string{"alice crm session-revoked"}},
		{"new deny", func(y string) string {
			return strings.Replace(y, "      - {users: [alice, carol]}", "      - {users: [alice, carol]}\n    deny: [{users: [carol]}]", 1)
		}, 0, []string{"carol wiki session-revoked"}},
		{"user disabled", func(y string) string {
			return strings.Replace(y, "{username: alice, password: a, groups: [eng]}", "{username: alice, password: a, groups: [eng], disabled: true}", 1)
		}, 0, []string{"alice crm account-disabled", "alice wiki account-disabled"}},
		{"user removed", func(y string) string {
			y = strings.Replace(y, "  - {username: carol, password: c}\n", "", 1)
			return strings.Replace(y, "{users: [alice, carol]}", "{users: [alice]}", 1)
		}, 0, []string{"carol wiki session-revoked"}},
		{"client loses token exchange", func(y string) string {
			return strings.Replace(y, "token_exchange: true", "token_exchange: false", 1)
		}, 0, []string{"alice crm session-revoked", "alice wiki session-revoked", "bob crm session-revoked", "carol wiki session-revoked"}},
		{"expiry", nil, 6 * time.Hour, []string{"bob crm session-revoked"}},
		{"before expiry", nil, 6*time.Hour - time.Second, nil},
	}
	old := parseYAML(t, revokeBase)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := old
			if tt.edit != nil {
				cfg = parseYAML(t, tt.edit(revokeBase))
			}
			var got []string
			for _, r := range policy.Revocations(old, revokeAt, cfg, revokeAt.Add(tt.later)) {
				kind := "session-revoked"
				if r.Disabled {
					kind = "account-disabled"
				}
				got = append(got, r.User.Username+" "+r.Server.ID+" "+kind)
				if r.Reason == "" {
					t.Errorf("%s %s: no reason", r.User.Username, r.Server.ID)
				}
			}
			if strings.Join(got, "; ") != strings.Join(tt.want, "; ") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestDecide_ExpiredEntryIsReported checks the reason and the Expired list
// of a decision refused because the only matching entry expired.
func TestDecide_ExpiredEntryIsReported(t *testing.T) {
	cfg := parseYAML(t, revokeBase)
	d := cfg.Decide(policy.Request{Username: "bob", ClientID: "c", Audience: "https://as.crm.example", Now: revokeAt.Add(7 * time.Hour)})
	want := "user bob's access to crm by crm access[1] expired at 2026-12-04T18:00:00Z"
	if d.Allowed || d.Reason != want || d.Rule != "crm access[1]" {
		t.Errorf("decision %v %q rule %q, want refused with %q", d.Allowed, d.Reason, d.Rule, want)
	}
	if len(d.Expired) != 1 || d.Explain().Expired[0].Rule != "crm access[1]" {
		t.Errorf("Expired = %+v", d.Expired)
	}
	if d := cfg.Decide(policy.Request{Username: "bob", ClientID: "c", Audience: "https://as.crm.example", Now: revokeAt}); !d.Allowed || len(d.Expired) != 0 {
		t.Errorf("before expiry: %+v", d)
	}
}

// TestRevocations_ExpiredEntryRemovedLater: an approval removes expired
// entries (ApproveServerAccess), possibly before the expiry watch looked:
// the user whose entry it was is pushed once, with the expiry as the
// reason, as the watch would have pushed it.
func TestRevocations_ExpiredEntryRemovedLater(t *testing.T) {
	old := parseYAML(t, revokeBase)
	cfg := parseYAML(t, strings.Replace(revokeBase, "      - {users: [bob], scopes: [crm.read], expires: 2026-12-04T18:00:00Z}\n", "", 1))
	revs := policy.Revocations(old, revokeAt, cfg, revokeAt.Add(7*time.Hour))
	if len(revs) != 1 || revs[0].User.Username != "bob" || !strings.Contains(revs[0].Reason, "expired at 2026-12-04T18:00:00Z") {
		for _, r := range revs {
			t.Logf("%s %s: %s", r.User.Username, r.Server.ID, r.Reason)
		}
		t.Fatalf("%d revocations, want bob's at crm, saying it expired", len(revs))
	}
	// Once the watch has looked after the expiry, removing the entry
	// pushes nothing more.
	if revs := policy.Revocations(old, revokeAt.Add(6*time.Hour), cfg, revokeAt.Add(7*time.Hour)); len(revs) != 0 {
		t.Errorf("%d revocations after the watch pushed the expiry, want none", len(revs))
	}
}
