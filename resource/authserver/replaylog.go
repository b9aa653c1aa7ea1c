package authserver

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/xaa-idp/xaa-idp/dpop"
	"github.com/xaa-idp/xaa-idp/internal/recordlog"
	"github.com/xaa-idp/xaa-idp/internal/replay"
)

// replayRecord is one line of Config.ReplayFile: a jti the server
// recorded, as the hash its cache keeps (replayKey: never the token, nor
// the jti itself), until Exp; or, for the floor kind, the start At
// before which every JWT is refused (replayLog.floor), until Exp; or,
// for the revoked kind, a user (Iss, Sub) whose tokens issued until At a
// pushed SET revoked (a.revoked), until Exp. A floor and a revoked record
// are also kept until WallExp on the wall clock (Config.Wall), the later
// of the two, as the jti kinds are by their _wall twins: a record without
// one (written before it) is kept on the server's clock alone.
type replayRecord struct {
	Kind    string    `json:"kind"`
	Key     string    `json:"key,omitempty"`
	Iss     string    `json:"iss,omitempty"`
	Sub     string    `json:"sub,omitempty"`
	At      time.Time `json:"at,omitzero"`
	Exp     time.Time `json:"exp"`
	WallExp time.Time `json:"wall_exp,omitzero"`
}

// liveOnEither reports whether r is live at now on the server's clock or
// at wall on the wall clock.
func (r replayRecord) liveOnEither(now, wall time.Time) bool {
	return now.Before(r.Exp) || wall.Before(r.WallExp)
}

