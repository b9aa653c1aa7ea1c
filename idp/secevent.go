package idp

import (
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
	_, err := s.keys.Ensure("ES256")
	return err
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
