package authserver

// CompactReplayFile rewrites a's ReplayFile with the live entries of its
// caches now, as the background compaction does when recordlog's Due says
// so: the tests force one without thousands of appends.
func CompactReplayFile(a *Server) error { return a.replayLog.log.Compact() }
