package idp

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/recordlog"
)

// refreshTokensFile is the state directory's record of the refresh
// tokens, so that they outlive a restart (connect --watch, a client, a CI
// job that restarts the IdP need not log in again), and of their ends, so
// that none comes back after one: a token rotated away stays a reuse
// (RFC 9700 section 4.14.2), a revoked grant stays revoked. It holds each
// token's hash (tokenHash), never the token. The ends the IdP records
// elsewhere are read at start from there: an SSO session ended
// (endedSIDs, endedFloor) and a user disabled or removed (goneSubs,
// goneSIDs, and the configuration at start), in ended-logins.jsonl.
const refreshTokensFile = "refresh-tokens.jsonl"

// refreshRecord is one line of refreshTokensFile. Exp is when the record
// goes: the token's expiry, or the revoked grant's.
type refreshRecord struct {
	Kind  string        `json:"kind"`
	Hash  string        `json:"hash,omitempty"`
	Token *refreshToken `json:"token,omitempty"`
	SID   string        `json:"sid,omitempty"`
	Grant string        `json:"grant,omitempty"`
	// Client and Sub are a rotated token's grantRef.
	Client string    `json:"client,omitempty"`
	Sub    string    `json:"sub,omitempty"`
	Exp    time.Time `json:"exp"`
}

const (
	refreshIssued  = "token"         // refreshTokens: Hash, Token
	refreshRotated = "rotated"       // rotatedRefresh: Hash, SID, Grant, Client, Sub; the token at Hash ended
	refreshEnded   = "ended"         // the token at Hash ended (revoked, or dropped to make room)
	grantRevoked   = "revoked_grant" // revokedGrants: Grant, SID; its tokens ended
)

// refreshLog appends the refresh tokens' records to refreshTokensFile,
// each synced before the response that depends on it leaves, and rewrites
// the file with the live records alone at start and, in the background,
// whenever the appends since outnumber them (as endedLog). Nil (no state
// directory) records nothing.
type refreshLog struct {
	log *recordlog.Log[refreshRecord]
	// recording, when not nil, is called before each append (tests).
	recording func()
}

// openRefreshLog loads dir's refreshTokensFile into the token stores,
// after openEndedLog loaded the ends of logins, drops what ended or
// expired from the file and opens it for appending. A token of a session
// ended, of a revoked grant or of a user disabled or removed (now, or
// since the login: LoginEnded) is not loaded. The floor of ended sessions
// does not drop tokens: the sessions it forgot had their tokens' ends
// recorded here (storage.endSession), as the running IdP, which keeps
// those tokens, knows. A record of ended logins that the start could not
// read may have been a user's end, which is not recorded here: then no
// token is loaded. An unreadable last line without its newline (a write cut
// short by a crash, whose response never left: each record is synced
// before it) is skipped with a warning; any other unreadable line, the
// last one too once its newline was written, is damage to a record that
// may have been the end of any token, and then no token is loaded
// (failing closed, as openEndedLog does).
func (st *storage) openRefreshLog(dir string) error {
	if dir == "" {
		return nil
	}
	s := st.srv
	name := filepath.Join(dir, refreshTokensFile)
	l := &refreshLog{}
	l.log = newStateLog(name, "refresh tokens", st.liveRefresh)
	var recs []refreshRecord
	damaged, err := scanState(l.log, "a refresh token", func(b []byte) bool {
		var r refreshRecord
		if err := json.Unmarshal(b, &r); err != nil || !r.valid() {
			return false
		}
		recs = append(recs, r)
		return true
	})
	if err != nil {
		return fmt.Errorf("idp: %w", err)
	}
	endsLost := s.ended != nil && s.ended.lost
	if endsLost {
		slog.Warn("a record of ended logins was unreadable: it may have ended any user's refresh tokens, so none issued before this start is accepted; users log in again", "file", name)
	}
	if damaged != 0 {
		slog.Warn("a record of a refresh token is damaged (unreadable, yet no write cut short): it may have ended any refresh token, so none issued before this start is accepted; users log in again (this start rewrites the file without them)",
			"at", fmt.Sprintf("%s:%d", name, damaged))
	}
	now := s.now()
	ended := map[string]bool{}
	revoked := map[string]bool{}
	for _, r := range recs {
		if !now.Before(r.Exp) {
			continue
		}
		switch r.Kind {
		case refreshRotated:
			ended[r.Hash] = true
			st.rotatedRefresh.Put(r.Hash, grantRef{sid: r.SID, grant: r.Grant, client: r.Client, sub: r.Sub}, r.Exp)
		case refreshEnded:
			ended[r.Hash] = true
		case grantRevoked:
			revoked[r.Grant] = true
			st.revokedGrants.Put(r.Grant, struct{}{}, r.Exp)
		}
	}
	type loaded struct {
		hash string
		t    *refreshToken
	}
	var keep []loaded
	for _, r := range recs {
		t := r.Token
		if damaged != 0 || endsLost || r.Kind != refreshIssued || ended[r.Hash] || !now.Before(t.Expiry) || revoked[t.GrantID] ||
			t.SessionID != "" && s.sessionEnded(t.SessionID) || st.activeLogin(t.Subject, t.SessionID, t.AuthTime) != nil {
			continue
		}
		ended[r.Hash] = true // a record written twice (a rewrite under way) is loaded once
		keep = append(keep, loaded{r.Hash, t})
	}
	for _, k := range keep {
		st.refreshTokens.Put(k.hash, k.t, k.t.Expiry)
	}
	if err := l.log.Compact(); err != nil {
		return fmt.Errorf("idp: %w", err)
	}
	st.journal = l
	st.refreshTokens.evicted = func(hash string, exp time.Time) {
		st.evictedRefresh = append(st.evictedRefresh, refreshRecord{Kind: refreshEnded, Hash: hash, Exp: exp})
	}
	return nil
}

