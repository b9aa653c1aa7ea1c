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
// (RFC 9449 sections 4.3 and 5), and returns the thumbprint of its key, to
// bind the ID-JAG to; "" for a request without a proof. The proof's iat is
// judged by the IdP's clock, and its jti is remembered, per key, for as
// long as the proof would pass that check (about two minutes). It runs
// after client authentication, so that only registered clients fill the
// replay store, which is bounded and refuses when full (replayRefusal).
//
// The code and refresh grants are zitadel's and ignore the header: their
// tokens stay Bearer tokens, as their token_type says (RFC 9449 section 5
// lets a client check that).
func (s *Server) checkDPoP(r *http.Request) (string, *oauthError) {
	raw, err := dpop.FromHeader(r.Header)
	if err != nil {
		return "", invalidDPoPProof("%v", err)
	}
	if raw == "" {
		return "", nil
	}
	p, err := dpop.Verify(raw, dpop.Want{Method: http.MethodPost, URL: s.issuer + pathToken, Now: s.now()})
	if err != nil {
		return "", invalidDPoPProof("%v", err)
	}
	if err := s.usedProofs.Use(p.ReplayKey(), p.ReplayUntil, s.now()); err != nil {
		return "", replayRefusal(err, invalidDPoPProof("the DPoP proof's jti %q was already used with this key; make a new proof for every request (RFC 9449 section 11.1)", p.JTI))
	}
	return p.JKT, nil
}

// invalidDPoPProof is RFC 9449 section 5's refusal of a proof.
func invalidDPoPProof(format string, args ...any) *oauthError {
	return errorf("invalid_dpop_proof", http.StatusBadRequest, format, args...)
}
