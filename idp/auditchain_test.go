package idp_test

import (
	"net/http"
	"testing"
)

// TestExchange_AuditRecordsTheIdentityChain: an allowed exchange's audit
// event says which client_id the ID-JAG carries at the MCP server's
// authorization server (the IdP's client is client_id; the mapping is the
// most misunderstood knob, and the authorization server refuses an ID-JAG
// whose client_id is not the client it authenticated) and which subject
// token it came from (an ID token of a login, or a refresh token), so the
// chain login → ID-JAG → access token can be followed in the log.
func TestExchange_AuditRecordsTheIdentityChain(t *testing.T) {
	f := newFixture(t, conformanceConfig(t))
	tests := []struct {
		name        string
		subject     string
		subjectType string
	}{
		{"ID token", f.alice.IDToken(), typeIDToken},
		{"refresh token", f.alice.RefreshToken(), typeRefreshToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.exchange(t, b(tt.subject, set("subject_token_type", tt.subjectType)), basicS1)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("HTTP %d %v", resp.StatusCode, body)
			}
			ev := f.exchangeEvents()[0]
			if ev.ClientID != "mcp-client" || ev.Details["client_id_at_server"] != "mcp-client-at-chat" || ev.Details["subject_token_type"] != tt.subjectType {
				t.Errorf("audit event client_id %q, details %v; want mcp-client, client_id_at_server mcp-client-at-chat and subject_token_type %s",
					ev.ClientID, ev.Details, tt.subjectType)
			}
		})
	}
}
