package idptest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/fixtures"
	"github.com/xaa-idp/xaa-idp/idptest"
)

// TestStartDemoServers_AllowIDJAGReuse: the tracker's demo authorization
// server refuses an ID-JAG it redeemed before, unless the configuration
// sets allow_id_jag_reuse for the tracker: then it redeems it again, for
// a new access token, until it expires. A SetConfig changes that at once.
func TestStartDemoServers_AllowIDJAGReuse(t *testing.T) {
	const at = "    scopes: [issues.read, issues.write]\n    clients:\n      mcp-client: mcp-client-at-tracker\n"
	if !strings.Contains(string(fixtures.Demo), at) {
		t.Fatal("the fixture's tracker entry changed; update the test")
	}
	reuse := strings.Replace(string(fixtures.Demo), at, "    scopes: [issues.read, issues.write]\n    allow_id_jag_reuse: true\n    clients:\n      mcp-client: mcp-client-at-tracker\n", 1)
	srv := idptest.New(t, idptest.WithConfigYAML(reuse))
	tracker := srv.StartDemoServers()["tracker"]
	redeem := func(jag string) (int, map[string]any) {
		t.Helper()
		return redeemIDJAG(t, tracker.AuthServer, "mcp-client-at-tracker", "mcp-secret", jag)
	}

	jag := srv.IDJAG("alice", "tracker", "issues.read")
	seen := map[any]bool{}
	for i := range 3 {
		status, body := redeem(jag)
		if status != http.StatusOK || body["access_token"] == nil || seen[body["access_token"]] {
			t.Fatalf("use %d with allow_id_jag_reuse: %d %v, want a new access token", i+1, status, body)
		}
		seen[body["access_token"]] = true
	}
	srv.Clock().Advance(6 * time.Minute) // lifetimes.id_jag 5m, and the 30 s skew
	if status, body := redeem(jag); status != http.StatusBadRequest || body["error"] != "invalid_grant" || !strings.Contains(body["error_description"].(string), "expired") {
		t.Errorf("the expired ID-JAG: %d %v, want 400 invalid_grant", status, body)
	}

	jag = srv.IDJAG("alice", "tracker", "issues.read")
	srv.SetConfig(string(fixtures.Demo))
	if status, body := redeem(jag); status != http.StatusOK {
		t.Fatalf("first use: %d %v", status, body)
	}
	if status, body := redeem(jag); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("reuse without allow_id_jag_reuse: %d %v, want 400 invalid_grant", status, body)
	}
}
