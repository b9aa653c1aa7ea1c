package idp

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/atomicfile"
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
// rewrites the file with the live records alone at start and whenever
// the appends since outnumber them: the file holds at most about twice
// the records the bounded in-memory stores hold. Nil (no state
// directory) records nothing.
type endedLog struct {
	mu    sync.Mutex
	name  string
	f     *os.File
	lines int // lines in the file
	live  int // records written by the last rewrite
	// floor is the last floor record, which the rewrite keeps while
	// it lives (endedFloor itself has no expiry).
	floor endedRecord
	srv   *Server
}

// minEndedRewrite is how many appends a rewrite waits for at least.
const minEndedRewrite = 4096

// openEndedLog loads the records of dir's endedLoginsFile into the
// server's stores, drops the expired ones from the file and opens it for
// appending. A line it cannot read (a torn last line of a killed process,
// or damage) loses a record it cannot name: the IdP then refuses every ID
// token issued until now at the exchange (the floor of raiseEndedFloor),
// failing closed, and says so.
func (s *Server) openEndedLog(dir string) (*endedLog, error) {
	if dir == "" {
		return nil, nil
	}
	l := &endedLog{name: filepath.Join(dir, endedLoginsFile), srv: s}
	data, err := os.ReadFile(l.name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("idp: %w", err)
	}
	now := s.now()
	lost := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var r endedRecord
		err := json.Unmarshal(sc.Bytes(), &r)
		if err == nil && r.Kind == endedFloorKind && r.At.After(l.floor.At) && now.Before(r.Exp) {
			l.floor = r
		}
		if err != nil || !s.loadEnded(r, now) {
			slog.Warn("a record of an ended login is unreadable; the token exchange refuses every ID token of a session issued until now, until they expire",
				"file", l.name, "line", line)
			lost++
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("idp: %s: %w", l.name, err)
	}
	if lost > 0 {
		s.raiseEndedFloor(now)
	}
	if err := l.rewrite(); err != nil {
		return nil, err
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

// record appends rs to the file and syncs it. A failure is logged: the
// records still hold in memory, until a restart.
func (l *endedLog) record(rs ...endedRecord) { l.write(true, rs) }

// recordUse appends the use of a single-use subject token, unsynced: it
// is made on the token path, where an fsync for each exchange would cost
// more than the exchange. It outlives the process however it ends
// (kill -9 included), not a crash of the machine.
func (l *endedLog) recordUse(r endedRecord) { l.write(false, []endedRecord{r}) }

func (l *endedLog) write(sync bool, rs []endedRecord) {
	if l == nil || len(rs) == 0 {
		return
	}
	var buf bytes.Buffer
	for _, r := range rs {
		b, _ := json.Marshal(r)
		buf.Write(b)
		buf.WriteByte('\n')
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range rs {
		if r.Kind == endedFloorKind && r.At.After(l.floor.At) {
			l.floor = r
		}
	}
	if l.f == nil {
		slog.Error("the record of ended logins is closed; a restart forgets these", "file", l.name, "records", len(rs))
		return
	}
	_, err := l.f.Write(buf.Bytes())
	if err == nil && sync {
		err = l.f.Sync()
	}
	if err != nil {
		slog.Error("could not record an ended login in the state directory; a restart forgets it", "file", l.name, "err", err)
		return
	}
	l.lines += len(rs)
	if l.lines > 2*l.live+minEndedRewrite {
		if err := l.rewriteLocked(); err != nil {
			slog.Error("could not rewrite the record of ended logins", "file", l.name, "err", err)
		}
	}
}

func (l *endedLog) rewrite() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rewriteLocked()
}

// rewriteLocked replaces the file with the live records of the stores
// (write, sync, rename) and reopens it for appending. A record stored
// while it runs and appended after it is written twice, which loading
// tolerates.
func (l *endedLog) rewriteLocked() error {
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
	var buf bytes.Buffer
	for _, r := range recs {
		b, _ := json.Marshal(r)
		buf.Write(b)
		buf.WriteByte('\n')
	}
	if l.f != nil {
		_ = l.f.Close()
		l.f = nil
	}
	if _, err := atomicfile.WritePrivate(l.name, buf.Bytes()); err != nil {
		return fmt.Errorf("idp: %w", err)
	}
	f, err := os.OpenFile(l.name, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("idp: %w", err)
	}
	l.f, l.lines, l.live = f, len(recs), len(recs)
	return nil
}

// close closes the file; later records stay in memory only.
func (l *endedLog) close() {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		_ = l.f.Close()
		l.f = nil
	}
}
