package admin

import (
	"context"
	"net/http"
	"strings"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/internal/clientaddr"
	"github.com/xaa-idp/xaa-idp/internal/throttle"
)

// The bearer tokens of SCIM provisioning (policy.SCIM, the scim: section):
// Microsoft Entra's provisioning service and Okta's "HTTP Header" mode
// send Authorization: Bearer <token>, not HTTP Basic. A token admits its
// client to the SCIM endpoints of its IdP (a tenant's, under that
// tenant's path) and to nothing else of the admin API; the changes made
// with it are the admin_change events of actor "scim:<name>". The token
// itself is never logged, audited or answered.

// scimChallenge is the WWW-Authenticate challenge of a SCIM 401 (RFC 6750
// section 3).
const scimChallenge = `Bearer realm="xaa-idp scim"`

// bearerThrottleKey is the throttle's entry of the failed bearer tokens
// sent from r's address: no username can be it (a username holds no
// control character), so the guessing of tokens backs off as a username's
// passwords do, without touching any user's. It is counted per address,
// not for all tokens together: anyone can send a wrong token, and one
// count for all would let a stranger lock the provisioning client out for
// the back-off's 5 minutes; a token is no password a person picked (at
// least 16 characters, and checked by its SHA-256 in constant time), so
// the address's back-off is what slows a guesser. An IPv6 address is
// counted by its /64 (clientaddr.Key): until 2026-12-07 each alone, and a
// host given a /64 took a new address for every five guesses.
func bearerThrottleKey(r *http.Request) string {
	host := clientaddr.Key(r.RemoteAddr)
	if host == "" {
		host = r.RemoteAddr
	}
	return "\x00scim bearer token from " + host
}

// bearer returns the token of a request's one Authorization header of
// scheme Bearer (any case, RFC 9110 section 11.1); ok is false for
// another scheme, none, or more than one header (which requireAdmin
// refuses).
func bearer(r *http.Request) (token string, ok bool) {
	h := r.Header.Values("Authorization")
	if len(h) != 1 {
		return "", false
	}
	scheme, token, _ := strings.Cut(h[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// scimTokenKey marks in a request's context that a SCIM bearer token
// admitted it (withToken), not an admin.
type scimTokenKey struct{}

// withToken records that a SCIM bearer token admitted r.
func withToken(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), scimTokenKey{}, true))
}

// byToken reports whether a SCIM bearer token admitted r: its changes
// must not open the rest of the admin API (an admin user's password).
func byToken(r *http.Request) bool {
	ok, _ := r.Context().Value(scimTokenKey{}).(bool)
	return ok
}

// requireSCIMToken admits a request with a bearer token: its actor
// ("scim:<name>"), or "" when it has answered. Outside the SCIM endpoints
// a token is refused unchecked (401, HTTP Basic's challenge); a wrong one
// is a 401 SCIM error with the Bearer challenge, counted by the throttle
// as a failed HTTP Basic login is, and audited as a refused login
// without the token.
func (a *API) requireSCIMToken(w http.ResponseWriter, r *http.Request, token string) string {
	if !IsSCIM(r.URL.Path) {
		a.loginDenied(r, "", "a bearer token was sent outside SCIM ("+scimPrefix+"); it grants SCIM only")
		unauthorized(w, r, "a SCIM bearer token grants the SCIM endpoints ("+scimPrefix+") only; sign in with an admin user's username and password (HTTP Basic)")
		return ""
	}
	key := bearerThrottleKey(r)
	if wait, ok := a.throttle.Wait(r.Context(), key); !ok {
		a.loginDenied(r, "", "too many wrong SCIM bearer tokens; refused without checking the token")
		w.Header().Set("Retry-After", throttle.RetryAfter(wait))
		scimError(w, http.StatusTooManyRequests, "", "too many wrong bearer tokens: try again in "+throttle.RetryAfter(wait)+" s (Retry-After)")
		return ""
	}
	t := a.idp.Config().SCIM.Match(token) // nil for "" too
	if t == nil {
		a.throttle.Failure(key)
		a.loginDenied(r, "", "unknown SCIM bearer token")
		w.Header().Set("WWW-Authenticate", scimChallenge+`, error="invalid_token"`)
		scimError(w, http.StatusUnauthorized, "", "the bearer token is none of this IdP's SCIM tokens (scim.tokens in the configuration, docs/configuration.md)")
		return ""
	}
	a.throttle.Success(key)
	return "scim:" + audit.Truncate(t.Name)
}