// The kinds of replayRecord: one for each replay cache, and the floor.
const (
	replayJTIKind           = "jti"                   // a.replay: ID-JAGs redeemed and SETs received
	replayJTIWallKind       = "jti_wall"              // a.replayWall: the same, Exp on the wall clock
	replayAssertionKind     = "client_assertion"      // a.clientAs
	replayAssertionWallKind = "client_assertion_wall" // a.clientAsWall: Exp on the wall clock
	replayProofKind         = "dpop_proof"            // a.proofs
	replayProofWallKind     = "dpop_proof_wall"       // a.proofsWall: Exp on the wall clock
	replayFloorKind         = "floor"
	revokedKind             = "revoked" // a.revoked: Iss, Sub, At
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
// start and, in the background, whenever the appends since outnumber
// them, so that it holds at most about twice what the bounded caches
// hold. Nil (no file) records nothing.
type replayLog struct {
	log *recordlog.Log[replayRecord]
	// floor is the floor record the server started with, kept by every
	// rewrite while it lives. Set at start; the rewrites (one at a
	// time) give it its expiry. floorWall is the wall clock's time when
	// the floor was raised, from which WallExp is counted.
	floor     replayRecord
	floorWall time.Time
	srv       *Server
}

// minReplayRewrite is how many appends a rewrite waits for at least.
const minReplayRewrite = 4096

// maxReplayLine bounds a line the start reads.
const maxReplayLine = 1 << 20

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
	l := &replayLog{srv: a}
	l.log = recordlog.New(name, recordlog.Options[replayRecord]{
		Private: true,
		MaxLine: maxReplayLine,
		Live:    l.live,
		Due:     func(lines, live int) bool { return lines > 2*live+minReplayRewrite },
		OnError: func(err error) {
			slog.Error("could not rewrite the record of used jti values", "file", name, "err", err)
		},
	})
	now := a.cfg.Now()
	lost := 0
	err := l.log.Scan(func(line int, b []byte, _ bool) error {
		var r replayRecord
		if err := json.Unmarshal(b, &r); err != nil || !a.loadReplay(l, r, now) {
			slog.Warn("a record of a used jti is unreadable; the authorization server refuses every ID-JAG, client assertion and DPoP proof made until now, until they expire",
				"file", name, "line", line)
			lost++
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("authserver: %w", err)
	}
	if lost > 0 && now.After(l.floor.At) {
		l.floor = replayRecord{Kind: replayFloorKind, At: now}
		l.floorWall = a.cfg.Wall()
	}
	if !l.floor.At.IsZero() {
		a.replayFloor = l.floor.At
	}
	if err := l.log.Compact(); err != nil {
		return nil, fmt.Errorf("authserver: %w", err)
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
	case replayAssertionWallKind:
		c, now = a.clientAsWall, a.cfg.Wall()
	case replayProofKind:
		c = a.proofs
	case replayProofWallKind:
		c, now = a.proofsWall, a.cfg.Wall()
	case replayFloorKind:
		if r.liveOnEither(now, a.cfg.Wall()) && r.At.After(l.floor.At) {
			l.floor = r
		}
		return true
	case revokedKind:
		// Full: a.revoked has room for fewer than it held.
		wall := a.cfg.Wall()
		return !r.liveOnEither(now, wall) || a.revoked.revoke(subjectKey{r.Iss, r.Sub}, r.At, r.Exp, r.WallExp, wall)
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

// use records key (a replayKey) as useBoth does, and appends both
// records to the file when it is new.
func (a *Server) use(c, wall *replay.Cache, kind, wallKind, key, owner string, until, now time.Time) error {
	recs, err := a.useBoth(c, wall, kind, wallKind, key, owner, until, now)
	if err != nil {
		return err
	}
	a.replayLog.append(recs[:]...)
	return nil
}

// useBoth records key (a replayKey) in c until the given time on the
// server's clock (now: Config.Now, which the demo points at the IdP's
// clock), and in wall for as long again on the wall clock (Config.Wall),
// and refuses it while either holds it: moving the clock ahead past
// until and back, or back, then waiting, cannot make a used jti usable
// again, as it is kept until both clocks have passed until, whichever is
// later (the replay detection of RFC 7523 §3, RFC 9449 §11.1 and RFC 8417
// §2.2 is against the server's own time). Either cache full refuses it,
// recording nothing; so does either holding the share of owner ("" for
// none: replay.Cache.UseShared). It returns the records of kind and
// wallKind for the file, which it does not write.
func (a *Server) useBoth(c, wall *replay.Cache, kind, wallKind, key, owner string, until, now time.Time) ([2]replayRecord, error) {
	w := a.cfg.Wall()
	wallUntil := w.Add(until.Sub(now))
	a.jtiMu.Lock()
	defer a.jtiMu.Unlock()
	if err := wall.UseShared(key, owner, wallUntil, w); err != nil {
		return [2]replayRecord{}, err
	}
	if err := c.UseShared(key, owner, until, now); err != nil {
		wall.Forget(key, wallUntil)
		return [2]replayRecord{}, err
	}
	return [2]replayRecord{{Kind: kind, Key: key, Exp: until}, {Kind: wallKind, Key: key, Exp: wallUntil}}, nil
}

// madeBeforeFloor reports whether a JWT of the given kind issued at iat
// may have been used before a start that lost a record of it.
func (a *Server) madeBeforeFloor(kind string, iat time.Time) bool {
	return !a.replayFloor.IsZero() && !iat.After(a.replayFloor.Add(a.replayFloorAhead(kind)))
}

// append writes rs to the file, unsynced. A failure is logged: the
// entries still hold in memory, until a restart.
func (l *replayLog) append(rs ...replayRecord) { l.write(false, rs...) }

// appendSynced writes rs to the file and syncs it: a revocation, off the
// token path, with the jti of its SET, so that neither is kept without
// the other.
func (l *replayLog) appendSynced(rs ...replayRecord) { l.write(true, rs...) }

func (l *replayLog) write(sync bool, rs ...replayRecord) {
	if l == nil || len(rs) == 0 {
		return
	}
	err := l.log.Append(sync, rs...)
	switch {
	case errors.Is(err, recordlog.ErrClosed):
		slog.Error("the record of used jti values is closed; a restart forgets these", "file", l.log.Name(), "records", len(rs))
	case err != nil:
		slog.Error("could not record a used jti or a revocation; a restart forgets it", "file", l.log.Name(), "err", err)
	}
}

// live is the live entries of the caches, for a rewrite
// (recordlog.Options.Live). An entry recorded while it runs and appended
// after it is written twice, which loading tolerates.
func (l *replayLog) live() []replayRecord {
	a := l.srv
	now, wall := a.cfg.Now(), a.cfg.Wall()
	var recs []replayRecord
	add := func(r replayRecord) { recs = append(recs, r) }
	if !l.floor.At.IsZero() {
		if l.floor.Exp.IsZero() {
			// Raised at this start: for as long as a JWT made until
			// then may be accepted.
			longest := max(a.reg.Load().maxLife, replay.MaxAssertionLifetime, dpop.DefaultWindow)
			life := longest + 2*a.cfg.Skew + dpop.DefaultWindow + time.Second
			l.floor.Exp, l.floor.WallExp = l.floor.At.Add(life), l.floorWall.Add(life)
		}
		if l.floor.liveOnEither(now, wall) {
			add(l.floor)
		}
	}
	for _, c := range []struct {
		kind  string
		cache *replay.Cache
		now   time.Time
	}{
		{replayJTIKind, a.replay, now}, {replayJTIWallKind, a.replayWall, wall},
		{replayAssertionKind, a.clientAs, now}, {replayAssertionWallKind, a.clientAsWall, wall},
		{replayProofKind, a.proofs, now}, {replayProofWallKind, a.proofsWall, wall},
	} {
		c.cache.Each(c.now, func(key string, until time.Time) {
			add(replayRecord{Kind: c.kind, Key: key, Exp: until})
		})
	}
	a.revoked.each(now, wall, func(k subjectKey, at, until, untilWall time.Time) {
		add(replayRecord{Kind: revokedKind, Iss: k.iss, Sub: k.sub, At: at, Exp: until, WallExp: untilWall})
	})
	return recs
}

// Close closes the server's ReplayFile, if it has one; the jti values
// recorded after it are kept in memory only.
func (a *Server) Close() error {
	if a.replayLog == nil {
		return nil
	}
	return a.replayLog.log.Close()
}
