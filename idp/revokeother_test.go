package idp_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestRevoke_AnotherClientsToken: revoking a token issued to another
// client is refused 401 invalid_client (docs/http.md), and that answer is
// RFC 6749 section 5.2's like every other 401 of the endpoint: with a
// Basic challenge (whatever the client tried, RFC 9110 section 15.5.2),
// and Cache-Control: no-store. The token stays live.
func TestRevoke_AnotherClientsToken(t *testing.T) {
	p := startConformanceIdP(t)
	tok := p.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid")["access_token"].(string)
	for _, basic := range []bool{true, false} {
		form := url.Values{"token": {tok}}
		if !basic {
			form.Set("client_id", "other-client")
			form.Set("client_secret", "s2")
		}
		req, _ := http.NewRequest(http.MethodPost, p.URL+"/revoke", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if basic {
			req.SetBasicAuth("other-client", "s2")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Errorf("basic=%v: %d %v, want 401 invalid_client", basic, resp.StatusCode, body)
		}
		if got := resp.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("basic=%v: Cache-Control %q, want no-store", basic, got)
		}
		if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Basic ") {
			t.Errorf("basic=%v: WWW-Authenticate %q, want a Basic challenge (RFC 9110 section 15.5.2)", basic, got)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, p.URL+"/oauth/introspect", strings.NewReader(url.Values{"token": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("mcp-client", "s1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if body["active"] != true {
		t.Errorf("the token after the refused revocations: %v, want still active", body)
	}
}
