package policy_test

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/policy"
	"github.com/xaa-idp/xaa-idp/policy/policytest"
)

// TestDecide_Oracle compares Decide with the oracle (policytest.Model, an
// independent reading of the documented decision rules) on random small
// configurations and requests.
func TestDecide_Oracle(t *testing.T) {
	const seed, configs, requests = 20261206, 300, 60
	r := rand.New(rand.NewSource(seed))
	fails := 0
	kinds := map[string]int{}
	for n := range configs {
		m := policytest.RandomModel(r)
		cfg := parseModel(t, m, "oracle.yaml", fmt.Sprintf("seed %d config %d", seed, n))
		for k := range requests {
			req := m.RandomRequest(r)
			d := cfg.Decide(req)
			if diff := m.Decide(req).Differs(d); diff != "" {
				fails++
				kind, _, _ := strings.Cut(diff, " ")
				kinds[kind]++
				if kinds[kind] <= 2 {
					t.Errorf("seed %d config %d request %d: %s\nrequest: %+v\nreason: %s\nconfig:\n%s",
						seed, n, k, diff, req, d.Reason, m.YAML())
				}
			}
		}
	}
	if fails > 0 {
		t.Errorf("%d disagreements: %v", fails, kinds)
	}
}

// TestStandingAndReachable_Oracle compares StandingOf (My MCP servers) and
// Reachable, which decides revocation pushes, with the oracle's reading of
// the documents.
func TestStandingAndReachable_Oracle(t *testing.T) {
	const seed, configs = 20261206, 300
	r := rand.New(rand.NewSource(seed))
	fails := 0
	for n := range configs {
		m := policytest.RandomModel(r)
		cfg := parseModel(t, m, "oracle.yaml", fmt.Sprintf("seed %d config %d", seed, n))
		at := m.RandomRequest(r).Now
		for i := range cfg.MCPServers {
			s := &cfg.MCPServers[i]
			for _, name := range m.Users() {
				got, want := s.StandingOf(cfg.User(name), at), m.Standing(name, s.ID, at)
				if got.Denied != want.Denied || got.Assigned != want.Assigned || !slices.Equal(got.Scopes, want.Scopes) || !got.Until.Equal(want.Until) {
					if fails++; fails <= 3 {
						t.Errorf("seed %d config %d: StandingOf(%s, %s, %s) = %+v, oracle %+v\nconfig:\n%s",
							seed, n, name, s.ID, at.Format(time.RFC3339Nano), got, want, m.YAML())
					}
				}
				if got, want := cfg.Reachable(cfg.User(name), s, at), m.Reachable(name, s.ID, at); got != want {
					if fails++; fails <= 3 {
						t.Errorf("seed %d config %d: Reachable(%s, %s, %s) = %v, oracle %v\nconfig:\n%s",
							seed, n, name, s.ID, at.Format(time.RFC3339Nano), got, want, m.YAML())
					}
				}
			}
		}
	}
	if fails > 0 {
		t.Errorf("%d disagreements", fails)
	}
}

// TestDecide_NoScopeStepUpOnlyWhenItChangesTheAnswer: without scope, a
// login too old for some matching entries gets what the others allow, and
// is asked to log in again only when none of them counts, or when those
// that count allow no scope and a more recent login would add some
// (docs/configuration.md, "Decision rules"). The oracle read the rules as
// asking for a step-up whenever one would add a scope.
func TestDecide_NoScopeStepUpOnlyWhenItChangesTheAnswer(t *testing.T) {
	cfg, err := policy.Parse([]byte(`
users:
  - {username: ann, password: pw}
  - {username: ben, password: pw}
clients:
  - {client_id: c, client_secret: s, token_exchange: true}
mcp_servers:
  - id: s
    issuer: https://as.s.example
    scopes: [read, write]
    clients: {c: c-at-s}
    access:
      - {users: [ann], scopes: [read]}
      - {users: [ben], scopes: []}
      - {users: [ann, ben], scopes: [write], max_auth_age: 5m}
`), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		user, err, granted string
		maxAge             time.Duration
	}{
		{"ann", "", "read", 0},
		{"ben", "insufficient_user_authentication", "", 5 * time.Minute},
	} {
		d := cfg.Decide(policy.Request{Username: c.user, ClientID: "c", Audience: "https://as.s.example",
			AuthTime: now.Add(-time.Hour), Now: now})
		if d.Error != c.err || strings.Join(d.Scopes, " ") != c.granted || d.MaxAge != c.maxAge {
			t.Errorf("%s: error %q scopes %q max_age %v, want %q %q %v (%s)", c.user, d.Error, d.Scopes, d.MaxAge, c.err, c.granted, c.maxAge, d.Reason)
		}
	}
}

// TestRevocations_Oracle compares Revocations, which decides whom the IdP
// pushes a revocation for, with the oracle's: every user who could reach
// a server before a random edit (and a move of the clock) and cannot after.
func TestRevocations_Oracle(t *testing.T) {
	const seed, configs = 20261206, 1000
	r := rand.New(rand.NewSource(seed))
	fails := 0
	for k := range configs {
		m := policytest.RandomModel(r)
		n := m.Mutate(r)
		old := parseModel(t, m, "old.yaml", fmt.Sprintf("seed %d config %d", seed, k))
		cfg := parseModel(t, n, "new.yaml", fmt.Sprintf("seed %d config %d, edited", seed, k))
		oldAt := m.RandomRequest(r).Now
		at := oldAt.Add([]time.Duration{0, 0, time.Minute, time.Hour, 2 * time.Hour}[r.Intn(5)])
		var got []string
		for _, rv := range policy.Revocations(old, oldAt, cfg, at) {
			s := rv.User.Username + " " + rv.Server.ID
			if rv.Disabled {
				s += " disabled"
			}
			got = append(got, s)
		}
		slices.Sort(got)
		if want := policytest.Revocations(m, oldAt, n, at); !slices.Equal(got, want) {
			if fails++; fails <= 3 {
				t.Errorf("seed %d config %d: from %s to %s, revocations %q, oracle %q\nbefore:\n%s\nafter:\n%s",
					seed, k, oldAt.Format(time.RFC3339Nano), at.Format(time.RFC3339Nano), got, want, m.YAML(), n.YAML())
			}
		}
	}
	if fails > 0 {
		t.Errorf("%d disagreements", fails)
	}
}

// parseModel is m's configuration, parsed as file; which names m in the
// failure, with the YAML that failed.
func parseModel(t *testing.T, m *policytest.Model, file, which string) *policy.Config {
	t.Helper()
	cfg, err := policy.Parse([]byte(m.YAML()), file)
	if err != nil {
		t.Fatalf("%s: %v\n%s", which, err, m.YAML())
	}
	return cfg
}
