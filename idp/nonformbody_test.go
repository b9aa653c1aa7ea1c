package idp_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestIntrospectRevoke_NonFormBody: introspection and revocation take
// their parameters as a form (RFC 7662 section 2.1, RFC 7009 section 2.1).
// A body of another type is refused 400 invalid_request naming its type,
// as at the token endpoint, before anything is revoked: until 2026-12-06
// a JSON body was read as no parameters at all, and its client was told
// "token is missing" (with Basic) or "no client authentication" (with its
// client_id and secret in the JSON), which sent it looking for the wrong
// fault. The token stays live.
func TestIntrospectRevoke_NonFormBody(t *testing.T) {
	p := startConformanceIdP(t)
	tok := p.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid")["access_token"].(string)
	for _, path := range []string{"/oauth/introspect", "/revoke"} {
		for _, c := range []struct {
			ct, body string
			basic    bool
		}{
			{"application/json", `{"token":"` + tok + `"}`, true},
			{"application/json", `{"token":"` + tok + `","client_id":"mcp-client","client_secret":"s1"}`, false},
			{"text/plain", "token=" + tok, true},
		} {
			req, _ := http.NewRequest(http.MethodPost, p.URL+path, strings.NewReader(c.body))
			req.Header.Set("Content-Type", c.ct)
			if c.basic {
				req.SetBasicAuth("mcp-client", "s1")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			desc, _ := body["error_description"].(string)
			if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_request" ||
				!strings.Contains(desc, "application/x-www-form-urlencoded") || !strings.Contains(desc, "'"+c.ct+"'") {
				t.Errorf("%s with a %s body (basic=%v): %d %v, want 400 invalid_request naming the form type and %q", path, c.ct, c.basic, resp.StatusCode, body, c.ct)
			}
			if got := resp.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("%s with a %s body: Cache-Control %q, want no-store", path, c.ct, got)
			}
		}
	}
	if info := p.userinfo(t, tok); info["sub"] != "u-alice" {
		t.Errorf("userinfo with the token after the refused revocations: %v, want alice's claims (still live)", info)
	}
}
