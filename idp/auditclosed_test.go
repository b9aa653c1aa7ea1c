package idp_test

import (
	"net/http"
	"testing"
)

// TestToken_AuditLogClosedIsTemporarilyUnavailable: a token request that
// finishes after the audit log has been closed (a stop that gave the
// requests in progress their time and went on) was answered 500
// server_error, "the audit log could not be written". The log is not
// broken: the IdP is stopping. The answer is 503 temporarily_unavailable
// with Retry-After, and still no token without its event.
func TestToken_AuditLogClosedIsTemporarilyUnavailable(t *testing.T) {
	f := newFixture(t, conformanceConfig(t))
	if err := f.Audit.Close(); err != nil {
		t.Fatal(err)
	}
	form := exchangeForm(f.alice.IDToken())
	form.Set("client_id", "mcp-client")
	form.Set("client_secret", "s1")
	resp, body := f.exchange(t, form, nil)
	checkOAuthError(t, resp, body, http.StatusServiceUnavailable, "temporarily_unavailable")
	if resp.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	if _, ok := body["access_token"]; ok {
		t.Errorf("a token without its event: %v", body)
	}
}
