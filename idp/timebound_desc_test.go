package idp_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/policy"
)

// crmReadAt starts an IdP with the configuration yaml, its clock frozen
// at now, signs bob in as mcp-client and asks for an ID-JAG for crm.read.
func crmReadAt(t *testing.T, yaml string, now time.Time) (*http.Response, map[string]any) {
	t.Helper()
	cfg, err := policy.Parse([]byte(yaml), "timebound.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	p.Clock().Freeze()
	p.Clock().Set(now)
	tok := p.login(t, "mcp-client", "s1", "bob", "bob-pw")
	return exchangeAt(t, p, tok.IDToken(), "https://as.crm.example", "https://mcp.crm.example/mcp", "crm.read")
}

// TestExpiredAccessSaysWhenItEnded: once every access entry that gave a
// user a server has expired, the token exchange says when the access
// ended. It named the expiry of the last of those entries in the file,
// which need not be the latest: an entry that ended at 09:00, listed
// before one that ended at 08:00 (an approval for a shorter time added
// after a longer one, or a hand edit), had a user told at 09:30 that
// their access had expired at 08:00, an hour before they lost it.
func TestExpiredAccessSaysWhenItEnded(t *testing.T) {
	resp, body := crmReadAt(t, `
users:
  - {username: bob, password: bob-pw, sub: u-bob}
clients:
  - {client_id: mcp-client, client_secret: s1, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}
mcp_servers:
  - id: crm
    issuer: https://as.crm.example
    resources: [https://mcp.crm.example/mcp]
    scopes: [crm.read, crm.write]
    clients: {mcp-client: mcp-client}
    access:
      - {users: [bob], scopes: [crm.read], expires: "2030-01-01T09:00:00Z"}
      - {users: [bob], scopes: [crm.write], expires: "2030-01-01T08:00:00Z"}
`, time.Date(2030, 1, 1, 9, 30, 0, 0, time.UTC))
	desc, _ := body["error_description"].(string)
	if resp.StatusCode != 400 || body["error"] != "access_denied" || !strings.Contains(desc, "expired at 2030-01-01T09:00:00Z") {
		t.Errorf("HTTP %d %v, want access_denied saying the access expired at 09:00, when the last entry ended", resp.StatusCode, body)
	}
}

// TestExpiredAccessSaysTheInstantToTheFraction: an expires with a
// fraction of a second (docs/configuration.md allows it) was told to the
// client cut to the second, "expired at 08:00:00Z" for an entry that
// matched until 08:00:00.5, which the client could not square with
// exchanges that succeeded at 08:00:00.2.
func TestExpiredAccessSaysTheInstantToTheFraction(t *testing.T) {
	resp, body := crmReadAt(t, strings.Replace(timeBoundConfig, `expires: "2030-01-01T08:00:00Z"}`, `expires: "2030-01-01T08:00:00.5Z"}`, 1),
		time.Date(2030, 1, 1, 8, 0, 1, 0, time.UTC))
	desc, _ := body["error_description"].(string)
	if resp.StatusCode != 400 || !strings.Contains(desc, "expired at 2030-01-01T08:00:00.5Z") {
		t.Errorf("HTTP %d %v, want the access to have expired at 2030-01-01T08:00:00.5Z", resp.StatusCode, body)
	}
}
