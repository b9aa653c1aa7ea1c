// Package urlpattern matches client_id URLs against the allow patterns of
// the cimd configuration section (docs/configuration.md, "cimd"). It is
// apart from package cimd, which fetches, so that the configuration can be
// validated without importing HTTP.
package urlpattern

import "strings"

// DefaultAllow is the allow list of a configuration without one: any https
// URL, and http on the loopback interface, where test clients live.
var DefaultAllow = []string{"https://*", "http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"}

// IsURL reports whether a client_id is a URL, and so names a metadata
// document rather than a registered client
// (draft-ietf-oauth-client-id-metadata-document §3).
func IsURL(clientID string) bool {
	return strings.HasPrefix(clientID, "https://") || strings.HasPrefix(clientID, "http://")
}

// IsPattern reports whether p can be an allow pattern: it starts with
// https:// or http:// and has something after it.
func IsPattern(p string) bool {
	return IsURL(p) && !strings.HasSuffix(p, "://")
}

// Allowed reports whether s matches one of the patterns.
func Allowed(patterns []string, s string) bool {
	for _, p := range patterns {
		if Match(p, s) {
			return true
		}
	}
	return false
}

// Match reports whether s matches pattern, where "*" matches any run of
// characters (none included) and everything else matches itself.
func Match(pattern, s string) bool {
	// Greedy matching with backtracking to the last star: linear in
	// practice, O(len(pattern)·len(s)) at worst.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// ScriptScheme reports whether a URI scheme makes a browser run or show the URI's own content
// (javascript:, data: and the like; OAuth 2.0 Security BCP, RFC 9700 section 4.1.3): no
// redirect_uri, of the configuration or of a metadata document, may have one.
func ScriptScheme(scheme string) bool {
	switch strings.ToLower(scheme) {
	case "javascript", "data", "vbscript", "file", "blob", "about":
		return true
	}
	return false
}
