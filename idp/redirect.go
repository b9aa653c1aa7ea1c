package idp

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/xaa-idp/xaa-idp/audit"
)

// checkRedirectURI refuses an authorization request whose redirect_uri is
// not one of the client's registered URIs (RFC 6749 section 3.1.2.3,
// OAuth 2.1 section 2.3.1: exact string comparison). The one exception is
// the port of a loopback IP literal, which a native app picks at run time
// (RFC 8252 section 7.3); "localhost" is no IP literal and matches
// exactly (RFC 8252 section 8.3). The answer is an error page, never a
// redirect to the unchecked URI (RFC 6749 section 4.1.2.1). A request
// without client_id or redirect_uri, or for an unknown client, is left to
// op, which refuses it the same way. A client_id URL whose metadata
// document does not resolve is refused invalid_client with the reason
// (cimd.go).
//
// op's own check is weaker here: for native clients it accepts any
// loopback host for a registered loopback URI, either scheme, and
// userinfo.
func (s *Server) checkRedirectURI(ctx context.Context, form url.Values) *oauthError {
	got := form.Get("redirect_uri")
	c, err := s.lookupClient(ctx, s.Config(), form.Get("client_id"))
	if err != nil {
		e := cimdRefusal(err)
		e.Status = http.StatusBadRequest // no client authentication was attempted
		return e
	}
	if got == "" || c == nil {
		return nil
	}
	if !redirectAllowed(c.RedirectURIs, got) {
		return invalidRequest("redirect_uri %q is not registered for client %q: it must equal a registered URI exactly, except for the port of a loopback IP literal (RFC 8252 section 7.3), without userinfo or fragment", audit.Truncate(got), c.ClientID)
	}
	return nil
}

// redirectAllowed reports whether got matches one of the registered
// redirect URIs, under the rules of checkRedirectURI.
func redirectAllowed(registered []string, got string) bool {
	u, err := url.Parse(got)
	if err != nil || u.User != nil || strings.Contains(got, "#") {
		return false
	}
	for _, reg := range registered {
		if got == reg {
			return true
		}
		r, err := url.Parse(reg)
		if err == nil && loopbackIP(u) && loopbackIP(r) && r.User == nil &&
			u.Scheme == r.Scheme && u.Hostname() == r.Hostname() &&
			u.EscapedPath() == r.EscapedPath() && u.RawQuery == r.RawQuery && !u.ForceQuery && !r.ForceQuery {
			return true
		}
	}
	return false
}

// loopbackIP reports whether u's host is a loopback IP literal (127.0.0.1,
// [::1]), not a name.
func loopbackIP(u *url.URL) bool {
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}
