package idp

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/xaa-idp/xaa-idp/policy"
)

// jwksMaxAge is how long a verifier may cache the JWKS (Cache-Control
// max-age). It is what a rotation costs a verifier that does not refetch
// on an unknown kid: for at most this long after a rotation it cannot
// verify tokens signed with the new key. Verifiers that refetch on an
// unknown kid (OIDC Core section 10.1.1) see the new key at once. The old
// key needs no such margin: it stays published for the longest token
// lifetime (Server.KeyOverlap), so every cached or fresh copy holds it for
// as long as a token it signed is alive, and a copy that still holds it
// after retirement can only verify expired tokens.
const jwksMaxAge = 5 * time.Minute

// jwks serves jwks_uri: every published key, with cache headers. It
// replaces op's handler, which sets none.
func (s *Server) jwks(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if s.endpointFaults(w, r, policy.FaultEndpointJWKS) {
		return
	}
	set := s.signer.JWKS()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(jwksMaxAge/time.Second)))
	_ = json.NewEncoder(w).Encode(set)
}
