package idp_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
)

// TestAudit_AuthorizeRefusalsOfConfiguredClients: an authorization
// request refused before the login page, without a redirect (an unknown
// client_id, a redirect_uri not registered, none), is audited as a
// metadata document client's is: a login event with the client_id as
// sent, the error and the reason. Until 2026-12-06 only a metadata
// document client's refusal was, and a configured client's left none.
func TestAudit_AuthorizeRefusalsOfConfiguredClients(t *testing.T) {
	p := startConformanceIdP(t)
	rows := []struct {
		name, client, redirect, code string
	}{
		{"unknown client", "nobody", "http://127.0.0.1/callback", "invalid_client"},
		{"redirect_uri not registered", "mcp-client", "https://evil.example/cb", "invalid_request"},
		{"no redirect_uri", "mcp-client", "", "invalid_request"},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			q := url.Values{"response_type": {"code"}, "client_id": {r.client}, "scope": {"openid"}, "state": {"s"}}
			if r.redirect != "" {
				q.Set("redirect_uri", r.redirect)
			}
			before := len(p.Audit.Query(audit.Filter{Type: audit.TypeLogin, Client: r.client, Limit: 1000}))
			resp, err := http.Get(p.URL + "/authorize?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || body["error"] != r.code {
				t.Fatalf("%d %v, want 400 %s", resp.StatusCode, body, r.code)
			}
			evs := p.Audit.Query(audit.Filter{Type: audit.TypeLogin, Client: r.client, Limit: 1000})
			if len(evs) != before+1 {
				t.Fatalf("login events of client %s: %d, want %d (one for the refusal)", r.client, len(evs), before+1)
			}
			ev := evs[0]
			if ev.Outcome != audit.Error || ev.Error != r.code || strings.ReplaceAll(ev.Reason, `"`, "'") != body["error_description"] {
				t.Errorf("event %+v, want outcome error, error %s, the description as reason", ev, r.code)
			}
		})
	}
}
