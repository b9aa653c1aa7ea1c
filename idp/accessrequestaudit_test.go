package idp_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/policy"
)

// TestAudit_AccessRequestRefusedByADenyEntry: a user whom a deny entry of
// the MCP server names asks for access and is refused 403 access_denied;
// the refusal is an access_request event, outcome denied, with the user,
// the server, the client, the scopes asked for and the reason the user was
// told. Until 2026-12-06 it left no event.
func TestAudit_AccessRequestRefusedByADenyEntry(t *testing.T) {
	cfg, err := policy.Parse([]byte(appsConfig), "apps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	at, _ := p.login(t, "mcp-client", "s1", "bob", "bob-pw")["access_token"].(string)
	req, _ := http.NewRequest(http.MethodPost, p.URL+"/me/access-requests", strings.NewReader(`{"server": "hr", "scopes": [], "reason": "payroll"}`))
	req.Header.Set("Authorization", "Bearer "+at)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || body["error"] != "access_denied" {
		t.Fatalf("%d %v, want 403 access_denied", resp.StatusCode, body)
	}
	evs := p.Audit.Query(audit.Filter{Type: audit.TypeAccessRequest})
	if len(evs) != 1 {
		t.Fatalf("access_request events: %+v, want the refusal", evs)
	}
	ev := evs[0]
	if ev.Outcome != audit.Denied || ev.Error != "access_denied" || ev.User != "bob" || ev.Sub != "u-bob" || ev.Server != "hr" ||
		ev.ClientID != "mcp-client" || ev.Admin != "" || strings.ReplaceAll(ev.Reason, `"`, "'") != body["error_description"] {
		t.Errorf("event %+v, want denied, access_denied, bob, hr, mcp-client, no admin, the description as reason", ev)
	}
}
