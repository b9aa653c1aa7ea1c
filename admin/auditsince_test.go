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

// TestAdminAPI_AuditSinceNegativeDuration: since=-5m, written as
// journalctl's --since -5m means five minutes ago, counted forward from
// now and answered an empty page with 200, as if nothing had happened in
// the last five minutes. A duration counts back from now: a negative one
// is 400, saying to write 5m, as a bad since is.
func TestAdminAPI_AuditSinceNegativeDuration(t *testing.T) {
	base := start(t)
	resp, body := get(t, base, "/admin/api/audit?since=-5m", "alice", "alice-pw")
	var e map[string]any
	_ = json.Unmarshal(body, &e)
	if desc, _ := e["error_description"].(string); resp.StatusCode != http.StatusBadRequest || e["error"] != "invalid_request" || !strings.Contains(desc, "since=5m") {
		t.Errorf("since=-5m: %d %s, want 400 invalid_request saying since=5m", resp.StatusCode, body)
	}
	var evs []map[string]any
	if resp, body := get(t, base, "/admin/api/audit?since=5m", "alice", "alice-pw"); resp.StatusCode != http.StatusOK || json.Unmarshal(body, &evs) != nil || len(evs) == 0 {
		t.Errorf("since=5m: %d %s, want bob's login", resp.StatusCode, body)
	}
}

// TestAdminAPI_AuditSinceInDays: a week back is since=7d, as an approval's
// expires_in takes 7d and the console offers it; it was 400 (Go's
// durations stop at hours), and -7d says to write 7d as -5m does.
func TestAdminAPI_AuditSinceInDays(t *testing.T) {
	base := start(t)
	var evs []map[string]any
	for _, since := range []string{"7d", "1d12h"} {
		if resp, body := get(t, base, "/admin/api/audit?since="+since, "alice", "alice-pw"); resp.StatusCode != http.StatusOK || json.Unmarshal(body, &evs) != nil || len(evs) == 0 {
			t.Errorf("since=%s: %d %s, want bob's login", since, resp.StatusCode, body)
		}
	}
	resp, body := get(t, base, "/admin/api/audit?since=-7d", "alice", "alice-pw")
	var e map[string]any
	_ = json.Unmarshal(body, &e)
	if desc, _ := e["error_description"].(string); resp.StatusCode != http.StatusBadRequest || !strings.Contains(desc, "since=7d") {
		t.Errorf("since=-7d: %d %s, want 400 saying since=7d", resp.StatusCode, body)
	}
}
