package push

import (
	"fmt"
	"strings"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/internal/secevent"
	"github.com/xaa-idp/xaa-idp/policy"
)

// ConfigChanged compares cfg, the new running configuration, with the one
// before and queues a SET for every user who can no longer reach a server
// with an events endpoint (policy.Revocations). It returns once they are
// queued (durably, with a journal), so a policy.Store's OnChange may call
// it: no acknowledged change goes without its push. Then, with a state
// directory, it saves who can reach each server (StandingFile), against
// which the next start compares the configuration it loads. It returns
// ErrFull when some did not fit.
func (p *Pusher) ConfigChanged(cfg *policy.Config) error {
	p.watchMu.Lock()
	defer p.watchMu.Unlock()
	now := p.o.Now()
	revs := policy.Revocations(p.cfg, p.cfgAt, cfg, now)
	// The entries of the configuration before that had expired, first:
	// an edit that removes one before the next CheckExpiry must not take
	// its access_request expired event with it.
	p.auditExpired(p.cfg, now)
	p.cfg, p.cfgAt = cfg, now
	p.auditExpired(cfg, now)
	err := p.enqueue(p.sets(revs, now))
	if err == nil {
		// Only once the SETs are journaled: a crash before leaves the old
		// standing, against which the next start finds them again.
		p.saveStanding(cfg, now)
	} else {
		p.holdStanding()
	}
	return err
}

// CheckExpiry queues the SETs of access entries that expired since the
// last look, and audits each newly expired entry as an access_request
// event with outcome expired. The Pusher calls it every CheckEvery.
func (p *Pusher) CheckExpiry() error {
	p.watchMu.Lock()
	defer p.watchMu.Unlock()
	now := p.o.Now()
	revs := policy.Revocations(p.cfg, p.cfgAt, p.cfg, now)
	p.cfgAt = now
	p.auditExpired(p.cfg, now)
	err := p.enqueue(p.sets(revs, now))
	if err != nil {
		p.holdStanding()
	} else if len(revs) > 0 {
		p.saveStanding(p.cfg, now)
	}
	return err
}

// AccessExpired audits, as CheckExpiry does, every access entry of cfg
// that has expired at now and was not audited before, at once: an
// idp.Server's OnAccessExpired calls it when a decision finds an entry
// expired, so that its access_request event with outcome expired is in
// the log before the refusal (docs/configuration.md, "Time-bound access"). The SETs wait for the
// next CheckExpiry, which compares reachability over time.
func (p *Pusher) AccessExpired(cfg *policy.Config, now time.Time) {
	p.watchMu.Lock()
	defer p.watchMu.Unlock()
	p.auditExpired(cfg, now)
}

// SessionEnded queues a CAEP session-revoked SET for every server with an
// events endpoint that the user with this sub can reach: an
// idp.Server's OnSessionEnd calls it when end_session ends an SSO session.
func (p *Pusher) SessionEnded(sub string) error {
	p.watchMu.Lock()
	cfg := p.cfg
	p.watchMu.Unlock()
	now := p.o.Now()
	u := cfg.UserBySub(sub)
	if u == nil {
		return nil
	}
	var revs []policy.Revocation
	for i := range cfg.MCPServers {
		if s := &cfg.MCPServers[i]; cfg.Reachable(u, s, now) {
			revs = append(revs, policy.Revocation{User: u, Server: s, Reason: fmt.Sprintf("user %s's SSO session ended", u.Username)})
		}
	}
	return p.enqueue(p.sets(revs, now))
}

// sets turns revocations into pending SETs for the servers that have an
// events endpoint.
func (p *Pusher) sets(revs []policy.Revocation, now time.Time) []*pending {
	var out []*pending
	for _, r := range revs {
		endpoint := p.endpoint(r.Server)
		if endpoint == "" {
			continue
		}
		event := secevent.SessionRevoked
		if r.Disabled {
			event = secevent.AccountDisabled
		}
		out = append(out, &pending{
			ID: newJTI(), Server: r.Server.ID, Endpoint: endpoint, Audience: r.Server.Issuer,
			User: r.User.Username, Sub: r.User.Sub, Event: event, At: now.Unix(), Reason: r.Reason,
			Created: time.Now(),
		})
	}
	return out
}

