package idp

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/recordlog"
)

// endedLoginsFile is the state directory's record of the logins the IdP
// ended: SSO sessions ended (end_session, the console's sign-out),
// logins revoked for theft (revokeLogin), users disabled or removed
// (noteGoneUsers), the floor of ID tokens refused once those
// overflowed (raiseEndedFloor), and the uses of single-use subject
// tokens (exchange.single_use_subject). The signing keys outlive a restart, and
// so do the ID tokens they signed: without this file a restart would let
// such a login's ID tokens be exchanged for ID-JAGs again until they
// expired.
const endedLoginsFile = "ended-logins.jsonl"

// endedRecord is one line of endedLoginsFile. Kind is one of the
// endedKind constants; Exp is when no token the record refuses is alive
// any more, and the record goes.
type endedRecord struct {
	Kind   string    `json:"kind"`
	SID    string    `json:"sid,omitempty"`
	Client string    `json:"client,omitempty"`
	Sub    string    `json:"sub,omitempty"`
	Key    string    `json:"key,omitempty"`
	At     time.Time `json:"at,omitzero"`
	Exp    time.Time `json:"exp"`
}

const (
	endedSession     = "ended_session" // endedSIDs: SID
	revokedLoginKind = "revoked_login" // revokedLogins: SID, Client, At
	goneUser         = "gone_user"     // goneSubs: Sub, At
	goneSession      = "gone_session"  // goneSIDs: SID
	endedFloorKind   = "floor"         // endedFloor: At
	usedSubjectKind  = "used_subject"  // usedSubjects: Key (a hash of the ID token and the server)
)

// endedLog appends the records of ended logins to endedLoginsFile, each
// synced before the request that ended the login is answered, and
// rewrites the file with the live records alone at start and, in the
// background, whenever the appends since outnumber them: the file holds
// at most about twice the records the bounded in-memory stores hold. Nil
// (no state directory) records nothing.
type endedLog struct {
	log *recordlog.Log[endedRecord]
	srv *Server
	// floor is the last floor record, which the rewrite keeps while it
	// lives (endedFloor itself has no expiry).
	mu    sync.Mutex
	floor endedRecord
	// recording, when not nil, is called before each append (tests).
	recording func()
	// lost is set when the start could not read a record: it may have
	// been any user's end (a user disabled or removed), which the refresh
	// tokens' own file does not hold (openRefreshLog).
	lost bool
}

// minEndedRewrite is how many appends a rewrite waits for at least.
const minEndedRewrite = 4096

// maxEndedLine bounds a line the start reads.
const maxEndedLine = 1 << 20

// newStateLog is the log of a record file of the state directory, what
// it records named in its errors, with live its records (recordlog.Options.
// Live): 0600, lines of maxEndedLine at most, rewritten in the background
// whenever the appends since the last rewrite outnumber its live records
// twice, and minEndedRewrite at least.
func newStateLog[R any](name, what string, live func() []R) *recordlog.Log[R] {
	return recordlog.New(name, recordlog.Options[R]{
		Private: true,
		MaxLine: maxEndedLine,
		Live:    live,
		Due:     func(lines, live int) bool { return lines > 2*live+minEndedRewrite },
		OnError: func(err error) {
			slog.Error("could not rewrite the record of "+what, "file", name, "err", err)
		},
	})
}

// scanState reads the lines of a record file of the state directory
// with read, which reports whether it could use one, and returns the
// number of the first whole line it could not (0 if none): damage to a
// record that may have been answered, which the caller fails closed on.
// An unreadable last line without its newline is a write cut short by a
// crash, before the fsync its answer waited for: it is skipped. Each
// unreadable line is logged with the file and line; what names a record.
func scanState[R any](l *recordlog.Log[R], what string, read func([]byte) bool) (damaged int, err error) {
	err = l.Scan(func(line int, b []byte, complete bool) error {
		switch {
		case read(b):
		case !complete:
			slog.Warn("the last record of "+what+" is cut short (a write a crash interrupted) and skipped", "file", l.Name(), "line", line)
		default:
			slog.Warn("a record of "+what+" is unreadable", "file", l.Name(), "line", line)
			if damaged == 0 {
				damaged = line
			}
		}
		return nil
	})
	return damaged, err
}

// openEndedLog loads the records of dir's endedLoginsFile into the
// server's stores, drops the expired ones from the file and opens it for
// appending. A whole line it cannot read (damage) loses a record it
// cannot name: the IdP then refuses every ID token issued until now at
// the exchange (the floor of liftEndedFloor), failing closed, and says
// so. An unreadable last line without its newline is skipped (scanState):
// a synced record's answer never left; an unsynced use of a single-use
// subject token (recordUse) a crash of the machine may lose whole anyway.
func (s *Server) openEndedLog(dir string) (*endedLog, error) {
	if dir == "" {
		return nil, nil
	}
	l := &endedLog{srv: s}
	name := filepath.Join(dir, endedLoginsFile)
	l.log = newStateLog(name, "ended logins", l.live)
	now := s.now()
	damaged, err := scanState(l.log, "an ended login", func(b []byte) bool {
		var r endedRecord
		err := json.Unmarshal(b, &r)
		if err == nil && r.Kind == endedFloorKind && r.At.After(l.floor.At) && now.Before(r.Exp) {
			l.floor = r
		}
		return err == nil && s.loadEnded(r, now)
	})
	if err != nil {
		return nil, fmt.Errorf("idp: %w", err)
	}
	if damaged != 0 {
		slog.Warn("a record of an ended login is damaged (unreadable, yet no write cut short); the token exchange refuses every ID token of a session issued until now, until they expire",
			"at", fmt.Sprintf("%s:%d", name, damaged))
		l.lost = true
		s.liftEndedFloor(now)
	}
	if err := l.log.Compact(); err != nil {
		return nil, fmt.Errorf("idp: %w", err)
	}
	return l, nil
}

