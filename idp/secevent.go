package idp

import (
	"context"
	"sync"
	"time"

	"github.com/xaa-idp/xaa-idp/policy"
)

// SignSecEvent signs claims as a Security Event Token (RFC 8417) with the
// IdP's current ES256 key, which its JWKS publishes: what the revocation
// push (package push) sends to MCP servers.
func (s *Server) SignSecEvent(claims any) (string, error) {
	return s.keys.SignSecEvent(claims)
}

// EnsureSecEventKey makes sure the IdP has a current ES256 key, published
// in its JWKS from now on, to sign Security Event Tokens with: for a
// configuration whose ID tokens and ID-JAGs use other algorithms (the okta
// persona's RS256) but whose pushes are wired by the demo rather than by
// an events_endpoint that check would have asked an ES256 key for.
func (s *Server) EnsureSecEventKey() error {
	return s.keys.Pin("ES256")
}

// hooks are the functions registered for one kind of event (OnSessionEnd,
// OnAccessExpired).
type hooks[F any] struct {
	mu sync.Mutex
	fs []F
}

// add registers f.
func (h *hooks[F]) add(f F) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fs = append(h.fs, f)
}

// all returns the functions registered so far.
func (h *hooks[F]) all() []F {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.fs
}

// OnSessionEnd registers f to be called with the user's sub whenever
// end_session ends an SSO session (OpenID RP-Initiated Logout), after the
// logout is audited. f runs in the request and must not block on the
// network.
func (s *Server) OnSessionEnd(f func(sub string)) { s.sessionEnd.add(f) }

// notifySessionEnd calls the OnSessionEnd functions with sub.
func (s *Server) notifySessionEnd(sub string) {
	for _, f := range s.sessionEnd.all() {
		f(sub)
	}
}

// OnSSOEnd registers f to be called with the SSO session's sid whenever
// one ends (a sign-out at /apps, an application's end_session, another
// user's login in its browser), once, as it is marked ended: the
// console's sessions, each a login of one, end with it for good, while
// the IdP remembers the end only as long as an ID token of the session
// may live (SessionEnded). f runs in the request and must not block.
func (s *Server) OnSSOEnd(f func(sid string)) { s.ssoEnd.add(f) }

// OnAccessExpired registers f to be called, with the configuration and the
// instant of the decision, whenever a token exchange's policy decision
// finds an access entry expired (policy.Decision.Expired), before the
// exchange answers and before its own audit event: docs/configuration.md
// ("Time-bound access") wants the access_request event with outcome expired
// at the latest when a decision first finds the entry expired, which the Pusher's periodic look
// alone does not promise. f runs in the request and must not block on the
// network.
func (s *Server) OnAccessExpired(f func(cfg *policy.Config, now time.Time)) { s.accessExpired.add(f) }

// notifyAccessExpired calls the OnAccessExpired functions.
func (s *Server) notifyAccessExpired(cfg *policy.Config, now time.Time) {
	for _, f := range s.accessExpired.all() {
		f(cfg, now)
	}
}

// maxRevocationSeconds bounds the revocations NoteRevocation remembers:
// each is needed for a second only, so a full set first forgets those of
// seconds past, and then records no more (an exchange in the second of an
// unrecorded revocation is refused by the authorization server, as
// before NoteRevocation, and the client gets another a second later).
const maxRevocationSeconds = 10000

// revocationSeconds holds, for a user (sub) and an MCP server (its
// issuer), the second (Unix, on the IdP's clock) of the last revocation
// pushed to that server.
type revocationSeconds struct {
	mu sync.Mutex
	at map[[2]string]int64
}

// NoteRevocation records that a Security Event Token revoking sub's
// access was queued for, or accepted by, the MCP server whose issuer is
// audience, at at: push.Pusher.OnQueued.
func (s *Server) NoteRevocation(sub, audience string, at time.Time) {
	r := &s.revocations
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.at == nil {
		r.at = make(map[[2]string]int64)
	}
	k := [2]string{sub, audience}
	if _, ok := r.at[k]; !ok && len(r.at) >= maxRevocationSeconds {
		now := s.now().Unix()
		for k, sec := range r.at {
			if sec < now {
				delete(r.at, k)
			}
		}
		if len(r.at) >= maxRevocationSeconds {
			return
		}
	}
	r.at[k] = max(r.at[k], at.Unix())
}

// Sweep forgets the revocations of seconds past, which no exchange
// waits for any more: the sweeper's, so that they do not stay until the
// set is full.
func (r *revocationSeconds) Sweep(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, sec := range r.at {
		if sec < now.Unix() {
			delete(r.at, k)
		}
	}
}

// Len is the number of revocations remembered (/metrics).
func (r *revocationSeconds) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.at)
}

// awaitRevocationSecond waits, when a revocation of sub was pushed to the
// MCP server whose issuer is audience in the second of now, until the
// IdP's clock is in the next second, and reports whether it is. An
// authorization server that was told of the revocation refuses every
// token issued up to its second (iat has whole seconds: it cannot tell
// the ID-JAGs issued before the revocation in that second from those
// issued after it), so that an ID-JAG of a user given the access back
// in that second (moved by SCIM from one group that grants it to
// another) would be refused. Waiting costs that exchange less than a
// second; false at once without such a revocation or with the clock
// frozen (no wait ends its second), and when the request ends first.
func (s *Server) awaitRevocationSecond(ctx context.Context, sub, audience string, now time.Time) bool {
	r := &s.revocations
	r.mu.Lock()
	sec, ok := r.at[[2]string{sub, audience}]
	r.mu.Unlock()
	if !ok || sec != now.Unix() || s.clock.Frozen() {
		return false
	}
	t := time.NewTimer(time.Unix(sec+1, 0).Sub(now))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
	}
	return s.now().Unix() > sec
}
