package authserver

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/internal/httpjson"
	"github.com/xaa-idp/xaa-idp/internal/redact"
	"github.com/xaa-idp/xaa-idp/internal/replay"
	"github.com/xaa-idp/xaa-idp/internal/secevent"
)

const (
	// maxSETBytes caps a pushed SET; ours are under 1 KB.
	maxSETBytes = 64 << 10
	// setMaxAge is how old a SET's iat may be; the IdP signs each
	// delivery attempt anew, so only a replayed SET is older.
	setMaxAge = 10 * time.Minute
	// maxRevocations bounds the users whose tokens are revoked at once.
	maxRevocations = 100_000
)

// subjectKey is a user at an IdP: the RFC 9493 iss_sub of a SET, and the
// sub_id of the access tokens issued for that user's ID-JAGs.
type subjectKey struct{ iss, sub string }

// revocations remembers, for each user whose access a trusted IdP
// revoked, when it was revoked: access tokens and ID-JAGs issued before
// then (or in its second) are refused. An entry lasts until every token issued before it has
// expired, on the server's clock (until) and on the wall clock
// (untilWall) both, as a jti does (useBoth): the IdP's clock moved ahead
// past until and back must not make a revoked token good again. The set
// is bounded and refuses new entries when full of live ones, rather than
// forget one.
type revocations struct {
	mu sync.Mutex
	by map[subjectKey]revocation
}

// revocation is one user's: revoked at at, until until on the server's
// clock and untilWall on the wall clock.
type revocation struct{ at, until, untilWall time.Time }

// revoke records k's revocation at at, until until on the server's clock
// and untilWall on the wall clock (wall: its time now); false when full.
func (r *revocations) revoke(k subjectKey, at, until, untilWall, wall time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.by == nil {
		r.by = map[subjectKey]revocation{}
	}
	prev, ok := r.by[k]
	if !ok && len(r.by) >= maxRevocations {
		for key, v := range r.by {
			if !v.until.After(at) && !v.untilWall.After(wall) {
				delete(r.by, key)
			}
		}
		if len(r.by) >= maxRevocations {
			return false
		}
	}
	// A revocation only moves later: one received with the clock moved
	// back revokes no less than the one before it.
	if ok {
		at, until, untilWall = latest(at, prev.at), latest(until, prev.until), latest(untilWall, prev.untilWall)
	}
	r.by[k] = revocation{at, until, untilWall}
	return true
}

// latest is the later of a and b.
func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// each calls f with every revocation live at now on the server's clock
// or at wall on the wall clock, under r's lock: f must not call r.
func (r *revocations) each(now, wall time.Time, f func(k subjectKey, at, until, untilWall time.Time)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, v := range r.by {
		if v.until.After(now) || v.untilWall.After(wall) {
			f(k, v.at, v.until, v.untilWall)
		}
	}
}

// revokedBefore reports whether a token issued at iat for k was revoked:
// issued before the revocation or, since iat has whole seconds, in its
// second.
func (r *revocations) revokedBefore(k subjectKey, iat time.Time) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.by[k]
	return v.at, ok && !iat.After(v.at)
}

