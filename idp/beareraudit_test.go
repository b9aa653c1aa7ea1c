package idp_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
)

// TestAudit_RefusedBearerTokens: an access token refused at /userinfo,
// /me/mcp-servers or /me/access-requests (unknown, expired, revoked, its
// login ended) is audited: a token event, outcome error, error
// invalid_token, details.endpoint the path, and for a token the IdP
// issued whose user was disabled since its client and user, and reason
// "user disabled" (usergone_bearer_test.go in admin); never the token. A request
// without a token reaches no decision and is not. Until 2026-12-06 none
// was audited.
func TestAudit_RefusedBearerTokens(t *testing.T) {
	p := startConformanceIdP(t)
	at := p.login(t, "mcp-client", "s1", "bob", "bob-pw", "openid")["access_token"].(string)
	// bob is disabled: his access token is refused from now on.
	cfg := loadConfig(t, "testdata/conformance.yaml")
	cfg.User("bob").Disabled = true
	p.SetConfig(cfg)
	for _, path := range []string{"/userinfo", "/me/mcp-servers", "/me/access-requests"} {
		for _, tok := range []string{"not-a-token-of-this-idp", at, ""} {
			n := len(p.Audit.Query(audit.Filter{Type: audit.TypeToken, Limit: 1000}))
			req, _ := http.NewRequest(http.MethodGet, p.URL+path, nil)
			if tok != "" {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_token" {
				t.Fatalf("%s: %d %v, want 401 invalid_token", path, resp.StatusCode, body)
			}
			evs := p.Audit.Query(audit.Filter{Type: audit.TypeToken, Limit: 1000})
			if tok == "" {
				if len(evs) != n {
					t.Errorf("%s without a token: %d events, want none", path, len(evs)-n)
				}
				continue
			}
			if len(evs) != n+1 {
				t.Fatalf("%s: %d events, want 1", path, len(evs)-n)
			}
			ev := evs[0]
			// The disabled user's token has the grants' reason (since
			// 2026-12-06); another, the description the client got.
			reason := body["error_description"]
			if tok == at {
				reason = "user disabled"
			}
			if ev.Outcome != audit.Error || ev.Error != "invalid_token" || ev.Details["endpoint"] != path || ev.Reason != reason {
				t.Errorf("%s: event %+v, want error invalid_token, details.endpoint %s, reason %q", path, ev, path, reason)
			}
			if known := tok == at; known != (ev.ClientID == "mcp-client" && ev.User == "bob" && ev.Sub == "u-bob") {
				t.Errorf("%s: event %+v: client and user of the disabled user's token %v", path, ev, known)
			}
			if line, _ := json.Marshal(ev); strings.Contains(string(line), tok) {
				t.Errorf("%s: the event holds the token: %s", path, line)
			}
		}
	}
}
