package authserver_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// TestAuthorize_LoopbackRedirectFollowsTheIdPRule: a loopback redirect URI
// matches on another port as at the IdP (docs/http.md, "/authorize"; RFC 8252 §7.3): only
// an IP literal's port may differ, to a port a listener can have, and the
// path is compared as sent. It used to match :0, :65536 and :080, a
// percent-encoded path equal once decoded, and localhost on any port.
func TestAuthorize_LoopbackRedirectFollowsTheIdPRule(t *testing.T) {
	e := newEnv(t, func(c *authserver.Config) {
		c.RedirectURIs = map[string][]string{confidentialClient: {
			"http://127.0.0.1/callback", "http://[::1]/callback", "http://localhost:8080/callback",
		}}
	})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tt := range []struct {
		uri    string
		follow bool
	}{
		{"http://127.0.0.1/callback", true},
		{"http://127.0.0.1:53682/callback", true},
		{"http://127.0.0.1:65535/callback", true},
		{"http://[::1]:1/callback", true},
		{"http://localhost:8080/callback", true},
		{"http://127.0.0.1:0/callback", false},
		{"http://127.0.0.1:65536/callback", false},
		{"http://127.0.0.1:080/callback", false},
		{"http://127.0.0.1:/callback", false},
		{"http://127.0.0.1:+80/callback", false},
		{"http://127.0.0.1:53682/call%62ack", false},
		{"http://127.0.0.1/call%62ack", false},
		{"http://localhost:9090/callback", false},
		{"http://localhost/callback", false},
		{"https://127.0.0.1:53682/callback", false},
		{"http://127.0.0.1:53682/callback?", false},
		{"http://[::1]:0/callback", false},
	} {
		t.Run(tt.uri, func(t *testing.T) {
			q := url.Values{"client_id": {confidentialClient}, "redirect_uri": {tt.uri}, "state": {"s"}}
			resp, err := client.Get(e.asURL + "/authorize?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if tt.follow {
				if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), tt.uri+"?") {
					t.Errorf("HTTP %d Location %q, want a redirect to %s", resp.StatusCode, resp.Header.Get("Location"), tt.uri)
				}
				return
			}
			var body map[string]string
			_ = json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || body["error"] != "invalid_request" ||
				!strings.Contains(body["error_description"], "is not registered") {
				t.Errorf("HTTP %d Location %q %v, want 400 invalid_request, not registered", resp.StatusCode, resp.Header.Get("Location"), body)
			}
		})
	}
}
