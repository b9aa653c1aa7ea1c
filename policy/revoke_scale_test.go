package policy_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/policy"
	"github.com/xaa-idp/xaa-idp/policy/policytest"
)

// naiveRevocations is Revocations as it was before it skipped the pairs
// that cannot have changed: every user against every server.
func naiveRevocations(old *policy.Config, oldAt time.Time, cfg *policy.Config, at time.Time) []string {
	var out []string
	for i := range old.Users {
		u := &old.Users[i]
		if !u.Active() {
			continue
		}
		now := cfg.User(u.Username)
		for j := range old.MCPServers {
			was := &old.MCPServers[j]
			if !old.Reachable(u, was, oldAt) {
				continue
			}
			s := cfg.Server(was.ID)
			switch {
			case now != nil && !now.Active():
				out = append(out, u.Username+" "+was.ID+" disabled")
			case now == nil, s == nil:
				out = append(out, u.Username+" "+was.ID+" gone")
			case !old.Reachable(u, was, at):
				// Lost by expiry in the old configuration too.
				if !cfg.Reachable(now, s, at) {
					out = append(out, u.Username+" "+was.ID+" "+old.LostReason(u, was, at))
				}
			case !cfg.Reachable(now, s, at):
				out = append(out, u.Username+" "+was.ID+" "+cfg.LostReason(u, s, at))
			}
		}
	}
	sort.Strings(out)
	return out
}

func revocationLines(revs []policy.Revocation) []string {
	out := []string{}
	for _, r := range revs {
		switch {
		case r.Disabled:
			out = append(out, r.User.Username+" "+r.Server.ID+" disabled")
		case r.Reason == fmt.Sprintf("user %s was removed", r.User.Username) || r.Reason == fmt.Sprintf("MCP server %s was removed", r.Server.ID):
			out = append(out, r.User.Username+" "+r.Server.ID+" gone")
		default:
			out = append(out, r.User.Username+" "+r.Server.ID+" "+r.Reason)
		}
	}
	sort.Strings(out)
	return out
}

// TestRevocations_SameAsEveryPair: Revocations, which looks only at the
// users and servers a change can affect, finds what comparing every user
// with every server finds, over random changes of a generated
// configuration (users' groups, disabling, removal; servers' access, deny
// and clients; clients' token_exchange; expiring entries) and random
// instants.
func TestRevocations_SameAsEveryPair(t *testing.T) {
	base := reparse(t, policytest.Large(policytest.Size{Users: 40, Groups: 8, Servers: 10, Clients: 6}), func(c *policy.Config) {
		// Some entries expire, at 1 h, 2 h ... after revokeAt.
		for j := range c.MCPServers {
			if j%3 == 0 {
				e := &c.MCPServers[j].Access[j%len(c.MCPServers[j].Access)]
				e.Expires = policy.At(revokeAt.Add(time.Duration(j+1) * time.Hour))
			}
		}
	})
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		edited := base
		var what string
		if round%5 != 0 { // else compare the configuration with itself later
			edited, what = randomEdit(t, rng, base)
		}
		later := revokeAt.Add(time.Duration(rng.IntN(12*60)) * time.Minute)
		want := naiveRevocations(base, revokeAt, edited, later)
		got := revocationLines(policy.Revocations(base, revokeAt, edited, later))
		if !slices.Equal(got, want) {
			t.Fatalf("round %d (%s, +%s): Revocations\n%q\nwant (every pair)\n%q", round, what, later.Sub(revokeAt), got, want)
		}
	}
}

