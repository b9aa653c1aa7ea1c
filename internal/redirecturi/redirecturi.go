// Package redirecturi matches a request's redirect_uri against a client's
// registered ones, the same way at the IdP and at the demo authorization
// servers (docs/http.md, "/authorize").
package redirecturi

import (
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Allowed reports whether got matches one of the registered redirect URIs:
// as strings (RFC 6749 section 3.1.2.3, OAuth 2.1 section 2.3.1: exact
// comparison), except for the port of a loopback IP literal, which a native
// app picks at run time (RFC 8252 section 7.3), and which must then be a
// port a listener can have. "localhost" is no IP literal and matches
// exactly (RFC 8252 section 8.3). A URI with userinfo or a fragment (a bare
// "#" too, RFC 6749 section 3.1.2) never matches.
func Allowed(registered []string, got string) bool {
	u, err := url.Parse(got)
	if err != nil || u.User != nil || strings.Contains(got, "#") {
		return false
	}
	for _, reg := range registered {
		if got == reg {
			return true
		}
		// The scheme as written (url.Parse folds its case, and a URI
		// starts with its scheme), whatever case the registered one has:
		// only the port is relaxed.
		r, err := url.Parse(reg)
		if err == nil && loopbackIP(u) && loopbackIP(r) && r.User == nil && portOrNone(u) &&
			r.Scheme != "" && u.Scheme == r.Scheme && got[:len(u.Scheme)] == reg[:len(r.Scheme)] && u.Hostname() == r.Hostname() &&
			u.EscapedPath() == r.EscapedPath() && u.RawQuery == r.RawQuery && !u.ForceQuery && !r.ForceQuery {
			return true
		}
	}
	return false
}

// portOrNone reports whether u names no port, or one a listener can have
// (1 to 65535, without a sign or leading zeros): a client's loopback
// redirect may take any port, but not one that is no port at all.
func portOrNone(u *url.URL) bool {
	p := u.Port()
	if p == "" {
		return !strings.HasSuffix(u.Host, ":")
	}
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535 && strconv.Itoa(n) == p
}

// loopbackIP reports whether u's host is a loopback IP literal (127.0.0.1,
// [::1]), not a name.
func loopbackIP(u *url.URL) bool {
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}
