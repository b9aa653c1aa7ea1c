package idp

// SetMaxEndedSessions bounds the ended SSO sessions the IdP remembers, for a test that overflows
// them; it returns a function that restores the bound. Servers made meanwhile keep it.
func SetMaxEndedSessions(n int) (restore func()) {
	old := maxEndedSessions
	maxEndedSessions = n
	return func() { maxEndedSessions = old }
}
