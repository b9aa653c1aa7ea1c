package idp

import (
	"strconv"
	"time"
)

// SetMaxEndedSessions bounds the ended SSO sessions the IdP remembers, for a test that overflows
// them; it returns a function that restores the bound. Servers made meanwhile keep it.
func SetMaxEndedSessions(n int) (restore func()) {
	return setBound(&maxEndedSessions, n)
}

// FillCIMDAssertionCache fills the replay cache of metadata-document clients' assertions, as a
// flood of assertions minted by whoever hosts a document would.
func FillCIMDAssertionCache(s *Server) {
	now := time.Now()
	for i := 0; s.cimdJTIs.Use("https://flood.example/client.json\x00"+strconv.Itoa(i), now.Add(time.Hour), now) == nil; i++ {
	}
}

// SetMaxSessions bounds the SSO sessions, and SetMaxIssuedTokens the access and refresh tokens,
// each store of them, for a test that fills them; each returns a function that restores the
// bound. Servers made meanwhile keep it.
func SetMaxSessions(n int) (restore func()) {
	return setBound(&maxSessions, n)
}

func SetMaxIssuedTokens(n int) (restore func()) {
	return setBound(&maxIssuedTokens, n)
}

// SetMaxUsedSubjects bounds the ID tokens exchange.single_use_subject remembers, for a test that
// fills them; it returns a function that restores the bound. Servers made meanwhile keep it.
func SetMaxUsedSubjects(n int) (restore func()) {
	return setBound(&maxUsedSubjects, n)
}

// SetMaxUsedProofs bounds the DPoP proofs the IdP remembers, for a test that fills them; it
// returns a function that restores the bound. Servers made meanwhile keep it.
func SetMaxUsedProofs(n int) (restore func()) {
	return setBound(&maxUsedProofs, n)
}

// SetMaxCIMDAssertions bounds the client assertions of metadata-document clients the IdP
// remembers, for a test that fills them; it returns a function that restores the bound. Servers
// made meanwhile keep it.
func SetMaxCIMDAssertions(n int) (restore func()) {
	return setBound(&maxCIMDAssertions, n)
}

// setBound sets the bound *p to n and returns a function that restores it.
func setBound(p *int, n int) (restore func()) {
	old := *p
	*p = n
	return func() { *p = old }
}

// WireErrorBody is wireErrorBody, for the test of op's error bodies.
var WireErrorBody = wireErrorBody

// OnRefreshRecord calls f at each append to s's record of refresh tokens (with a state
// directory), telling it whether the grants' lock was free then: an append syncs the file, and
// every code redemption and refresh of every user waits on that lock.
func OnRefreshRecord(s *Server, f func(grantsFree bool)) {
	s.store.journal.recording = func() { f(grantsFree(s)) }
}

// OnEndedRecord is OnRefreshRecord for s's record of ended logins.
func OnEndedRecord(s *Server, f func(grantsFree bool)) {
	s.ended.recording = func() { f(grantsFree(s)) }
}

func grantsFree(s *Server) bool {
	free := s.store.grantMu.TryLock()
	if free {
		s.store.grantMu.Unlock()
	}
	return free
}
