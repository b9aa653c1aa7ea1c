package idp_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestRevokeAndIntrospect_RepeatedParameter: a revocation or introspection
// request that sends a parameter twice is a 400 invalid_request naming it
// (RFC 6749 section 3.2: parameters MUST NOT be included more than once),
// and revokes nothing: the presence check read the first token, op's form
// decoder revokes the last.
func TestRevokeAndIntrospect_RepeatedParameter(t *testing.T) {
	p := startConformanceIdP(t)
	first := p.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid")["access_token"].(string)
	second := p.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid")["access_token"].(string)
	post := func(path string, form url.Values) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, p.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("mcp-client", "s1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	for _, path := range []string{"/revoke", "/oauth/introspect"} {
		for _, form := range []url.Values{
			{"token": {first, second}},
			{"token": {first}, "token_type_hint": {"access_token", "refresh_token"}},
		} {
			status, body := post(path, form)
			desc, _ := body["error_description"].(string)
			if status != http.StatusBadRequest || body["error"] != "invalid_request" || !strings.Contains(desc, "more than once") {
				t.Errorf("%s %v: %d %v, want 400 invalid_request naming the repeat", path, form, status, body)
			}
		}
	}
	for _, tok := range []string{first, second} {
		if status, body := post("/oauth/introspect", url.Values{"token": {tok}}); status != http.StatusOK || body["active"] != true {
			t.Errorf("a token after the refused revocations: %d %v, want still active", status, body)
		}
	}
}
