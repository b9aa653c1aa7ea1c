package idp

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/policy"
)

// goneUsersIdP returns an IdP of users users, user-N of sub u-N, and its
// configuration with every user active (on) and with the users of subs
// gone disabled (off).
func goneUsersIdP(tb testing.TB, users int, gone ...string) (s *Server, on, off *policy.Config) {
	tb.Helper()
	data, err := os.ReadFile("testdata/conformance.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	parse := func(disabled []string) *policy.Config {
		var b strings.Builder
		b.WriteString("users:\n")
		for i := range users {
			sub := "u-" + strconv.Itoa(i)
			fmt.Fprintf(&b, "  - username: user-%d\n    password: pw\n    sub: %s\n", i, sub)
			if slices.Contains(disabled, sub) {
				b.WriteString("    disabled: true\n")
			}
		}
		cfg, err := policy.Parse([]byte(strings.Replace(string(data), "users:\n", b.String(), 1)), "conformance.yaml")
		if err != nil {
			tb.Fatal(err)
		}
		return cfg
	}
	on, off = parse(nil), parse(gone)
	s, err = New(Options{Config: on, Issuer: "http://idp.example"})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s, on, off
}

// addLogin stores what a login of sub in the SSO session sid leaves: the
// browser's session (unless !browser), and tokens access and refresh
// tokens of its code redemptions.
func addLogin(s *Server, sub, sid string, browser bool, tokens int) {
	now := s.now()
	if browser {
		s.sessions.Put("cookie-"+sid, &ssoSession{ID: "cookie-" + sid, SID: sid, Username: "user-" + strings.TrimPrefix(sub, "u-"), Subject: sub, AuthTime: now}, now.Add(sessionTTL))
	}
	for i := range tokens {
		id := sid + "-" + strconv.Itoa(i)
		exp := now.Add(time.Hour + time.Duration(i)*time.Millisecond)
		s.store.accessTokens.Put("at-"+id, &accessToken{ID: "at-" + id, ClientID: "mcp-client", Subject: sub, AuthTime: now, Expiry: exp, SessionID: sid, GrantID: "g-" + sid}, exp)
		s.store.refreshTokens.Put("rt-"+id, &refreshToken{ClientID: "mcp-client", Subject: sub, AuthTime: now, Expiry: exp, SessionID: sid, GrantID: "g-" + sid}, exp)
	}
}

// addPendingLogin stores an auth request completed in place (Update) by
// the session sid of sub, as the login page does, whose code is not yet
// redeemed: the only thing the IdP holds of that session.
func addPendingLogin(s *Server, sub, sid string) {
	id := "ar-" + sid
	s.store.authRequests.Put(id, &authRequest{ID: id, ClientID: "mcp-client"}, s.now().Add(authRequestTTL))
	sess := &ssoSession{ID: "cookie-" + sid, SID: sid, Username: "user-" + strings.TrimPrefix(sub, "u-"), Subject: sub, AuthTime: s.now()}
	s.store.authRequests.Update(id, func(a **authRequest) { (*a).complete(sess) })
}

// TestNoteGoneUsers_VisitsOnlyTheGoneUsersLogins: disabling a user read
// every SSO session, auth request, access and refresh token of every user,
// under each store's lock (110 to 190 ms, each token store locked 20 to
// 30 ms, with 100,000 tokens in each). It reads the gone user's own, the
// same with ten times as many tokens of other users, and still finds every
// session of theirs: one with a browser session, one of tokens only, and
// one of a pending login only.
func TestNoteGoneUsers_VisitsOnlyTheGoneUsersLogins(t *testing.T) {
	visited := map[int]int{}
	for _, others := range []int{1000, 10000} {
		s, on, off := goneUsersIdP(t, 10, "u-0")
		addLogin(s, "u-0", "mine-browser", true, 5)
		addLogin(s, "u-0", "mine-tokens", false, 3)
		addPendingLogin(s, "u-0", "mine-pending")
		for i := range others / 10 {
			sub := "u-" + strconv.Itoa(1+i%9)
			addLogin(s, sub, "other-"+strconv.Itoa(i), true, 10)
			addPendingLogin(s, sub, "other-pending-"+strconv.Itoa(i))
		}
		visited[others] = s.noteGoneUsers(on, off)
		var gone []string
		s.goneSIDs.Each(func(sid string, _ struct{}) { gone = append(gone, sid) })
		slices.Sort(gone)
		if want := []string{"mine-browser", "mine-pending", "mine-tokens"}; !slices.Equal(gone, want) {
			t.Errorf("with %d tokens of others: the gone sessions are %q, want %q", others, gone, want)
		}
	}
	// The user's own: a session, an auth request, 8 access and 8 refresh tokens.
	if visited[1000] != visited[10000] || visited[10000] > 2*18 {
		t.Errorf("disabling one user read %d entries with 1,000 tokens of others, %d with 10,000: want the same, at most twice the user's own 18", visited[1000], visited[10000])
	}
}

// BenchmarkServer_SetConfigGoneUsers times SetConfig of a change that
// disables users of an IdP of 5,000 users, 10,000 SSO sessions (two per
// user) and 100,000 access and 100,000 refresh tokens (ten per session),
// against a floor measured with it: SetConfig of the change that enables
// them again, which disables no one (it too reads every user of both
// configurations). ratio is the one over the other, of their medians: it
// should not depend on the machine, nor on the other users' tokens.
func BenchmarkServer_SetConfigGoneUsers(b *testing.B) {
	users, sessions, tokens := 5000, maxSessions, maxTokens
	for _, bc := range []struct {
		name string
		gone func(int) bool
	}{
		{"one", func(i int) bool { return i == 0 }},
		{"all", func(int) bool { return true }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var gone []string
			for i := range users {
				if bc.gone(i) {
					gone = append(gone, "u-"+strconv.Itoa(i))
				}
			}
			s, on, off := goneUsersIdP(b, users, gone...)
			for i := range sessions {
				addLogin(s, "u-"+strconv.Itoa(i%users), "sid-"+strconv.Itoa(i), true, tokens/sessions)
			}
			if s.sessions.Len() != sessions || s.store.accessTokens.Len() != tokens || s.store.refreshTokens.Len() != tokens {
				b.Fatalf("%d sessions, %d access and %d refresh tokens", s.sessions.Len(), s.store.accessTokens.Len(), s.store.refreshTokens.Len())
			}
			var disable, floor []time.Duration
			for b.Loop() {
				t0 := time.Now()
				s.SetConfig(off)
				t1 := time.Now()
				s.SetConfig(on)
				disable, floor = append(disable, t1.Sub(t0)), append(floor, time.Since(t1))
			}
			// Medians: a collection of the 200,000 tokens' garbage may
			// land in either.
			median := func(ds []time.Duration) float64 {
				slices.Sort(ds)
				return float64(ds[len(ds)/2])
			}
			b.ReportMetric(median(disable), "ns/disable")
			b.ReportMetric(median(floor), "ns/floor")
			b.ReportMetric(median(disable)/median(floor), "ratio")
		})
	}
}

// Each calls f with every entry, expired ones not yet swept included,
// under the map's lock: f must not call m. Only the tests need it.
func (m *ttlMap[K, V]) Each(f func(K, V)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, e := range m.data {
		f(k, e.v)
	}
}