// reparse parses y, lets edit change the result, and parses that again
// (written as YAML), for a valid, indexed configuration.
func reparse(t *testing.T, y []byte, edit func(*policy.Config)) *policy.Config {
	t.Helper()
	cfg, err := policy.Parse(y, "gen.yaml")
	if err != nil {
		t.Fatal(err)
	}
	edit(cfg)
	out := marshalConfig(t, cfg)
	cfg, err = policy.Parse(out, "gen.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return cfg
}

// marshalConfig writes c as JSON that Parse reads back: without the keys
// of a tenant.
func marshalConfig(t *testing.T, c *policy.Config) []byte {
	t.Helper()
	y, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(y, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"tenants", "id", "path"} {
		delete(m, k)
	}
	if y, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	return y // JSON is YAML
}

func randomEdit(t *testing.T, rng *rand.Rand, base *policy.Config) (*policy.Config, string) {
	y := marshalConfig(t, base)
	var what string
	return reparse(t, y, func(c *policy.Config) {
		u := &c.Users[1+rng.IntN(len(c.Users)-1)] // not user0, the admin
		s := &c.MCPServers[rng.IntN(len(c.MCPServers))]
		g := fmt.Sprintf("group%d", rng.IntN(len(c.Groups)))
		switch k := rng.IntN(9); k {
		case 0:
			what = "disable " + u.Username
			u.Disabled = true
		case 1:
			what = "groups of " + u.Username
			u.Groups = []string{g}
		case 2:
			what = "remove " + u.Username
			name := u.Username
			c.Users = slices.DeleteFunc(c.Users, func(x policy.User) bool { return x.Username == name })
			for j := range c.MCPServers {
				for a := range c.MCPServers[j].Access {
					c.MCPServers[j].Access[a].Users = slices.DeleteFunc(c.MCPServers[j].Access[a].Users, func(n string) bool { return n == name })
				}
				c.MCPServers[j].Access = slices.DeleteFunc(c.MCPServers[j].Access, func(e policy.Access) bool { return len(e.Users)+len(e.Groups) == 0 })
				c.MCPServers[j].Deny = nil
			}
		case 3:
			what = "access of " + s.ID
			s.Access = s.Access[:1+rng.IntN(len(s.Access))]
			s.Access[0].Groups = []string{g}
		case 4:
			what = "deny on " + s.ID
			s.Deny = append(s.Deny, policy.Deny{Groups: []string{g}})
		case 5:
			what = "remove " + s.ID
			id := s.ID
			c.MCPServers = slices.DeleteFunc(c.MCPServers, func(x policy.MCPServer) bool { return x.ID == id })
		case 6:
			what = "clients of " + s.ID
			for id := range s.Clients {
				delete(s.Clients, id)
				break
			}
		case 7:
			cl := &c.Clients[rng.IntN(len(c.Clients))]
			what = "token_exchange of " + cl.ClientID
			cl.TokenExchange = false
		case 8:
			what = "expiry on " + s.ID
			s.Access[0].Expires = policy.At(revokeAt.Add(time.Duration(rng.IntN(6*60)) * time.Minute))
		}
	}), what
}

// TestRevocations_OneChangeCostsOneUser: after a change of one user, at the
// size of a company (2,000 users, 100 servers), Revocations costs a
// fraction of comparing every user with every server, measured in the same
// run (it looked at every pair on every change, and on every look for
// expiries, once a second: seconds of CPU per change at 5,000 users and
// 300 servers, and a core kept busy while idle).
func TestRevocations_OneChangeCostsOneUser(t *testing.T) {
	base := reparse(t, policytest.Large(policytest.Size{Users: 2000, Groups: 200, Servers: 100, Clients: 50}), func(*policy.Config) {})
	edited := reparse(t, marshalConfig(t, base), func(c *policy.Config) { c.Users[7].Groups = []string{"group3"} })
	at := revokeAt.Add(time.Second)
	measure := func(f func()) time.Duration {
		best := time.Duration(1 << 62)
		for range 3 {
			start := time.Now()
			f()
			best = min(best, time.Since(start))
		}
		return best
	}
	every := measure(func() { naiveRevocations(base, revokeAt, edited, at) })
	one := measure(func() { policy.Revocations(base, revokeAt, edited, at) })
	same := measure(func() { policy.Revocations(base, revokeAt, base, at) })
	t.Logf("every pair %s, one user changed %s, expiry look %s", every, one, same)
	if one*20 > every || same*20 > every {
		t.Errorf("Revocations took %s after one user's change and %s for a look for expiries, against %s for every pair: want under 1/20", one, same, every)
	}
}
