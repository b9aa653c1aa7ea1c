package idp_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestRevoke_EmptyBodyIsNotCalledJSON: a revocation's 200 has an empty
// body (RFC 7009 section 2.2: the status says it all), and was sent with
// Content-Type: application/json, which a client that parses a JSON
// answer as its type says (fetch's response.json(), say) failed on: an
// empty body is no JSON document. The 200 now has no Content-Type, and
// Content-Length 0; a refusal is still RFC 6749 section 5.2's JSON.
func TestRevoke_EmptyBodyIsNotCalledJSON(t *testing.T) {
	f := newFixture(t, conformanceConfig(t))
	revoke := func(token, secret string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, f.URL+"/revoke", strings.NewReader(url.Values{"token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("mcp-client", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	for _, tt := range []struct{ name, token string }{
		{"a refresh token", f.alice.RefreshToken()},
		{"an access token", f.bob["access_token"].(string)},
		{"an unknown token", "no-such-token-of-this-idp"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := revoke(tt.token, "s1")
			if resp.StatusCode != http.StatusOK || body != "" || resp.Header.Get("Content-Type") != "" || resp.ContentLength != 0 {
				t.Errorf("HTTP %d, Content-Type %q, Content-Length %d, body %q; want 200 with an empty body and no Content-Type", resp.StatusCode, resp.Header.Get("Content-Type"), resp.ContentLength, body)
			}
		})
	}
	resp, body := f.exchange(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {f.alice.RefreshToken()}}, basic("mcp-client", "s1"))
	checkOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")

	resp, raw := revoke(f.bob.RefreshToken(), "wrong")
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || !strings.Contains(raw, `"invalid_client"`) {
		t.Errorf("a wrong secret: HTTP %d, Content-Type %q, body %s; want 401 invalid_client as JSON", resp.StatusCode, resp.Header.Get("Content-Type"), raw)
	}
}
