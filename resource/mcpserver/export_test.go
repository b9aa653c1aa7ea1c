package mcpserver

// SetReplayCacheSize bounds the DPoP proofs an MCP server remembers, for a test that fills them;
// it returns a function that restores the bound. Servers made meanwhile keep it.
func SetReplayCacheSize(n int) (restore func()) {
	old := replayCacheSize
	replayCacheSize = n
	return func() { replayCacheSize = old }
}
