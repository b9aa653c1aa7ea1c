package idp

import (
	"sync"
	"time"
)

// maxStepUps bounds the step-up refusals remembered: a full set first
// forgets those of logins whose SSO sessions have ended (sessionTTL), and
// then records no more (the client then needs prompt=login or max_age to
// get a new login, as before stepUps).
const maxStepUps = 10000

// stepUps remembers, for a user (sub) and a client, the auth_time of the
// last login a token exchange found too old for an access entry's
// max_auth_age (insufficient_user_authentication).
type stepUps struct {
	mu     sync.Mutex
	before map[[2]string]time.Time
}

// noteStepUp records that a token exchange of clientID refused sub's login
// of authTime as too old: that login's SSO session no longer signs sub in
// to that client without the password (sessionFits). The refusal tells the
// client to log the user in again, and a client that cannot send
// prompt=login or max_age (the Go SDK's extauth.PerformOIDCLogin) would
// otherwise get the same login back from the browser's session, and the
// same refusal, for as long as the session lives.
func (s *Server) noteStepUp(sub, clientID string, authTime time.Time) {
	u := &s.stepUps
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.before == nil {
		u.before = make(map[[2]string]time.Time)
	}
	k := [2]string{sub, clientID}
	if _, ok := u.before[k]; !ok && len(u.before) >= maxStepUps {
		ended := s.now().Add(-sessionTTL)
		for k, at := range u.before {
			if at.Before(ended) {
				delete(u.before, k)
			}
		}
		if len(u.before) >= maxStepUps {
			return
		}
	}
	if authTime.After(u.before[k]) {
		u.before[k] = authTime
	}
}

// Sweep forgets the step-up refusals of logins whose SSO sessions have
// ended (sessionTTL): the sweeper's, so that refusals of users who never
// sign in again do not stay until the set is full.
func (u *stepUps) Sweep(now time.Time) {
	ended := now.Add(-sessionTTL)
	u.mu.Lock()
	defer u.mu.Unlock()
	for k, at := range u.before {
		if at.Before(ended) {
			delete(u.before, k)
		}
	}
}

// Len is the number of step-up refusals remembered (/metrics).
func (u *stepUps) Len() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.before)
}

// sessionFits reports whether sess may complete ar without a login:
// authRequest.sessionFits, and the session's login is not one a token
// exchange of ar's client refused as too old (noteStepUp).
func (s *Server) sessionFits(ar *authRequest, sess *ssoSession, now time.Time) bool {
	if !ar.sessionFits(sess, now) {
		return false
	}
	u := &s.stepUps
	u.mu.Lock()
	refused, ok := u.before[[2]string{sess.Subject, ar.ClientID}]
	u.mu.Unlock()
	// Whole seconds, as the tokens' auth_time the exchange judged.
	return !ok || sess.AuthTime.Truncate(time.Second).After(refused.Truncate(time.Second))
}