// loadEnded puts r into its store, unless it expired; false for a record
// of no kind it knows.
func (s *Server) loadEnded(r endedRecord, now time.Time) bool {
	if !now.Before(r.Exp) {
		return r.Kind != ""
	}
	switch r.Kind {
	case endedSession:
		if s.endedSIDs.PutEvicting(r.SID, struct{}{}, r.Exp) {
			s.raiseEndedFloor(now)
		}
	case revokedLoginKind:
		if s.revokedLogins.PutEvicting(revokedLogin{r.SID, r.Client}, r.At, r.Exp) {
			s.raiseEndedFloor(now)
		}
	case goneUser:
		s.goneSubs.Put(r.Sub, r.At, r.Exp)
	case goneSession:
		s.goneSIDs.Put(r.SID, struct{}{}, r.Exp)
	case usedSubjectKind:
		// Already used (a record written twice), or full: the cache
		// refuses a new use either way.
		_ = s.usedSubjects.Use(r.Key, r.Exp, now)
	case endedFloorKind:
		if f := s.endedFloor.Load(); f == nil || r.At.After(*f) {
			at := r.At
			s.endedFloor.Store(&at)
		}
	default:
		return false
	}
	return true
}

// record appends rs to the file and syncs it. A failure is logged, and
// returned: the records still hold in memory, until a restart.
func (l *endedLog) record(rs ...endedRecord) error { return l.write(true, rs) }

// recordUse appends the use of a single-use subject token, unsynced: it
// is made on the token path, where an fsync for each exchange would cost
// more than the exchange. It outlives the process however it ends
// (kill -9 included), not a crash of the machine.
func (l *endedLog) recordUse(r endedRecord) { _ = l.write(false, []endedRecord{r}) }

func (l *endedLog) write(sync bool, rs []endedRecord) error {
	if l == nil || len(rs) == 0 {
		return nil
	}
	l.mu.Lock()
	for _, r := range rs {
		if r.Kind == endedFloorKind && r.At.After(l.floor.At) {
			l.floor = r
		}
	}
	l.mu.Unlock()
	if l.recording != nil {
		l.recording()
	}
	err := l.log.Append(sync, rs...)
	switch {
	case errors.Is(err, recordlog.ErrClosed):
		slog.Error("the record of ended logins is closed; a restart forgets these", "file", l.log.Name(), "records", len(rs))
	case err != nil:
		slog.Error("could not record an ended login in the state directory; a restart forgets it", "file", l.log.Name(), "err", err)
	}
	return err
}

// live is the records of the stores, for a rewrite (recordlog.Options.Live).
// A record stored while it runs and appended after it is written twice,
// which loading tolerates.
func (l *endedLog) live() []endedRecord {
	s := l.srv
	var recs []endedRecord
	s.endedSIDs.EachLive(func(sid string, _ struct{}, exp time.Time) {
		recs = append(recs, endedRecord{Kind: endedSession, SID: sid, Exp: exp})
	})
	s.revokedLogins.EachLive(func(k revokedLogin, at, exp time.Time) {
		recs = append(recs, endedRecord{Kind: revokedLoginKind, SID: k.sid, Client: k.client, At: at, Exp: exp})
	})
	s.goneSubs.EachLive(func(sub string, at, exp time.Time) {
		recs = append(recs, endedRecord{Kind: goneUser, Sub: sub, At: at, Exp: exp})
	})
	s.goneSIDs.EachLive(func(sid string, _ struct{}, exp time.Time) {
		recs = append(recs, endedRecord{Kind: goneSession, SID: sid, Exp: exp})
	})
	s.usedSubjects.Each(s.now(), func(key string, until time.Time) {
		recs = append(recs, endedRecord{Kind: usedSubjectKind, Key: key, Exp: until})
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	if f := s.endedFloor.Load(); f != nil {
		if l.floor.At.Equal(*f) && s.now().Before(l.floor.Exp) {
			recs = append(recs, l.floor)
		} else if l.floor.At.Before(*f) {
			// Raised at start (an unreadable record): for as long as
			// an ID token issued until then may live.
			l.floor = endedRecord{Kind: endedFloorKind, At: *f, Exp: s.idTokenHorizon(*f)}
			recs = append(recs, l.floor)
		}
	}
	return recs
}

// close closes the file; later records stay in memory only.
func (l *endedLog) close() {
	if l == nil {
		return
	}
	_ = l.log.Close()
}
