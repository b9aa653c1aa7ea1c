package idp

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/internal/redirecturi"
)

// checkRedirectURI refuses an authorization request that cannot go back to
// its client: without client_id or redirect_uri, for an unknown client
// (invalid_client), or whose redirect_uri is not one of the client's
// registered URIs (RFC 6749 section 3.1.2.3, OAuth 2.1 section 2.3.1: exact
// string comparison). The one exception is the port of a loopback IP
// literal, which a native app picks at run time (RFC 8252 section 7.3);
// "localhost" is no IP literal and matches exactly (RFC 8252 section 8.3).
// The answer is the JSON error, never a redirect to the unchecked URI (RFC
// 6749 section 4.1.2.1). A client_id URL whose metadata document does not
// resolve is refused invalid_client with the reason (cimd.go). With client
// and redirect_uri good, a max_age that is not a number of seconds is
// refused the same way: op cannot parse such a request, and so cannot send
// its error back.
//
// op's own check is weaker here: for native clients it accepts any
// loopback host for a registered loopback URI, either scheme, and
// userinfo. And op answers what it refuses itself in plain text, logging
// a missing client_id as a server error.
func (s *Server) checkRedirectURI(ctx context.Context, form url.Values) *oauthError {
	id, got := form.Get("client_id"), form.Get("redirect_uri")
	if id == "" {
		return invalidRequest("client_id is missing: an authorization request names its client (RFC 6749 section 4.1.1)")
	}
	c, err := s.lookupClient(ctx, s.Config(), id)
	if err != nil {
		e := cimdRefusal(err)
		if e.Code == "invalid_client" {
			e.Status = http.StatusBadRequest // no client authentication was attempted
		}
		return e
	}
	if c == nil {
		// invalid_client, as for a metadata document that does not
		// resolve, and as the product contract says of another tenant's
		// client; 400, since no client authentication was attempted.
		e := invalidClient("client_id %q is not registered at this IdP (the configuration's clients, or a metadata document URL)", audit.Truncate(id))
		e.Status = http.StatusBadRequest
		return e
	}
	if got == "" {
		return invalidRequest("redirect_uri is missing: send one of the URIs registered for client %q (OpenID Connect Core section 3.1.2.1)", c.ClientID)
	}
	if !redirecturi.Allowed(c.RedirectURIs, got) {
		return invalidRequest("redirect_uri %q is not registered for client %q: it must equal a registered URI exactly, except for the port of a loopback IP literal (RFC 8252 section 7.3), without userinfo or fragment", audit.Truncate(got), c.ClientID)
	}
	if v := form.Get("max_age"); v != "" {
		if _, err := strconv.ParseUint(v, 10, 0); err != nil {
			return invalidRequest("max_age %q is not a number of seconds (OpenID Connect Core section 3.1.2.1)", audit.Truncate(v))
		}
	}
	return nil
}
