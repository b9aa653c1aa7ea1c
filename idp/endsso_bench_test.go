package idp

import (
	"strconv"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/policy"
)

// fullSessions returns an IdP whose SSO session store is full, one
// session of the user alice per sid "0" to strconv.Itoa(maxSessions-1),
// and signIn, which adds the session of sid n (a login).
func fullSessions(t testing.TB) (s *Server, signIn func(n int)) {
	cfg, err := policy.Load("testdata/conformance.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err = New(Options{Config: cfg, Issuer: "http://idp.example"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	signIn = func(n int) {
		sid := strconv.Itoa(n)
		s.sessions.Put("cookie-"+sid, &ssoSession{ID: "cookie-" + sid, SID: sid, Username: "alice", Subject: "u-alice"}, s.now().Add(sessionTTL+time.Duration(n)*time.Millisecond))
	}
	for i := range maxSessions {
		signIn(i)
	}
	return s, signIn
}

// BenchmarkServer_EndSSO ends an SSO session while the session store is
// full (/end_session, or another user's sign-in in the browser); each
// round signs in a new session, so that the store stays full.
func BenchmarkServer_EndSSO(b *testing.B) {
	s, signIn := fullSessions(b)
	n := 0
	for b.Loop() {
		s.endSSO(strconv.Itoa(n), "benchmark", "")
		signIn(maxSessions + n)
		n++
	}
	if s.sessions.Len() != maxSessions {
		b.Fatalf("%d sessions, want %d", s.sessions.Len(), maxSessions)
	}
}

// TestServer_EndSSOEndsItsSessionOnly: with the session store full, ending
// a session removes the entries of its sid, both cookies of a browser
// whose user signed in again (prompt=login keeps the sid), and only those;
// the logout names its user.
func TestServer_EndSSOEndsItsSessionOnly(t *testing.T) {
	s, _ := fullSessions(t)
	s.sessions.Delete("cookie-7")
	s.sessions.Delete("cookie-5") // room for the two below: nothing evicted
	s.sessions.Put("again-7", &ssoSession{ID: "again-7", SID: "7", Username: "bob", Subject: "u-bob"}, s.now().Add(sessionTTL))
	s.sessions.Put("other-7", &ssoSession{ID: "other-7", SID: "7", Username: "bob", Subject: "u-bob"}, s.now().Add(sessionTTL))
	s.endSSO("7", "test", "")
	s.endSSO("8", "test", "")
	if got, want := s.sessions.Len(), maxSessions-3; got != want {
		t.Errorf("%d sessions left, want %d", got, want)
	}
	for k, want := range map[string]bool{"again-7": false, "other-7": false, "cookie-8": false, "cookie-6": true, "cookie-9": true, "cookie-0": true} {
		if _, ok := s.sessions.Get(k); ok != want {
			t.Errorf("session %s kept %v, want %v", k, ok, want)
		}
	}
	evs := s.audit.Query(audit.Filter{Type: audit.TypeLogout})
	if len(evs) != 2 || evs[0].User != "alice" || evs[1].User != "bob" {
		t.Errorf("logout events %+v, want alice's, newest first, then bob's", evs)
	}
}
