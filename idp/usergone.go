package idp

import (
	"time"

	"github.com/xaa-idp/xaa-idp/policy"
)

// noteGoneUsers records the users whom the change from old to cfg disabled
// or removed (docs/configuration.md, users[].disabled: "the user's SSO
// session ends"): when, in goneSubs, and the SSO sessions of their logins
// so far, in goneSIDs. While such a user is disabled or absent every check
// refuses them anyway; the record is for afterwards, when the user is
// enabled or added again: the logins from before must not come back with
// them, as an ended session's tokens do not (LoginEnded). It reports how
// many stored entries it read.
//
// With a state directory, a user that the change adds (a sub no user of
// old has) is recorded as gone until now too: they may have been removed
// from the file while the IdP was stopped (or by a change a kill -9 cut
// short after the file was replaced), which no running IdP saw and the
// start cannot tell, and an ID token of theirs from before, signed by
// keys the state directory kept, would come back with them. Such a login
// is from before the start, and no login of theirs can be made between
// the start and the change: the record is at the start's next whole
// second, as noteDisabledUsers's (for a login in the second of the
// start), not the change's, which after a restart refused a login made
// in the second of the addition (a script that provisions a user and
// logs them in). A later record of the sub (a removal while running) is
// kept. A user new indeed has no login to end.
func (s *Server) noteGoneUsers(old, cfg *policy.Config) (visited int) {
	gone := map[string]bool{}
	for i := range old.Users {
		u := &old.Users[i]
		if !u.Active() {
			continue
		}
		if now := cfg.UserBySub(u.Sub); now == nil || !now.Active() {
			gone[u.Sub] = true
		}
	}
	visited = s.recordGone(gone, s.now(), old.Lifetimes, cfg.Lifetimes)
	if s.ended == nil {
		return visited
	}
	from := s.started
	if now := s.now(); now.Before(from) {
		from = now // the clock moved back since the start
	}
	at := from.Truncate(time.Second).Add(time.Second)
	added := map[string]bool{}
	for i := range cfg.Users {
		if u := &cfg.Users[i]; u.Active() && u.Sub != "" && old.UserBySub(u.Sub) == nil {
			if was, ok := s.goneSubs.Get(u.Sub); !ok || was.Before(at) {
				added[u.Sub] = true
			}
		}
	}
	return visited + s.recordGone(added, at, old.Lifetimes, cfg.Lifetimes)
}

// noteDisabledUsers records, at start, every user the configuration has
// disabled as gone from now on (docs/configuration.md, users[].disabled):
// one disabled in the file while the IdP was stopped made no change the
// running IdP saw (noteGoneUsers), and an ID token of theirs from before
// the stop, signed by keys the state directory kept, would come back
// with them once they are enabled again. A user recorded already is
// recorded anew: they may have been enabled, and logged in, between that
// record and the stop. The record is at the next whole second: an ID
// token's auth_time has whole seconds, and a login in the second of the
// start, before it, must end too (a script restarts in well under a
// second); no login of theirs can be made after the start while they are
// disabled, and one made once they are enabled again, in that second,
// keeps its session (LoginEnded). Without a state directory no ID token
// outlives the stop, and nothing is recorded.
func (s *Server) noteDisabledUsers(cfg *policy.Config) {
	if s.ended == nil {
		return
	}
	gone := map[string]bool{}
	for i := range cfg.Users {
		if u := &cfg.Users[i]; !u.Active() && u.Sub != "" {
			gone[u.Sub] = true
		}
	}
	s.recordGone(gone, s.now().Truncate(time.Second).Add(time.Second), cfg.Lifetimes)
}

// recordGone records the users of gone (by sub) as gone at at, with the
// sessions of their logins so far, for as long as a token of such a login
// may live under any of lifetimes. It reports how many stored entries it
// read.
func (s *Server) recordGone(gone map[string]bool, at time.Time, lifetimes ...policy.Lifetimes) (visited int) {
	if len(gone) == 0 {
		return 0
	}
	// A token of a login before at expires within the longest lifetime
	// it could have been given, under either configuration.
	keep := max(sessionTTL, authRequestTTL)
	for _, l := range lifetimes {
		keep = max(keep, l.IDToken.D()+pastExp, l.AccessToken.D(), l.RefreshToken.D())
	}
	var recs []endedRecord
	for sub := range gone {
		s.goneSubs.Put(sub, at, at.Add(keep))
		recs = append(recs, endedRecord{Kind: goneUser, Sub: sub, At: at, Exp: at.Add(keep)})
	}
	// The sessions by sid, for a login in the second of the change (or
	// at the same instant of a frozen clock), which the time alone cannot
	// tell from one after it. Every object of a login carries its sid,
	// and each store lists its objects by user (byUser): a change reads
	// the gone users' own, not every other user's too: a scan of the
	// full stores held each token store's lock for 20 to 30 ms, and took
	// 27 to 92 ms here, to disable one user of 5,000, against some 90 us
	// now (BenchmarkServer_SetConfigGoneUsers).
	sids := map[string]bool{}
	visited += s.sessions.EachOfGroups(byUser, gone, func(_ string, v *ssoSession) { sids[v.SID] = true })
	visited += s.store.authRequests.EachOfGroups(byUser, gone, func(_ string, v *authRequest) { sids[v.SessionID] = true })
	visited += s.store.accessTokens.EachOfGroups(byUser, gone, func(_ string, v *accessToken) { sids[v.SessionID] = true })
	visited += s.store.refreshTokens.EachOfGroups(byUser, gone, func(_ string, v *refreshToken) { sids[v.SessionID] = true })
	delete(sids, "")
	for sid := range sids {
		s.goneSIDs.Put(sid, struct{}{}, at.Add(keep))
		recs = append(recs, endedRecord{Kind: goneSession, SID: sid, Exp: at.Add(keep)})
	}
	// Kept in the state directory, one sync for the change: the users
	// may be enabled again after a restart.
	s.ended.record(recs...)
	return visited
}

// LoginEnded reports whether the login of sub in the SSO session sid at
// authTime was made before its user was last disabled or removed: its
// session, ID tokens, codes, access and refresh tokens, and the console
// session it signed in, then stay refused although the user is active
// again. A login is before the change when its session was one of the
// user's then. A session the IdP holds nothing of any more (no browser
// session, no token: an old ID token is all that is left) is judged by
// its time: before when authTime is in an earlier second than the change
// (an ID token's auth_time has whole seconds). Time alone would refuse a
// new login when the IdP's clock was moved back, or not tell one in the
// second of the change (a frozen clock) from one before.
func (s *Server) LoginEnded(sub, sid string, authTime time.Time) bool {
	if sid != "" {
		if _, ok := s.goneSIDs.Get(sid); ok {
			return true
		}
	}
	gone, ok := s.goneSubs.Get(sub)
	if !ok {
		return false
	}
	if sid != "" && (s.sessions.HasGroup(sid) || s.store.accessTokens.HasGroup(sid) || s.store.refreshTokens.HasGroup(sid)) {
		// Held, and not among the sessions the user had at the change.
		return false
	}
	return authTime.Unix() < gone.Unix()
}
