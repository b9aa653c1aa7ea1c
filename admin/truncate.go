package admin

import "unicode/utf8"

// maxAuditText bounds request-derived text (a username, a path, a name
// from the URL) in the API's audit events and logs, so that a request
// cannot fill the log with what it chose to send.
//
// TODO(audit.Truncate): package audit is getting the same helper; use it
// then and remove this one.
const maxAuditText = 512

// truncatedMarker ends text that truncate cut, so that a reader sees the
// value is not whole.
const truncatedMarker = "…(truncated)"

// truncate returns s when it is at most maxAuditText bytes, else its start
// and truncatedMarker in maxAuditText bytes, cut between UTF-8 characters.
func truncate(s string) string {
	if len(s) <= maxAuditText {
		return s
	}
	cut := maxAuditText - len(truncatedMarker)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + truncatedMarker
}
