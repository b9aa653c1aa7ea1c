package authserver

// CompactReplayFile rewrites a's ReplayFile with the live entries of its
// caches now, as the background compaction does when recordlog's Due says
// so: the tests force one without thousands of appends.
func CompactReplayFile(a *Server) error { return a.replayLog.log.Compact() }

// JWKSWaiting is how many requests wait, in every key set of a's
// registration, for the next fetch of the IdP's JWKS (remoteKeySet.lookup).
func JWKSWaiting(a *Server) int {
	n := 0
	for _, s := range a.reg.Load().idpKeys {
		s.mu.Lock()
		n += s.waiting
		s.mu.Unlock()
	}
	return n
}

// JWKSMaxWaiting is jwksMaxWaiting, for the tests.
const JWKSMaxWaiting = jwksMaxWaiting
