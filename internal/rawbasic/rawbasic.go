// Package rawbasic finds the client_id of HTTP Basic credentials whose
// client_id holds ':' and was sent as it is, not form-URL-encoded as RFC
// 6749 section 2.3.1 asks (curl -u, Python's HTTPBasicAuth, the
// TypeScript SDK's btoa(id + ":" + secret)), for the IdP and the demo
// authorization servers alike (docs/interop.md).
package rawbasic

import (
	"net/url"
	"strings"
)

// MaxClientIDBytes bounds the client_ids Split looks for: the IdP's
// configuration admits none longer (policy.MaxURLBytes), so no client of
// the IdP or of an MCP server's clients: map has one.
const MaxClientIDBytes = 2048

// Split finds the client of Basic credentials cut at their first ':' into
// id and secret (RFC 7617 section 2, as net/http's Request.BasicAuth cuts
// them), when that ':' is inside the client_id. known reports whether a
// client_id names a client. When id names one, as sent or
// form-URL-decoded, the credentials are what they say and ok is false.
// Otherwise the longest text before a later ':' that known names is the
// client_id, and the rest, as sent, its secret; ok is false when none is.
//
// No prefix longer than MaxClientIDBytes is tried, and the prefixes share
// one copy of the credentials: a header of ':' costs one copy of at most
// MaxClientIDBytes, not one per ':'.
func Split(id, secret string, known func(clientID string) bool) (clientID, clientSecret string, ok bool) {
	if !strings.Contains(secret, ":") || known(id) {
		return "", "", false
	}
	if d, err := url.QueryUnescape(id); err == nil && d != id && known(d) {
		return "", "", false
	}
	longest := MaxClientIDBytes - len(id) - 1 // of secret[:i]
	if longest < 0 {
		return "", "", false
	}
	// The candidates are prefixes of one copy: a copy each cost a
	// thousand for a header of ':'.
	head := secret[:min(longest+1, len(secret))]
	cred := id + ":" + head
	for i := strings.LastIndexByte(head, ':'); i >= 0; i = strings.LastIndexByte(head[:i], ':') {
		if c := cred[:len(id)+1+i]; known(c) {
			return c, secret[i+1:], true
		}
	}
	return "", "", false
}
