// Package urlpattern matches client_id URLs against the allow patterns of
// the cimd configuration section (docs/configuration.md, "cimd"). It is
// apart from package cimd, which fetches, so that the configuration can be
// validated without importing HTTP.
package urlpattern

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

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

// Host returns the host a pattern names, in lower case ("127.0.0.1" of
// "http://127.0.0.1:*", "::1" of "http://[::1]:*", "clients.corp.example"
// of "https://clients.corp.example/*"), or "" when its host part has a
// wildcard (or userinfo) and so names no one host.
func Host(pattern string) string {
	_, rest, ok := strings.Cut(pattern, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	host := rest
	if strings.HasPrefix(rest, "[") {
		end := strings.Index(rest, "]")
		if end < 0 {
			return ""
		}
		host = rest[1:end]
	} else if i := strings.LastIndex(rest, ":"); i >= 0 {
		host = rest[:i]
	}
	if host == "" || strings.Contains(host, "*") || strings.Contains(host, "@") {
		return ""
	}
	return strings.ToLower(host)
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

// Check checks the form of a client_id or jwks_uri URL: absolute http(s),
// printable ASCII, with a path, and none of what
// draft-ietf-oauth-client-id-metadata-document §3 forbids (userinfo,
// fragment, dot segments). The error says what is wrong.
func Check(raw string) error {
	// A URI is ASCII (RFC 3986 §2). net/url takes a space or a UTF-8
	// character and sends it encoded, so the document would be fetched at
	// another URL than the client_id, and an internationalised host
	// (Cyrillic "аррӏе" for xn--80ak6aa92e) would be named on the login
	// page as the look-alike it spells.
	if i := strings.IndexFunc(raw, func(r rune) bool { return r <= ' ' || r > '~' }); i >= 0 {
		r, _ := utf8.DecodeRuneInString(raw[i:])
		return fmt.Errorf("it has %U, which is not printable ASCII: a URL has none (RFC 3986); percent-encode it, and write an internationalised host in its xn-- form", r)
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("not a URL: %v", err)
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("scheme %q is not https", u.Scheme)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("no host")
	case u.User != nil:
		return fmt.Errorf("it has a user name or password, which §3 forbids")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Errorf("it has a fragment, which §3 forbids")
	case u.Path == "":
		return fmt.Errorf("it has no path; §3 requires one, such as /client.json")
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return fmt.Errorf("its path has a %q segment, which §3 forbids", seg)
		}
	}
	return nil
}

// Refusal says why the allow patterns do not admit raw as a client_id URL
// to fetch: Check's reason, or that no pattern matches it; nil when they
// admit it. The IdP's token endpoint and explain describe a refused URL
// client with it.
func Refusal(patterns []string, raw string) error {
	if err := Check(raw); err != nil {
		return err
	}
	if !Allowed(patterns, raw) {
		return fmt.Errorf("%s matches no allowed pattern (%s)", raw, strings.Join(patterns, ", "))
	}
	return nil
}