// serveEvents is the RFC 8935 push endpoint: it verifies a SET of a
// trusted IdP (internal/secevent) and, for a CAEP session-revoked or RISC
// account-disabled event, revokes the user's access tokens at once. It
// answers 202, or 400 with the RFC 8935 section 2.3 error.
func (a *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpjson.Write(w, http.StatusMethodNotAllowed, &secevent.Error{Code: secevent.ErrInvalidRequest,
			Description: "the events endpoint accepts only POST (RFC 8935 section 2)"})
		return
	}
	refuse := func(e *secevent.Error) { httpjson.Write(w, http.StatusBadRequest, e) }
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != secevent.MediaType {
		refuse(&secevent.Error{Code: secevent.ErrInvalidRequest, Description: "Content-Type must be " + secevent.MediaType + " (RFC 8935 section 2.1)"})
		return
	}
	if r.ContentLength > maxSETBytes {
		// Before a byte is read, without inviting an Expect:
		// 100-continue body (RFC 9110 section 10.1.1).
		refuse(&secevent.Error{Code: secevent.ErrInvalidRequest, Description: "the body is larger than 64 KiB"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSETBytes))
	if err != nil {
		refuse(&secevent.Error{Code: secevent.ErrInvalidRequest, Description: "the body could not be read or is larger than 64 KiB"})
		return
	}
	now := a.cfg.Now()
	var keysErr error
	keys := func(ctx context.Context, iss, kid string) ([]jose.JSONWebKey, error) {
		found, err := a.setKeys(ctx, iss, kid)
		keysErr = err
		return found, err
	}
	set, serr := secevent.Verify(r.Context(), string(body), keys, secevent.Want{
		Audience: a.cfg.Issuer, Now: now, MaxAge: setMaxAge, Skew: a.cfg.Skew,
	})
	if keysErr != nil && !errors.Is(keysErr, errUnknownKID) && !errors.Is(keysErr, secevent.ErrUntrusted) {
		// The IdP's keys could not be had (a JWKS outage, or the
		// requests waiting for the next fetch at their bound): not the
		// SET's fault, and a 400 is not sent again (RFC 8935 section
		// 2.3), which dropped the revocation. A 503 is retried.
		writeOAuthError(w, temporarilyUnavailable(jwksMinRefetch, "cannot verify the SET: %v", keysErr), a.cfg.Issuer)
		return
	}
	if serr != nil {
		refuse(serr)
		return
	}
	var full *replay.FullError
	// Recorded in the file with the revocation, below: a SET whose jti
	// outlived a restart without its revocation would be refused when
	// the IdP sends it again. SETs made before a start that lost a
	// record (madeBeforeFloor) are accepted: a revocation processed
	// twice revokes no less. Kept on both clocks, as an ID-JAG's jti
	// (useBoth), and past the last instant it is taken (an iat the skew
	// ahead, 10 minutes old) by replayPast.
	key := replayKey("secevent\x00" + set.Issuer + "\x00" + set.ID)
	jti, err := a.useBoth(a.replay, a.replayWall, replayJTIKind, replayJTIWallKind, key, "", now.Add(setMaxAge+a.cfg.Skew+replayPast), now)
	switch {
	case errors.Is(err, replay.ErrReplayed):
		refuse(&secevent.Error{Code: secevent.ErrInvalidRequest, Description: "jti " + redact.TruncateTo(set.ID, secevent.MaxQuotedBytes) + " was received before; a SET is processed once (RFC 8417 section 2.2)"})
		return
	case errors.As(err, &full):
		writeOAuthError(w, temporarilyUnavailable(full.RetryAfter, "too many recent SETs to detect replays"), a.cfg.Issuer)
		return
	}
	// Every token issued before now, and living at most the longer of
	// an access token and an ID-JAG lifetime, is refused until it expires
	// on both clocks.
	life := a.cfg.AccessTokenLifetime + setMaxAge + a.cfg.Skew
	wall := a.cfg.Wall()
	revoked := replayRecord{Kind: revokedKind, Iss: set.Subject.Iss, Sub: set.Subject.Sub, At: now, Exp: now.Add(life), WallExp: wall.Add(life)}
	if !a.revoked.revoke(subjectKey{revoked.Iss, revoked.Sub}, revoked.At, revoked.Exp, revoked.WallExp, wall) {
		writeOAuthError(w, temporarilyUnavailable(time.Minute, "too many revoked users to remember another"), a.cfg.Issuer)
		return
	}
	// Synced before the 202: the IdP sends a SET no more once it is
	// accepted, and a restart must not forget it (Config.ReplayFile).
	a.replayLog.appendSynced(jti[0], jti[1], revoked)
	w.WriteHeader(http.StatusAccepted)
}

// setKeys finds the keys of a trusted issuer for secevent.Verify.
func (a *Server) setKeys(ctx context.Context, iss, kid string) ([]jose.JSONWebKey, error) {
	ks, ok := a.reg.Load().idpKeys[iss]
	if !ok {
		return nil, secevent.ErrUntrusted
	}
	return ks.lookup(ctx, kid)
}
