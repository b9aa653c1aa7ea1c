package app

import (
	"net/http"
	"strings"

	"github.com/xaa-idp/xaa-idp/admin"
	"github.com/xaa-idp/xaa-idp/internal/httpjson"
)

// StoppingRetryAfter is the Retry-After, in seconds, of RefuseStopping:
// a restarted IdP is usually back within it.
const StoppingRetryAfter = "5"

// stoppingRefusal is what RefuseStopping says.
const stoppingRefusal = "the IdP is stopping and did not finish this request: nothing was done; send it again once the IdP is back (Retry-After)"

// RefuseStopping answers a request that a stopping IdP can no longer
// finish (internal/stopgate): 503 temporarily_unavailable with
// Retry-After, the answer RFC 6749 section 5.2 leaves for a server that
// cannot answer now, as the IdP's other refusals of that kind. SCIM gets
// SCIM's error (RFC 7644 section 3.12), a browser plain text, every other
// caller (the token endpoint, the admin API, the access requests) the
// OAuth JSON error.
func RefuseStopping(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", StoppingRetryAfter)
	// Close the connection: the IdP is going away, and a client that
	// retries at once should not find it half-closed.
	w.Header().Set("Connection", "close")
	switch {
	case admin.IsSCIM(r.URL.Path) || strings.Contains(r.URL.Path, "/admin/api/scim/"):
		admin.SCIMError(w, http.StatusServiceUnavailable, stoppingRefusal)
	case strings.Contains(r.Header.Get("Accept"), "text/html"):
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(stoppingRefusal + "\n"))
	default:
		httpjson.Write(w, http.StatusServiceUnavailable, map[string]string{"error": "temporarily_unavailable", "error_description": stoppingRefusal})
	}
}
