package policy

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"
)

// Revocation is one user's loss of one MCP server, found by Revocations:
// what the IdP tells the server's authorization server by a Security Event
// Token (docs/configuration.md, "Revocation push").
type Revocation struct {
	// User is the user as the configuration before the change knew them:
	// a deleted user still has the sub the server knows.
	User *User
	// Server is the MCP server: from the newer configuration when it
	// still has it, else from the older one.
	Server *MCPServer
	// Disabled is set when the user was disabled (RISC account-disabled);
	// otherwise the user lost access (CAEP session-revoked).
	Disabled bool
	// Reason says what happened, for the audit log.
	Reason string
}

// Reachable reports whether the user may reach the server at now: the user
// is enabled, and some client connected to the server (listed under its
// clients and allowed token exchange, a metadata document client as the
// cimd section allows it) would get an ID-JAG for the user
// through an unexpired access entry that no deny entry overrides. Scopes
// and max_auth_age do not matter: they change what is granted, not whether
// the server is reachable.
func (c *Config) Reachable(u *User, s *MCPServer, now time.Time) bool {
	if !u.Active() {
		return false
	}
	for clientID := range s.Clients {
		if !exchanges(c, clientID) {
			continue
		}
		denied := false
		for i := range s.Deny {
			if denies(&s.Deny[i], u, clientID) {
				denied = true
				break
			}
		}
		if denied {
			continue
		}
		if matches, _, _ := matchAccess(nil, s, u, clientID, now); len(matches) > 0 {
			return true
		}
	}
	return false
}

// Revocations compares the configuration old, as it stood at oldAt, with
// cfg at at, and returns every user who could reach a server then and
// cannot now: each user who was enabled and is now disabled, for every
// server the user could reach (Disabled set); and each user who lost the
// last entry that gave access to a server, by an edit, a new deny entry,
// the user's or the server's removal, or expiry; and each user whose sub
// changed, for every server the old sub could reach (servers know users by
// sub). Comparing a configuration with itself at two instants finds the
// expiries between them. The result is ordered by username, then server id.
//
// Only the pairs whose reachability can differ are looked at: a user whose
// account and groups are unchanged, with a server whose clients, access and
// deny entries are unchanged and none of whose entries expired between
// oldAt and at, reaches it now as before. So a change of one user costs
// one user times the servers, a change of one server the users times one
// server, and a look for expiries (old == cfg) nothing when no entry
// expired, rather than every user times every server each time.
func Revocations(old *Config, oldAt time.Time, cfg *Config, at time.Time) []Revocation {
	var out []Revocation
	var changed []int // indexes of the servers whose reach may differ
	for j := range old.MCPServers {
		if !sameReach(old, &old.MCPServers[j], oldAt, cfg, at) {
			changed = append(changed, j)
		}
	}
	all := make([]int, len(old.MCPServers))
	for j := range all {
		all[j] = j
	}
	for i := range old.Users {
		u := &old.Users[i]
		if !u.Active() {
			continue
		}
		now := cfg.User(u.Username)
		disabled := now != nil && !now.Active()
		if now != nil && now.Sub != u.Sub {
			// Servers know the user by sub: the old one is gone as a
			// removed user is, whatever the new one may reach.
			now = nil
		}
		servers := all
		if now != nil && !disabled && slices.Equal(now.Groups, u.Groups) {
			servers = changed // the same user: only a changed server can take access away
		}
		for _, j := range servers {
			was := &old.MCPServers[j]
			if !old.Reachable(u, was, oldAt) {
				continue
			}
			s := cfg.Server(was.ID)
			switch {
			case disabled:
				out = append(out, Revocation{User: u, Server: orServer(s, was), Disabled: true,
					Reason: fmt.Sprintf("user %s was disabled", u.Username)})
			case now == nil:
				out = append(out, Revocation{User: u, Server: orServer(s, was), Reason: GoneReason(u, cfg)})
			case s == nil:
				out = append(out, Revocation{User: u, Server: was,
					Reason: fmt.Sprintf("MCP server %s was removed", was.ID)})
			case !cfg.Reachable(now, s, at):
				reason := lostReason(u, s, cfg, at)
				if !old.Reachable(u, was, at) {
					// The old configuration had lost it by now too: its
					// entry expired, and the edit (an approval's) removed
					// it before the expiry watch looked. The expiry is why.
					reason = lostReason(u, was, old, at)
				}
				out = append(out, Revocation{User: u, Server: s, Reason: reason})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].User.Username != out[j].User.Username {
			return out[i].User.Username < out[j].User.Username
		}
		return out[i].Server.ID < out[j].Server.ID
	})
	return out
}

