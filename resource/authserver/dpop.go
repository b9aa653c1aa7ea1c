package authserver

import (
	"errors"
	"net/http"
	"time"

	"github.com/xaa-idp/xaa-idp/dpop"
	"github.com/xaa-idp/xaa-idp/internal/replay"
)

// checkDPoP verifies the grant's DPoP proof, if it has one (RFC 9449 §5),
// for this server's token endpoint, and enforces the ID-JAG's key binding:
// an ID-JAG with cnf.jkt (RFC 7800 §3.1, RFC 9449 §6.1) is only redeemed
// with a proof signed by that key. It returns nil for a request without a
// proof and an unbound ID-JAG, which gets a bearer token as before.
func (a *Server) checkDPoP(r *http.Request, jag *idJAG, now time.Time) (*dpop.Proof, *oauthError) {
	raw, err := dpop.FromHeader(r.Header)
	if err != nil {
		return nil, invalidDPoPProof("%v", err)
	}
	var proof *dpop.Proof
	if raw != "" {
		proof, err = dpop.Verify(raw, dpop.Want{Method: http.MethodPost, URL: a.endpoint("/token"), Now: now})
		if err != nil {
			return nil, invalidDPoPProof("%v", err)
		}
	}
	switch {
	case jag.JKT == "":
	case proof == nil:
		return nil, invalidGrant("the ID-JAG is DPoP-bound (cnf.jkt %q); send a DPoP proof with that key (RFC 9449 §4)", jag.JKT)
	case proof.JKT != jag.JKT:
		return nil, invalidGrant("the ID-JAG is DPoP-bound (cnf.jkt %q); send a DPoP proof with that key, not with the key %q", jag.JKT, proof.JKT)
	}
	return proof, nil
}

// useProof records the proof's jti, refusing it if already seen (RFC 9449
// §11.1), as one of the user owner's (checkReplay): once the cache is half
// full, a user holding 1% of it is refused alone.
func (a *Server) useProof(p *dpop.Proof, owner string, now time.Time) *oauthError {
	err := a.use(a.proofs, a.proofsWall, replayProofKind, replayProofWallKind, replayKey(p.ReplayKey()), owner, p.ReplayUntil, now)
	var full *replay.FullError
	switch {
	case err == nil && a.madeBeforeFloor(replayProofKind, p.IssuedAt):
		return invalidDPoPProof("the DPoP proof was made at %s, before this authorization server started at %s unable to read all of its record of used proofs; it cannot tell whether this one was used: make a new proof", stamp(p.IssuedAt), stamp(a.replayFloor))
	case err == nil:
		return nil
	case errors.Is(err, replay.ErrReplayed):
		return invalidDPoPProof("the DPoP proof's jti %q was already used with this key; make a new proof for every request (RFC 9449 §11.1)", p.JTI)
	case errors.As(err, &full) && full.Owner != "":
		return temporarilyUnavailable(full.RetryAfter, "the DPoP replay cache is half full of its %d entries and holds %d or more unexpired proofs of this user, its share of it; retry in %s", full.Size, full.Share, full.RetryAfter.Round(time.Second))
	case errors.As(err, &full):
		return temporarilyUnavailable(full.RetryAfter, "the DPoP replay cache holds %d unexpired proofs; retry in %s", full.Size, full.RetryAfter.Round(time.Second))
	default:
		return temporarilyUnavailable(time.Second, "DPoP replay check: %v", err)
	}
}
