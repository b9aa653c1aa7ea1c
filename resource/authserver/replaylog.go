package authserver

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/xaa-idp/xaa-idp/dpop"
	"github.com/xaa-idp/xaa-idp/internal/atomicfile"
	"github.com/xaa-idp/xaa-idp/internal/replay"
)

// replayRecord is one line of Config.ReplayFile: a jti the server
// recorded, as the hash its cache keeps (replayKey: never the token, nor
// the jti itself), until Exp; or, for the floor kind, the start At
// before which every JWT is refused (replayLog.floor), until Exp; or,
// for the revoked kind, a user (Iss, Sub) whose tokens issued until At a
// pushed SET revoked (a.revoked), until Exp.
type replayRecord struct {
	Kind string    `json:"kind"`
	Key  string    `json:"key,omitempty"`
	Iss  string    `json:"iss,omitempty"`
	Sub  string    `json:"sub,omitempty"`
	At   time.Time `json:"at,omitzero"`
	Exp  time.Time `json:"exp"`
}

// The kinds of replayRecord: one for each replay cache, and the floor.
const (
	replayJTIKind       = "jti"              // a.replay: ID-JAGs redeemed and SETs received
	replayJTIWallKind   = "jti_wall"         // a.replayWall: ID-JAGs redeemed, Exp on the wall clock
	replayAssertionKind = "client_assertion" // a.clientAs
	replayProofKind     = "dpop_proof"       // a.proofs
	replayFloorKind     = "floor"
	revokedKind         = "revoked" // a.revoked: Iss, Sub, At
)

// replayKey is what the replay caches keep for an identifier (the issuer
// and jti of an ID-JAG, the client and jti of an assertion, the key and
// jti of a DPoP proof): its SHA-256, base64url. The file written from
// the caches holds no jti, and every entry has one size.
func replayKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// replayLog appends each jti the server records to Config.ReplayFile,
// written but not synced: a use is recorded on the token path, where an
// fsync for each grant would cost more than the grant, so the record
// outlives the process however it ends (kill -9 included), not a crash
// of the machine. The file is rewritten with the live entries alone at
// start and whenever the appends since outnumber them, so that it holds
// at most about twice what the bounded caches hold. Nil (no file)
// records nothing.
type replayLog struct {
	mu    sync.Mutex
	name  string
	f     *os.File
	lines int // lines in the file
	live  int // records written by the last rewrite
	// floor is the floor record the server started with, kept by every
	// rewrite while it lives.
	floor replayRecord
	srv   *Server
}

// minReplayRewrite is how many appends a rewrite waits for at least.
const minReplayRewrite = 4096

// replayFloorAhead is how far after the floor a JWT's iat may be and
// still have been made before it, as the checks allow: the skew for an
// ID-JAG and a client assertion, the DPoP window for a proof.
func (a *Server) replayFloorAhead(kind string) time.Duration {
	if kind == replayProofKind {
		return dpop.DefaultWindow
	}
	return a.cfg.Skew
}

// openReplayLog loads the records of name into the server's caches,
// drops the expired ones from the file and opens it for appending. A line
// it cannot read (damage, or a torn last line after a crash of the
// machine) loses a jti it cannot name: the server then refuses every
// ID-JAG, client assertion and DPoP proof made until now (the floor),
// until they have expired, failing closed, and says so.
func (a *Server) openReplayLog(name string) (*replayLog, error) {
	if name == "" {
		return nil, nil
	}
	l := &replayLog{name: name, srv: a}
	data, err := os.ReadFile(name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("authserver: %w", err)
	}
	now := a.cfg.Now()
	lost := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var r replayRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil || !a.loadReplay(l, r, now) {
			slog.Warn("a record of a used jti is unreadable; the authorization server refuses every ID-JAG, client assertion and DPoP proof made until now, until they expire",
				"file", name, "line", line)
			lost++
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("authserver: %s: %w", name, err)
	}
	if lost > 0 && now.After(l.floor.At) {
		l.floor = replayRecord{Kind: replayFloorKind, At: now}
	}
	if !l.floor.At.IsZero() {
		a.replayFloor = l.floor.At
	}
	if err := l.rewrite(); err != nil {
		return nil, err
	}
	return l, nil
}

// loadReplay puts r into its cache, unless it expired; false for a record
// of no kind it knows, or one the cache has no room for (the cache of a
// smaller ReplayCacheSize than the file was written with).
func (a *Server) loadReplay(l *replayLog, r replayRecord, now time.Time) bool {
	var c *replay.Cache
	switch r.Kind {
	case replayJTIKind:
		c = a.replay
	case replayJTIWallKind:
		c, now = a.replayWall, a.cfg.Wall()
	case replayAssertionKind:
		c = a.clientAs
	case replayProofKind:
		c = a.proofs
	case replayFloorKind:
		if now.Before(r.Exp) && r.At.After(l.floor.At) {
			l.floor = r
		}
		return true
	case revokedKind:
		// Full: a.revoked has room for fewer than it held.
		return !now.Before(r.Exp) || a.revoked.revoke(subjectKey{r.Iss, r.Sub}, r.At, r.Exp)
	default:
		return false
	}
	if !now.Before(r.Exp) {
		return true
	}
	if r.Key == "" {
		return false
	}
	var full *replay.FullError
	// Already used: the record was written twice.
	return !errors.As(c.Use(r.Key, r.Exp, now), &full)
}

