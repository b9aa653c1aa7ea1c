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

// sessionEndHooks are the functions OnSessionEnd registered.
type sessionEndHooks struct {
	mu sync.Mutex
	fs []func(sub string)
}

// OnSessionEnd registers f to be called with the user's sub whenever
// end_session ends an SSO session (OpenID RP-Initiated Logout), after the
// logout is audited. f runs in the request and must not block on the
// network.
func (s *Server) OnSessionEnd(f func(sub string)) {
	s.sessionEnd.mu.Lock()
	defer s.sessionEnd.mu.Unlock()
	s.sessionEnd.fs = append(s.sessionEnd.fs, f)
}

// notifySessionEnd calls the OnSessionEnd functions with sub.
func (s *Server) notifySessionEnd(sub string) {
	s.sessionEnd.mu.Lock()
	fs := s.sessionEnd.fs
	s.sessionEnd.mu.Unlock()
	for _, f := range fs {
		f(sub)
	}
}

// accessExpiredHooks are the functions OnAccessExpired registered.
type accessExpiredHooks struct {
	mu sync.Mutex
	fs []func(cfg *policy.Config, now time.Time)
}

// OnAccessExpired registers f to be called, with the configuration and the
// instant of the decision, whenever a token exchange's policy decision
// finds an access entry expired (policy.Decision.Expired), before the
// exchange answers and before its own audit event: contract section 10
// wants the access_request event with outcome expired "when a decision
// first finds it expired, or earlier", which the Pusher's periodic look
// alone does not promise. f runs in the request and must not block on the
// network.
func (s *Server) OnAccessExpired(f func(cfg *policy.Config, now time.Time)) {
	s.accessExpired.mu.Lock()
	defer s.accessExpired.mu.Unlock()
	s.accessExpired.fs = append(s.accessExpired.fs, f)
}

// notifyAccessExpired calls the OnAccessExpired functions.
func (s *Server) notifyAccessExpired(cfg *policy.Config, now time.Time) {
	s.accessExpired.mu.Lock()
	fs := s.accessExpired.fs
	s.accessExpired.mu.Unlock()
	for _, f := range fs {
		f(cfg, now)
	}
}