// sameReach reports whether every user reaches the server was of old at
// oldAt exactly when the same user reaches the server of cfg with its id at
// at: what Reachable reads of them is the same (the server's clients, each
// client's existence and token_exchange, the deny entries, the access
// entries' users, groups and clients), and no access entry expired in
// between.
func sameReach(old *Config, was *MCPServer, oldAt time.Time, cfg *Config, at time.Time) bool {
	s := cfg.Server(was.ID)
	if s == nil {
		return false
	}
	for i := range was.Access {
		if was.Access[i].Expired(oldAt) != was.Access[i].Expired(at) {
			return false
		}
	}
	if s == was {
		return true
	}
	if len(s.Clients) != len(was.Clients) || len(s.Access) != len(was.Access) ||
		!slices.EqualFunc(s.Deny, was.Deny, func(a, b Deny) bool {
			return slices.Equal(a.Users, b.Users) && slices.Equal(a.Groups, b.Groups) && slices.Equal(a.Clients, b.Clients)
		}) {
		return false
	}
	for id := range maps.Keys(was.Clients) {
		if _, ok := s.Clients[id]; !ok || exchanges(old, id) != exchanges(cfg, id) {
			return false
		}
	}
	for i := range was.Access {
		a, b := &was.Access[i], &s.Access[i]
		if !slices.Equal(a.Users, b.Users) || !slices.Equal(a.Groups, b.Groups) || !slices.Equal(a.Clients, b.Clients) ||
			a.Expires != b.Expires {
			return false
		}
	}
	return true
}

// exchanges reports whether c has the client and lets it exchange tokens:
// a configured client with token_exchange, or a metadata document URL that
// the cimd section admits while it lets such clients request ID-JAGs (the
// exchange decides them so once their document resolves).
func exchanges(c *Config, clientID string) bool {
	if cl := c.Client(clientID); cl != nil {
		return cl.TokenExchange
	}
	return c.CIMD.Allows(clientID) && c.CIMD.Exchange()
}

// GoneReason says why u, as an older configuration knew them, is gone
// from cfg: removed, or known by another sub.
func GoneReason(u *User, cfg *Config) string {
	if now := cfg.User(u.Username); now != nil && now.Sub != u.Sub {
		return fmt.Sprintf("user %s's sub changed from %s to %s", u.Username, u.Sub, now.Sub)
	}
	return fmt.Sprintf("user %s was removed", u.Username)
}

func orServer(s, fallback *MCPServer) *MCPServer {
	if s != nil {
		return s
	}
	return fallback
}

// LostReason says why the user can no longer reach the server under c at
// at, as a Revocation's Reason does: which entries expired, or that the
// last entry that gave access is gone.
func (c *Config) LostReason(u *User, s *MCPServer, at time.Time) string {
	return lostReason(u, s, c, at)
}

// lostReason explains why a user can no longer reach a server.
func lostReason(u *User, s *MCPServer, cfg *Config, at time.Time) string {
	var expired []Expiry
	for clientID := range s.Clients {
		_, _, x := matchAccess(nil, s, u, clientID, at)
		for _, e := range cfg.expiries(s, x) {
			if !containsExpiry(expired, e) {
				expired = append(expired, e)
			}
		}
	}
	if len(expired) > 0 {
		sort.Slice(expired, func(i, j int) bool { return expired[i].Rule < expired[j].Rule })
		return expiredReason(u, s, expired)
	}
	return fmt.Sprintf("user %s lost the last entry that gave access to %s", u.Username, s.ID)
}

func containsExpiry(list []Expiry, e Expiry) bool {
	for _, x := range list {
		if x.Rule == e.Rule {
			return true
		}
	}
	return false
}
