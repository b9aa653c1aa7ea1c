package idp

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/httpjson"
	"github.com/xaa-idp/xaa-idp/internal/replay"
)

// oauthError is an RFC 6749 section 5.2 error response. Extra members such as
// max_age for step-up (draft-ietf-oauth-identity-assertion-authz-grant
// section 9.2, RFC 9470) travel in Extra.
type oauthError struct {
	Code        string
	Description string
	Status      int
	Extra       map[string]any
	// Reason is the full explanation for the audit log; it may name policy
	// details that the client must not see.
	Reason string
	Rule   string
	// Denied audits the refusal as denied (a policy refusal) rather than
	// error.
	Denied bool
	// RetryAfter, when set, is sent as Retry-After (RFC 9110 section
	// 10.2.3).
	RetryAfter time.Duration
}

func (e *oauthError) Error() string { return e.Code + ": " + e.Description }

func errorf(code string, status int, format string, args ...any) *oauthError {
	return &oauthError{Code: code, Status: status, Description: fmt.Sprintf(format, args...)}
}

func invalidRequest(format string, args ...any) *oauthError {
	return errorf("invalid_request", http.StatusBadRequest, format, args...)
}

func invalidClient(format string, args ...any) *oauthError {
	return errorf("invalid_client", http.StatusUnauthorized, format, args...)
}

func invalidGrant(format string, args ...any) *oauthError {
	return errorf("invalid_grant", http.StatusBadRequest, format, args...)
}

// basicChallenge is the WWW-Authenticate of a 401 invalid_client at the
// endpoints where a client authenticates (writeOAuthError, the token
// endpoint's held answer, op's answers at the revocation endpoint).
const basicChallenge = `Basic realm="xaa-idp", error="invalid_client"`

// writeOAuthError answers with the JSON error. A 401 invalid_client carries
// a Basic challenge, whatever the client tried (RFC 6749 section 5.2 asks
// for it when the client tried HTTP Basic; RFC 9110 section 15.5.2, on
// every 401), but at end_session: a browser opens that page from a relying
// party's sign-out link, no client authenticates there, and a Basic
// challenge would open the browser's own password dialog over the answer.
func writeOAuthError(w http.ResponseWriter, r *http.Request, e *oauthError) {
	body := map[string]any{"error": e.Code}
	if e.Description != "" {
		// Descriptions quote what the client sent (an audience, a
		// client_id): the answer must not grow with the request.
		body["error_description"] = wireDescription(e.Description)
	}
	for k, v := range e.Extra {
		body[k] = v
	}
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	if e.Code == "invalid_client" && status == http.StatusUnauthorized && r.URL.Path != pathEndSession && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", basicChallenge)
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(e.RetryAfter.Seconds()))))
	}
	httpjson.Write(w, status, body)
}

// replayRefusal maps a replay.Cache refusal: replayed is the answer to a
// replayed identifier. A cache full of live entries refuses too, rather
// than forget one and reopen its replay window; the request itself is
// sound, so the answer is not invalid_grant or invalid_client, which would
// tell the client its credentials are bad, but temporarily_unavailable
// with a 503 and Retry-After when the soonest entry frees a slot: the
// same answer a client gets from an overloaded IdP, which it retries.
func replayRefusal(err error, replayed *oauthError) *oauthError {
	var full *replay.FullError
	if !errors.As(err, &full) {
		return replayed
	}
	e := errorf("temporarily_unavailable", http.StatusServiceUnavailable,
		"the IdP's replay cache holds %d live entries and takes no more until one expires; retry later", full.Size)
	if full.Owner != "" {
		e = errorf("temporarily_unavailable", http.StatusServiceUnavailable,
			"the IdP's replay cache is half full of its %d entries and holds %d or more live ones of this user (of a metadata document client's assertions: of this client address), its share; retry later", full.Size, full.Share)
	}
	e.RetryAfter = max(full.RetryAfter, time.Second)
	return e
}