// auditExpired writes an access_request event with outcome expired for
// every access entry that has expired at now and was not audited before.
// The caller holds watchMu.
//
// It is called on every token exchange whose decision finds an expired
// entry (AccessExpired), which an entry left in the file makes every
// exchange of its users: so a look at the configuration it looked at last,
// before the next entry of that configuration expires, returns at once.
func (p *Pusher) auditExpired(cfg *policy.Config, now time.Time) {
	l := &p.lastLook
	if cfg == l.cfg && !now.Before(l.at) && (l.next.IsZero() || now.Before(l.next)) {
		return
	}
	*l = expiryLook{cfg: cfg, at: now}
	for i := range cfg.MCPServers {
		s := &cfg.MCPServers[i]
		for j := range s.Access {
			e := &s.Access[j]
			if !e.Expired(now) {
				if !e.Expires.IsZero() && (l.next.IsZero() || e.Expires.T().Before(l.next)) {
					l.next = e.Expires.T()
				}
				continue
			}
			who := strings.Join(append(prefixed("users: ", e.Users), prefixed("groups: ", e.Groups)...), "; ")
			expires := e.Expires.T().UTC().Format(time.RFC3339Nano)
			scopes, clients := strings.Join(e.Scopes, " "), strings.Join(e.Clients, " ")
			if p.seen.keys[expiryKey(s.ID, expires, who)] || !p.seen.add(entryKey(s.ID, expires, who, scopes, clients)) {
				continue
			}
			details := map[string]any{"expires": expires, "names": who, "scopes": scopes}
			if clients != "" {
				details["clients"] = clients
			}
			ev := audit.Event{
				Type: audit.TypeAccessRequest, Outcome: audit.Expired, Server: s.ID,
				Rule:    fmt.Sprintf("%s access[%d]", s.ID, j),
				Reason:  fmt.Sprintf("access to %s by %s access[%d] (%s) expired at %s", s.ID, s.ID, j, who, e.Expires.T().Format(time.RFC3339Nano)),
				Details: details,
			}
			if len(e.Users) == 1 && len(e.Groups) == 0 {
				ev.User = e.Users[0]
				if u := cfg.User(e.Users[0]); u != nil {
					ev.Sub = u.Sub
				}
			}
			if _, err := p.o.Audit.Append(ev); err != nil {
				p.o.Logger.Error("push: audit event not written", "err", err)
			}
		}
	}
}

func prefixed(prefix string, names []string) []string {
	if len(names) == 0 {
		return nil
	}
	return []string{prefix + strings.Join(names, ", ")}
}

// expiryKey identifies an expired entry by its server, its expiry and
// whom it names (its index may change), as its audit event records them:
// cut at audit.MaxTextBytes, so that an entry naming many is known again
// from its event after a restart (seedExpired). It is the key of an
// event written before events had details.scopes, which took every entry
// of the server with that expiry and those names for one.
func expiryKey(server, expires, who string) string {
	return audit.Truncate(server) + "\x00" + expires + "\x00" + audit.Truncate(who)
}

// entryKey is expiryKey with the entry's scopes and clients too: two
// entries that name the same users and end at the same instant (two
// approvals of one user's requests in one second) are two entries, each
// audited.
func entryKey(server, expires, who, scopes, clients string) string {
	return expiryKey(server, expires, who) + "\x00" + audit.Truncate(scopes) + "\x00" + audit.Truncate(clients)
}

// Querier reads the audit log; audit.Log implements it.
type Querier interface {
	QueryPage(audit.Filter) ([]audit.Event, bool)
}

// seedExpired remembers the expired entries the audit log already has an
// access_request expired event for (the newest maxSeen), so that a
// restart does not audit them again.
func (s *expirySet) seedExpired(q Querier) {
	f := audit.Filter{Type: audit.TypeAccessRequest, Outcome: audit.Expired, Limit: audit.MaxQueryLimit}
	var keys []string // newest first
	for len(keys) < maxSeen {
		evs, more := q.QueryPage(f)
		for _, ev := range evs {
			expires, _ := ev.Details["expires"].(string)
			who, _ := ev.Details["names"].(string)
			scopes, ok := ev.Details["scopes"].(string)
			clients, _ := ev.Details["clients"].(string)
			switch {
			case expires == "" || who == "":
			case ok:
				keys = append(keys, entryKey(ev.Server, expires, who, scopes, clients))
			default:
				keys = append(keys, expiryKey(ev.Server, expires, who))
			}
		}
		if !more || len(evs) == 0 {
			break
		}
		f.Before = evs[len(evs)-1].ID
	}
	for i := len(keys) - 1; i >= 0; i-- {
		s.add(keys[i])
	}
}

// maxSeen bounds the expired entries remembered as audited; beyond it the
// oldest are forgotten (and audited again should they still be there).
const maxSeen = 10_000

// expirySet is a bounded set of expired entries already audited, keyed by
// server, expiry and who the entry names (its index may change).
type expirySet struct {
	keys  map[string]bool
	order []string
}

// add reports whether key is new, remembering it.
func (s *expirySet) add(key string) bool {
	if s.keys[key] {
		return false
	}
	if s.keys == nil {
		s.keys = map[string]bool{}
	}
	if len(s.order) >= maxSeen {
		delete(s.keys, s.order[0])
		s.order = s.order[1:]
	}
	s.keys[key] = true
	s.order = append(s.order, key)
	return true
}

// expiryLook is auditExpired's last look: the configuration, the instant,
// and the soonest expiry after it of an entry not expired then (zero for
// none).
type expiryLook struct {
	cfg      *policy.Config
	at, next time.Time
}
