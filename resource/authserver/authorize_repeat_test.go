package authserver_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// TestAuthorize_RefusesARepeatedParameter: a parameter of an authorization
// request may not repeat (RFC 6749 §3.1), and one that decides where the
// error goes must not be guessed at (§4.1.2.1: no redirect on an invalid
// redirect_uri or client_id), so a repeat gets the 400 JSON error, as at
// the IdP's /authorize. The server used to take the first value and
// redirect, whatever the second said.
func TestAuthorize_RefusesARepeatedParameter(t *testing.T) {
	e := newEnv(t, func(c *authserver.Config) {
		c.RedirectURIs = map[string][]string{confidentialClient: {"http://127.0.0.1/callback"}}
	})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	good := "client_id=" + url.QueryEscape(confidentialClient) + "&redirect_uri=" + url.QueryEscape("http://127.0.0.1/callback")
	for name, query := range map[string]string{
		"redirect_uri": good + "&redirect_uri=" + url.QueryEscape("https://evil.example/cb") + "&state=s",
		"client_id":    good + "&client_id=other&state=s",
		"state":        good + "&state=a&state=b",
	} {
		t.Run(name, func(t *testing.T) {
			resp, err := client.Get(e.asURL + "/authorize?" + query)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]string
			_ = json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || body["error"] != "invalid_request" ||
				!strings.Contains(body["error_description"], name) || resp.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("HTTP %d Location %q %v, want 400 invalid_request naming %s", resp.StatusCode, resp.Header.Get("Location"), body, name)
			}
		})
	}
	// The same request sent once is still answered by a redirect, and so
	// is one with repeated resource parameters (RFC 8707 §2).
	for _, query := range []string{good + "&state=s", good + "&resource=a&resource=b"} {
		resp, err := client.Get(e.asURL + "/authorize?" + query)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), "http://127.0.0.1/callback?") {
			t.Errorf("%s: HTTP %d Location %q, want a redirect to the callback", query, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}
