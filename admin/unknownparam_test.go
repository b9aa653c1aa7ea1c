package admin_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestAdminAPI_UnknownParameterIsRefused: a query parameter the endpoint
// does not know (a misspelt filter, users=alice for user=alice) is
// refused with 400 invalid_request naming it and listing the ones the
// endpoint takes, as a misspelt type is. Before, it was ignored, and the
// answer read as if it had been applied: every event for "alice's", every
// request for status "pending".
func TestAdminAPI_UnknownParameterIsRefused(t *testing.T) {
	base := start(t)
	for _, c := range []struct{ path, name, known string }{
		{"/admin/api/audit?users=alice", "users", "type, user, client, server, outcome, since, until, before, after, limit"},
		{"/admin/api/audit?type=login&Outcome=denied", "Outcome", "type, user, client, server, outcome, since, until, before, after, limit"},
		{"/admin/api/explain?user=alice&client=mcp-client&audience=https://as.files.example&scopes=files.read", "scopes", "user, client, audience, resource, scope, auth_age"},
		{"/admin/api/access-requests?state=pending", "state", "status"},
	} {
		resp, body := get(t, base, c.path, "alice", "alice-pw")
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"invalid_request"`) ||
			!strings.Contains(string(body), `\"`+c.name+`\"`) || !strings.Contains(string(body), c.known) {
			t.Errorf("%s: %d %s, want 400 invalid_request naming %q and listing %s", c.path, resp.StatusCode, body, c.name, c.known)
		}
	}
	// Known names alone still answer.
	for _, path := range []string{
		"/admin/api/audit?type=login&user=bob&client=c&server=s&outcome=allowed&since=1h&limit=5",
		"/admin/api/access-requests?status=pending",
		"/admin/api/access-requests",
	} {
		if resp, body := get(t, base, path, "alice", "alice-pw"); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d %s, want 200", path, resp.StatusCode, body)
		}
	}
	// status given twice could only count once, as an audit filter.
	if resp, body := get(t, base, "/admin/api/access-requests?status=pending&status=denied", "alice", "alice-pw"); resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "status") {
		t.Errorf("status twice: %d %s, want 400 naming status", resp.StatusCode, body)
	}
}
