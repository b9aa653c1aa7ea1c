package policy_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/policy"
	"github.com/xaa-idp/xaa-idp/policy/policytest"
)

// TestRevocations_SameAsEveryPair_MoreEdits extends
// TestRevocations_SameAsEveryPair to the edits it does not make, one to
// three at a time: a client removed (and re-added without token
// exchange), a deny on a client or a user, access entries reordered, a
// user or a group renamed, a server id reused for other access, expiries
// moved earlier and later, entries already expired at the older instant,
// an entry's users and clients changed; and to instants before the older
// one.
func TestRevocations_SameAsEveryPair_MoreEdits(t *testing.T) {
	base := reparse(t, policytest.Large(policytest.Size{Users: 40, Groups: 8, Servers: 10, Clients: 6}), func(c *policy.Config) {
		for j := range c.MCPServers {
			s := &c.MCPServers[j]
			// Sparse: two group entries and the user's, each through one
			// client, so that one edit often takes a server away.
			s.Access = append(s.Access[:2], s.Access[len(s.Access)-1])
			ids := slices.Sorted(maps.Keys(s.Clients))
			for k := range s.Access {
				s.Access[k].Clients = []string{ids[(j+k)%len(ids)]}
			}
			switch j % 3 {
			case 0: // expires after revokeAt
				s.Access[j%2].Expires = policy.At(revokeAt.Add(time.Duration(j+1) * time.Hour))
			case 1: // expired before revokeAt
				s.Access[j%len(s.Access)].Expires = policy.At(revokeAt.Add(-time.Duration(j+1) * time.Hour))
			}
		}
	})
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 600 {
		edited, what := base, "none"
		if round%7 != 0 {
			edited, what = randomEdits(t, rng, base, 1+rng.IntN(3))
		}
		later := revokeAt.Add(time.Duration(rng.IntN(14*60)-2*60) * time.Minute)
		want := naiveRevocations(base, revokeAt, edited, later)
		got := revocationLines(policy.Revocations(base, revokeAt, edited, later))
		if !slices.Equal(got, want) {
			t.Fatalf("round %d (%s, %+v): Revocations\n%q\nwant (every pair)\n%q", round, what, later.Sub(revokeAt), got, want)
		}
	}
}

func randomEdits(t *testing.T, rng *rand.Rand, base *policy.Config, n int) (*policy.Config, string) {
	y := marshalConfig(t, base)
	var what []string
	return reparse(t, y, func(c *policy.Config) {
		for range n {
			what = append(what, moreEdit(rng, c))
		}
	}), strings.Join(what, ", ")
}

func moreEdit(rng *rand.Rand, c *policy.Config) string {
	u := &c.Users[1+rng.IntN(len(c.Users)-1)] // not user0, the admin
	s := &c.MCPServers[rng.IntN(len(c.MCPServers))]
	g := fmt.Sprintf("group%d", rng.IntN(len(c.Groups)))
	cl := c.Clients[rng.IntN(len(c.Clients))].ClientID
	a := &s.Access[rng.IntN(len(s.Access))]
	switch rng.IntN(13) {
	case 0:
		// Removed: from the clients and every server that names it.
		c.Clients = slices.DeleteFunc(c.Clients, func(x policy.Client) bool { return x.ClientID == cl })
		for j := range c.MCPServers {
			m := &c.MCPServers[j]
			delete(m.Clients, cl)
			for k := range m.Access {
				m.Access[k].Clients = slices.DeleteFunc(m.Access[k].Clients, func(x string) bool { return x == cl })
			}
			for k := range m.Deny {
				m.Deny[k].Clients = slices.DeleteFunc(m.Deny[k].Clients, func(x string) bool { return x == cl })
			}
			m.Deny = slices.DeleteFunc(m.Deny, func(d policy.Deny) bool { return len(d.Users)+len(d.Groups)+len(d.Clients) == 0 })
		}
		return "remove client " + cl
	case 1:
		for k := range c.Clients {
			if c.Clients[k].ClientID == cl {
				c.Clients[k].TokenExchange = !c.Clients[k].TokenExchange
			}
		}
		return "flip token_exchange of " + cl
	case 2:
		for id := range s.Clients {
			s.Deny = append(s.Deny, policy.Deny{Clients: []string{id}})
			break
		}
		return "deny a client on " + s.ID
	case 3:
		s.Deny = append(s.Deny, policy.Deny{Users: []string{u.Username}})
		return "deny " + u.Username + " on " + s.ID
	case 4:
		slices.Reverse(s.Access)
		return "reorder access of " + s.ID
	case 5:
		old := u.Username
		u.Username += "r"
		u.Sub = ""
		for j := range c.MCPServers {
			for k := range c.MCPServers[j].Access {
				replace(c.MCPServers[j].Access[k].Users, old, u.Username)
			}
			for k := range c.MCPServers[j].Deny {
				replace(c.MCPServers[j].Deny[k].Users, old, u.Username)
			}
		}
		return "rename " + old
	case 6:
		for k := range c.Groups {
			if c.Groups[k].Name == g {
				c.Groups[k].Name = g + "r"
			}
		}
		ren := func(l []string) {
			for i := range l {
				if l[i] == g {
					l[i] = g + "r"
				}
			}
		}
		for k := range c.Users {
			ren(c.Users[k].Groups)
		}
		for j := range c.MCPServers {
			for k := range c.MCPServers[j].Access {
				ren(c.MCPServers[j].Access[k].Groups)
			}
			for k := range c.MCPServers[j].Deny {
				ren(c.MCPServers[j].Deny[k].Groups)
			}
		}
		return "rename " + g
	case 7:
		other := &c.MCPServers[rng.IntN(len(c.MCPServers))]
		s.Access = slices.Clone(other.Access)
		for k := range s.Access {
			e := &s.Access[k]
			e.Users, e.Groups, e.Clients = slices.Clone(e.Users), slices.Clone(e.Groups), slices.Clone(e.Clients)
		}
		s.Deny = slices.Clone(other.Deny)
		for k := range s.Deny {
			d := &s.Deny[k]
			d.Users, d.Groups, d.Clients = slices.Clone(d.Users), slices.Clone(d.Groups), slices.Clone(d.Clients)
		}
		s.Clients = maps.Clone(other.Clients)
		return "server id " + s.ID + " reused for " + other.ID + "'s access"
	case 8:
		a.Expires = policy.At(revokeAt.Add(time.Duration(rng.IntN(16*60)-4*60) * time.Minute))
		return "expires moved on " + s.ID
	case 9:
		a.Expires = 0
		return "expires dropped on " + s.ID
	case 10:
		if !slices.Contains(a.Users, u.Username) {
			a.Users = append(a.Users, u.Username)
		}
		a.Groups = nil
		return "users of an entry of " + s.ID
	case 12:
		// As many clients, another set: one swapped for a client it lacked.
		for _, x := range c.Clients {
			if _, ok := s.Clients[x.ClientID]; !ok {
				for id := range s.Clients {
					delete(s.Clients, id)
					for k := range s.Access {
						replace(s.Access[k].Clients, id, x.ClientID)
					}
					for k := range s.Deny {
						replace(s.Deny[k].Clients, id, x.ClientID)
					}
					break
				}
				s.Clients[x.ClientID] = x.ClientID + "-at-" + s.ID
				break
			}
		}
		return "a client of " + s.ID + " swapped"
	default:
		for id := range s.Clients {
			a.Clients = []string{id}
			break
		}
		return "clients of an entry of " + s.ID
	}
}

func replace(l []string, old, new string) {
	for i := range l {
		if l[i] == old {
			l[i] = new
		}
	}
}
