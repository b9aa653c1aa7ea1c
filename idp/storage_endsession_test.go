package idp

import (
	"strconv"
	"testing"
	"time"
)

// fullTokenStores returns a storage whose access and refresh token stores
// are full: two tokens of each per SSO session, of one grant named as the
// session, sessions of them in all.
// issue issues n's tokens of the session sid.
func fullTokenStores() (st *storage, issue func(sid string, n int), sessions int) {
	now := time.Unix(1e9, 0)
	st = newStorage(storageServer(now))
	const perSession = 2
	issue = func(sid string, n int) {
		for j := range perSession {
			k := sid + "/" + strconv.Itoa(n*perSession+j)
			exp := now.Add(time.Hour)
			st.accessTokens.Put(k, &accessToken{ID: k, SessionID: sid, GrantID: sid, Expiry: exp}, exp)
			st.refreshTokens.Put(k, &refreshToken{SessionID: sid, GrantID: sid, Expiry: exp}, exp)
		}
	}
	sessions = maxTokens / perSession
	for i := range sessions {
		issue(strconv.Itoa(i), 0)
	}
	return st, issue, sessions
}

// BenchmarkStorage_EndSession ends an SSO session (/end_session, or a
// login of another user in the browser) while the token stores are full.
// Each round issues the ended session's tokens again, so that the stores
// stay full.
func BenchmarkStorage_EndSession(b *testing.B) {
	st, issue, sessions := fullTokenStores()
	n := 1
	for b.Loop() {
		sid := strconv.Itoa(n % sessions)
		st.endSession(sid)
		issue(sid, n)
		n++
	}
	if st.accessTokens.Len() != maxTokens || st.refreshTokens.Len() != maxTokens {
		b.Fatalf("%d access and %d refresh tokens, want %d of each", st.accessTokens.Len(), st.refreshTokens.Len(), maxTokens)
	}
}

// TestStorage_EndSessionDeletesItsTokensOnly: ending a session scanned
// every access and refresh token for those issued under it, some 17 ms
// under the stores' locks once they were full; the per-session lists find
// them instead (BenchmarkStorage_EndSession measures it: speed lives in
// benchmarks, not in timed tests). Here: with full stores, the ended
// sessions' tokens go, and only those.
func TestStorage_EndSessionDeletesItsTokensOnly(t *testing.T) {
	st, _, _ := fullTokenStores()
	const ends = 500
	for i := range ends {
		st.endSession(strconv.Itoa(i))
	}
	if want := maxTokens - 2*ends; st.accessTokens.Len() != want || st.refreshTokens.Len() != want {
		t.Errorf("%d access and %d refresh tokens left, want %d of each", st.accessTokens.Len(), st.refreshTokens.Len(), want)
	}
	for k, want := range map[string]bool{"0/0": false, "0/1": false, strconv.Itoa(ends-1) + "/1": false, strconv.Itoa(ends) + "/0": true} {
		_, at := st.accessTokens.Get(k)
		_, rt := st.refreshTokens.Get(k)
		if at != want || rt != want {
			t.Errorf("token %s: access token kept %v, refresh token kept %v, want %v", k, at, rt, want)
		}
	}
}

// BenchmarkStorage_TerminateSession is op's TerminateSession, which
// end_session with an id_token_hint called before it ended the hint's
// session only: a scan of both full token stores, for comparison with
// BenchmarkStorage_EndSession.
func BenchmarkStorage_TerminateSession(b *testing.B) {
	st, _, _ := fullTokenStores()
	for b.Loop() {
		_ = st.TerminateSession(b.Context(), "u-alice", "mcp-client")
	}
}

// BenchmarkStorage_RevokeGrant revokes the tokens of one code redemption
// (a replayed code, a reused refresh token) while the token stores are
// full; each round issues them again, so that the stores stay full.
func BenchmarkStorage_RevokeGrant(b *testing.B) {
	st, issue, sessions := fullTokenStores()
	n := 1
	for b.Loop() {
		sid := strconv.Itoa(n % sessions)
		st.revokeGrant(grantRef{sid: sid, grant: sid})
		issue(sid, n)
		n++
	}
	if st.accessTokens.Len() != maxTokens || st.refreshTokens.Len() != maxTokens {
		b.Fatalf("%d access and %d refresh tokens, want %d of each", st.accessTokens.Len(), st.refreshTokens.Len(), maxTokens)
	}
}

// TestStorage_RevokeGrantDeletesItsTokensOnly: with full stores, revoking
// a grant removes its tokens, and not those of the other grant of the
// same session.
func TestStorage_RevokeGrantDeletesItsTokensOnly(t *testing.T) {
	st, _, _ := fullTokenStores()
	for _, sid := range []string{"3", "4"} {
		// A second grant in each of the sessions.
		k, exp := sid+"/x", st.srv.now().Add(time.Hour)
		st.accessTokens.Delete(sid + "/1")
		st.refreshTokens.Delete(sid + "/1")
		st.accessTokens.Put(k, &accessToken{ID: k, SessionID: sid, GrantID: "other", Expiry: exp}, exp)
		st.refreshTokens.Put(k, &refreshToken{SessionID: sid, GrantID: "other", Expiry: exp}, exp)
	}
	if n, _ := st.revokeGrant(grantRef{sid: "3", grant: "3"}); n != 2 {
		t.Errorf("revokeGrant removed %d tokens, want 2", n)
	}
	for k, want := range map[string]bool{"3/0": false, "3/x": true, "4/0": true, "4/x": true, "5/0": true, "5/1": true} {
		_, at := st.accessTokens.Get(k)
		_, rt := st.refreshTokens.Get(k)
		if at != want || rt != want {
			t.Errorf("token %s: access token kept %v, refresh token kept %v, want %v", k, at, rt, want)
		}
	}
}
