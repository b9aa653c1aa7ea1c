package admin_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestAdminAPI_AuditSinceWithAnUnencodedOffset: an RFC 3339 time with an
// offset typed into a URL unencoded (since=2026-12-06T10:00:00+01:00)
// reaches the API with a space for its "+", as a query decodes it. The
// answer said the value was a duration with an unknown unit "-"; it says
// to percent-encode the "+", and the encoded time is taken.
func TestAdminAPI_AuditSinceWithAnUnencodedOffset(t *testing.T) {
	base := start(t)
	resp, body := get(t, base, "/admin/api/audit?since=2026-12-06T10:00:00+01:00", "alice", "alice-pw")
	var e map[string]any
	_ = json.Unmarshal(body, &e)
	if desc, _ := e["error_description"].(string); resp.StatusCode != http.StatusBadRequest || !strings.Contains(desc, "%2B") || strings.Contains(desc, "duration \"") {
		t.Errorf("since with an unencoded +: %d %s", resp.StatusCode, body)
	}
	if resp, body := get(t, base, "/admin/api/audit?since=2026-12-06T10:00:00%2B01:00", "alice", "alice-pw"); resp.StatusCode != http.StatusOK {
		t.Errorf("since with %%2B: %d %s", resp.StatusCode, body)
	}
	resp, body = get(t, base, "/admin/api/audit?since=15x", "alice", "alice-pw")
	_ = json.Unmarshal(body, &e)
	if desc, _ := e["error_description"].(string); resp.StatusCode != http.StatusBadRequest || !strings.Contains(desc, "duration") {
		t.Errorf("since=15x: %d %s", resp.StatusCode, body)
	}
}