// use records key (a replayKey) in c until the given time, as c.Use does,
// and appends it to the file when it is new.
func (a *Server) use(c *replay.Cache, kind, key string, until, now time.Time) error {
	if err := c.Use(key, until, now); err != nil {
		return err
	}
	a.replayLog.append(replayRecord{Kind: kind, Key: key, Exp: until})
	return nil
}

// madeBeforeFloor reports whether a JWT of the given kind issued at iat
// may have been used before a start that lost a record of it.
func (a *Server) madeBeforeFloor(kind string, iat time.Time) bool {
	return !a.replayFloor.IsZero() && !iat.After(a.replayFloor.Add(a.replayFloorAhead(kind)))
}

// append writes r to the file, unsynced. A failure is logged: the entry
// still holds in memory, until a restart.
func (l *replayLog) append(r replayRecord) { l.write(false, r) }

// appendSynced writes rs to the file and syncs it: a revocation, off the
// token path, with the jti of its SET, so that neither is kept without
// the other.
func (l *replayLog) appendSynced(rs ...replayRecord) { l.write(true, rs...) }

func (l *replayLog) write(sync bool, rs ...replayRecord) {
	if l == nil || len(rs) == 0 {
		return
	}
	var b []byte
	for _, r := range rs {
		line, _ := json.Marshal(r)
		b = append(append(b, line...), '\n')
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		slog.Error("the record of used jti values is closed; a restart forgets these", "file", l.name, "records", len(rs))
		return
	}
	_, err := l.f.Write(b)
	if err == nil && sync {
		err = l.f.Sync()
	}
	if err != nil {
		slog.Error("could not record a used jti or a revocation; a restart forgets it", "file", l.name, "err", err)
		return
	}
	l.lines += len(rs)
	if l.lines > 2*l.live+minReplayRewrite {
		if err := l.rewriteLocked(); err != nil {
			slog.Error("could not rewrite the record of used jti values", "file", l.name, "err", err)
		}
	}
}

func (l *replayLog) rewrite() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rewriteLocked()
}

// rewriteLocked replaces the file with the live entries of the caches
// (write, sync, rename) and reopens it for appending. An entry recorded
// while it runs and appended after it is written twice, which loading
// tolerates.
func (l *replayLog) rewriteLocked() error {
	a := l.srv
	now := a.cfg.Now()
	var buf bytes.Buffer
	n := 0
	add := func(r replayRecord) {
		b, _ := json.Marshal(r)
		buf.Write(b)
		buf.WriteByte('\n')
		n++
	}
	if !l.floor.At.IsZero() {
		if l.floor.Exp.IsZero() {
			// Raised at this start: for as long as a JWT made until
			// then may be accepted.
			longest := max(a.reg.Load().maxLife, replay.MaxAssertionLifetime, dpop.DefaultWindow)
			l.floor.Exp = l.floor.At.Add(longest + 2*a.cfg.Skew + dpop.DefaultWindow + time.Second)
		}
		if now.Before(l.floor.Exp) {
			add(l.floor)
		}
	}
	for _, c := range []struct {
		kind  string
		cache *replay.Cache
		now   time.Time
	}{{replayJTIKind, a.replay, now}, {replayJTIWallKind, a.replayWall, a.cfg.Wall()}, {replayAssertionKind, a.clientAs, now}, {replayProofKind, a.proofs, now}} {
		c.cache.Each(c.now, func(key string, until time.Time) {
			add(replayRecord{Kind: c.kind, Key: key, Exp: until})
		})
	}
	a.revoked.each(now, func(k subjectKey, at, until time.Time) {
		add(replayRecord{Kind: revokedKind, Iss: k.iss, Sub: k.sub, At: at, Exp: until})
	})
	if l.f != nil {
		_ = l.f.Close()
		l.f = nil
	}
	if _, err := atomicfile.WritePrivate(l.name, buf.Bytes()); err != nil {
		return fmt.Errorf("authserver: %w", err)
	}
	f, err := os.OpenFile(l.name, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("authserver: %w", err)
	}
	l.f, l.lines, l.live = f, n, n
	return nil
}

// Close closes the server's ReplayFile, if it has one; the jti values
// recorded after it are kept in memory only.
func (a *Server) Close() error {
	l := a.replayLog
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
