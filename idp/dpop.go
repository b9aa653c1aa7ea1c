package idp

import (
	"net/http"

	"github.com/xaa-idp/xaa-idp/dpop"
)

// confirmation is the cnf claim (RFC 7800) of a DPoP-bound ID-JAG: the
// RFC 7638 thumbprint of the client's key (RFC 9449 section 6.1). The
// authorization server then redeems the ID-JAG only with a proof signed by
// that key (RFC 9449 section 10.1).
type confirmation struct {
	JKT string `json:"jkt"`
}

// checkDPoP verifies the token exchange's DPoP proof, when it has one
// (RFC 9449 sections 4.3 and 5); nil for a request without a proof. The
// proof's iat is judged by the IdP's clock. Its jti is not recorded here
// but by useDPoP, once the subject token is valid and the policy allows
// the exchange: a public client needs no credentials, so recording it
// any earlier would let anyone fill the replay store, which is bounded
// and refuses when full (replayRefusal), with proofs of fresh keys.
//
// The code and refresh grants are zitadel's and ignore the header: their
// tokens stay Bearer tokens, as their token_type says (RFC 9449 section 5
// lets a client check that).
func (s *Server) checkDPoP(r *http.Request) (*dpop.Proof, *oauthError) {
	raw, err := dpop.FromHeader(r.Header)
	if err != nil {
		return nil, invalidDPoPProof("%v", err)
	}
	if raw == "" {
		return nil, nil
	}
	p, err := dpop.Verify(raw, dpop.Want{Method: http.MethodPost, URL: s.calledTokenURL(r), Now: s.now()})
	if err != nil {
		return nil, invalidDPoPProof("%v", err)
	}
	return p, nil
}

// useDPoP remembers the jti of a proof checkDPoP accepted, per key, for as
// long as the proof would pass that check (about two minutes), as one of
// the user sub's, and returns the thumbprint of its key, to bind the
// ID-JAG to; "" without a proof. Once the store is half full, a user who
// holds 1% of it is refused alone (replay.Cache.UseShared): one user's
// exchanges, a new proof each, cannot refuse every user's.
func (s *Server) useDPoP(p *dpop.Proof, sub string) (string, *oauthError) {
	if p == nil {
		return "", nil
	}
	if err := s.usedProofs.UseShared(p.ReplayKey(), sub, p.ReplayUntil, s.now()); err != nil {
		return "", replayRefusal(err, invalidDPoPProof("the DPoP proof's jti %q was already used with this key; make a new proof for every request (RFC 9449 section 11.1)", p.JTI))
	}
	return p.JKT, nil
}

// invalidDPoPProof is RFC 9449 section 5's refusal of a proof.
func invalidDPoPProof(format string, args ...any) *oauthError {
	return errorf("invalid_dpop_proof", http.StatusBadRequest, format, args...)
}