// valid reports whether r is a record of a kind this IdP writes, whole.
func (r *refreshRecord) valid() bool {
	switch r.Kind {
	case refreshIssued:
		return r.Hash != "" && r.Token != nil
	case refreshRotated, refreshEnded:
		return r.Hash != ""
	case grantRevoked:
		return r.Grant != ""
	}
	return false
}

// liveRefresh is the records of the stores, for a rewrite
// (recordlog.Options.Live).
func (st *storage) liveRefresh() []refreshRecord {
	var recs []refreshRecord
	st.refreshTokens.EachLive(func(hash string, t *refreshToken, exp time.Time) {
		recs = append(recs, refreshRecord{Kind: refreshIssued, Hash: hash, Token: t, Exp: exp})
	})
	st.rotatedRefresh.EachLive(func(hash string, g grantRef, exp time.Time) {
		recs = append(recs, rotatedRecord(hash, g, exp))
	})
	st.revokedGrants.EachLive(func(grant string, _ struct{}, exp time.Time) {
		recs = append(recs, refreshRecord{Kind: grantRevoked, Grant: grant, Exp: exp})
	})
	return recs
}

func rotatedRecord(hash string, g grantRef, exp time.Time) refreshRecord {
	return refreshRecord{Kind: refreshRotated, Hash: hash, SID: g.sid, Grant: g.grant, Client: g.client, Sub: g.sub, Exp: exp}
}

// record appends rs to the file and syncs it. A failure is logged, and
// returned: the records still hold in memory, until a restart; the
// refresh and code grants withhold the token they could not record.
func (l *refreshLog) record(rs ...refreshRecord) error {
	if l == nil || len(rs) == 0 {
		return nil
	}
	if l.recording != nil {
		l.recording()
	}
	err := l.log.Append(true, rs...)
	switch {
	case errors.Is(err, recordlog.ErrClosed):
		slog.Error("the record of refresh tokens is closed; a restart forgets these", "file", l.log.Name(), "records", len(rs))
	case err != nil:
		slog.Error("could not record a refresh token in the state directory; a restart forgets it, or gives back a token it ended", "file", l.log.Name(), "err", err)
	}
	return err
}

// recordIssued records the refresh token rt, stored under hash, after
// recs (the rotation it replaces, the tokens dropped to make room for it),
// in one sync, with a journal. A token ended since it was stored (a
// sign-out, a revocation, another's room) has its end recorded again,
// after it: a rewrite that the first end set off keeps neither the token
// nor its end, but adds the records appended since it began, this one
// among them, which a start would load.
func (st *storage) recordIssued(hash string, rt *refreshToken, recs []refreshRecord) error {
	if st.journal == nil {
		return nil
	}
	if err := st.journal.record(append(recs, refreshRecord{Kind: refreshIssued, Hash: hash, Token: rt, Exp: rt.Expiry})...); err != nil {
		return err
	}
	if _, ok := st.refreshTokens.Get(hash); !ok {
		return st.journal.record(refreshRecord{Kind: refreshEnded, Hash: hash, Exp: rt.Expiry})
	}
	return nil
}

// close closes the file; later records stay in memory only.
func (l *refreshLog) close() {
	if l == nil {
		return
	}
	_ = l.log.Close()
}
