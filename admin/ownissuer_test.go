package admin_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestAdminAPI_ExplainRefusesTheIdPsOwnIssuer: the exchange refuses an
// MCP server whose issuer is the IdP's own (an ID-JAG for it is redeemed
// nowhere), and explain, which says what the exchange would answer, said
// allowed.
func TestAdminAPI_ExplainRefusesTheIdPsOwnIssuer(t *testing.T) {
	base, srv := startIdP(t)
	cfg, err := policy.Parse([]byte(strings.ReplaceAll(testConfig, "https://as.files.example", base)), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	srv.SetConfig(cfg)
	q := url.Values{"user": {"alice"}, "client": {"mcp-client"}, "audience": {base}}
	resp, body := get(t, base, "/admin/api/explain?"+q.Encode(), "alice", "alice-pw")
	var e map[string]any
	if err := json.Unmarshal(body, &e); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, body %s", resp.StatusCode, body)
	}
	if desc, _ := e["error_description"].(string); e["allowed"] != false || e["error"] != "invalid_target" || !strings.Contains(desc, "the IdP's own issuer") {
		t.Errorf("explain = %s, want invalid_target: the IdP's own issuer", body)
	}
}
