package authserver

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/errdesc"
	"github.com/xaa-idp/xaa-idp/internal/httpjson"
	"github.com/xaa-idp/xaa-idp/internal/redact"
)

// oauthError is an RFC 6749 §5.2 error response. Every refusal of the token
// endpoint is one: clients only look at the status and the code, people read
// the description, so the description names the check that failed and the
// value that failed it.
type oauthError struct {
	status      int
	code        string
	description string
	// retryAfter is sent as Retry-After with temporarily_unavailable.
	retryAfter time.Duration
}

func (e *oauthError) Error() string { return e.code + ": " + e.description }

// newOAuthError makes the error. A token the description quotes (a client
// that sent its ID-JAG as its client_id, say) keeps only its header, as in
// the IdP's descriptions (redact.Tokens): clients log descriptions.
func newOAuthError(status int, code, format string, args ...any) *oauthError {
	return &oauthError{status: status, code: code, description: redact.Tokens(fmt.Sprintf(format, args...))}
}

// invalidRequest: a parameter is missing, repeated or malformed (RFC 6749 §5.2).
func invalidRequest(format string, args ...any) *oauthError {
	return newOAuthError(http.StatusBadRequest, "invalid_request", format, args...)
}

// invalidClient: client authentication failed; RFC 6749 §5.2 makes it a 401.
func invalidClient(format string, args ...any) *oauthError {
	return newOAuthError(http.StatusUnauthorized, "invalid_client", format, args...)
}

// invalidGrant: the ID-JAG failed one of the RFC 7523 §3 / ID-JAG §4.4.1 checks.
func invalidGrant(format string, args ...any) *oauthError {
	return newOAuthError(http.StatusBadRequest, "invalid_grant", format, args...)
}

// invalidScope: no grantable scope is left, or the ID-JAG carries a scope
// this authorization server does not define.
func invalidScope(format string, args ...any) *oauthError {
	return newOAuthError(http.StatusBadRequest, "invalid_scope", format, args...)
}

// invalidTarget: the request's resource parameter is unusable (RFC 8707 §2).
func invalidTarget(format string, args ...any) *oauthError {
	return newOAuthError(http.StatusBadRequest, "invalid_target", format, args...)
}

// invalidDPoPProof: the request's DPoP proof failed a check of RFC 9449
// §4.3 or was replayed (RFC 9449 §5).
func invalidDPoPProof(format string, args ...any) *oauthError {
	return newOAuthError(http.StatusBadRequest, "invalid_dpop_proof", format, args...)
}

func unsupportedGrantType(format string, args ...any) *oauthError {
	return newOAuthError(http.StatusBadRequest, "unsupported_grant_type", format, args...)
}

// temporarilyUnavailable: the request may succeed later (IdP JWKS unreachable,
// replay cache full). It is a 503 so that no client mistakes it for a verdict
// on its grant.
func temporarilyUnavailable(retryAfter time.Duration, format string, args ...any) *oauthError {
	e := newOAuthError(http.StatusServiceUnavailable, "temporarily_unavailable", format, args...)
	e.retryAfter = retryAfter
	return e
}

// writeOAuthError writes e as the RFC 6749 §5.2 JSON document, its
// description as the IdP sends one (errdesc.Wire: in the §5.2 set and cut
// to errdesc.MaxBytes, for one that quotes a long value the client sent).
// realm names this authorization server in the Basic challenge of
// invalid_client.
func writeOAuthError(w http.ResponseWriter, e *oauthError, realm string) {
	h := w.Header()
	if e.code == "invalid_client" {
		// RFC 6749 §5.2: a 401 carries a challenge for the scheme the
		// client should use; Basic is the one we accept in a header.
		h.Set("WWW-Authenticate", fmt.Sprintf("Basic realm=%q", realm))
	}
	if e.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int(math.Ceil(e.retryAfter.Seconds()))))
	}
	httpjson.Write(w, e.status, struct {
		Error       string `json:"error"`
		Description string `json:"error_description,omitempty"`
	}{e.code, errdesc.Wire(e.description)})
}
