package idp

import (
	"encoding/json"
	"fmt"
	"net/http"
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

// writeOAuthError answers with the JSON error. invalid_client carries a
// WWW-Authenticate challenge when the client tried HTTP Basic (RFC 6749 5.2).
func writeOAuthError(w http.ResponseWriter, r *http.Request, e *oauthError) {
	body := map[string]any{"error": e.Code}
	if e.Description != "" {
		body["error_description"] = e.Description
	}
	for k, v := range e.Extra {
		body[k] = v
	}
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	if e.Code == "invalid_client" && r.Header.Get("Authorization") != "" {
		w.Header().Set("WWW-Authenticate", `Basic realm="xaa-idp", error="invalid_client"`)
	}
	writeJSON(w, status, body)
}

// writeJSON writes v as a token-endpoint style response: JSON, never cached
// (RFC 6749 section 5.1).
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
