package authserver_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// TestAuthorize_RefusesARedirectURIWithAFragment: a redirection URI must
// not have a fragment (RFC 6749 §3.1.2), so one that has is refused with
// the 400 JSON error of any unregistered URI, never followed: the loopback
// match on any port (RFC 8252 §7.3) used to ignore the fragment and send
// the error to the URI with its fragment kept.
func TestAuthorize_RefusesARedirectURIWithAFragment(t *testing.T) {
	e := newEnv(t, func(c *authserver.Config) {
		c.RedirectURIs = map[string][]string{confidentialClient: {"http://127.0.0.1/callback", "https://app.example/cb"}}
	})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, uri := range []string{
		"http://127.0.0.1:53682/callback#frag",
		"http://127.0.0.1/callback#x",
		"http://127.0.0.1/callback#",
		"http://127.0.0.1:53682/callback#",
		"https://app.example/cb#x",
	} {
		t.Run(uri, func(t *testing.T) {
			q := url.Values{"response_type": {"code"}, "client_id": {confidentialClient}, "redirect_uri": {uri}, "state": {"s"}}
			resp, err := client.Get(e.asURL + "/authorize?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]string
			_ = json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || body["error"] != "invalid_request" ||
				!strings.Contains(body["error_description"], "fragment") {
				t.Fatalf("HTTP %d Location %q %v, want 400 invalid_request naming the fragment", resp.StatusCode, resp.Header.Get("Location"), body)
			}
		})
	}
	// The same URIs without the fragment are still followed.
	for _, uri := range []string{"http://127.0.0.1:53682/callback", "http://127.0.0.1/callback"} {
		resp, err := client.Get(e.asURL + "/authorize?" + url.Values{"client_id": {confidentialClient}, "redirect_uri": {uri}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), uri+"?") {
			t.Errorf("%s: HTTP %d Location %q", uri, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

// TestNew_RefusesARedirectURIWithAFragment: a registration cannot hold a
// redirection URI with a fragment (RFC 6749 §3.1.2), at New or at Update.
func TestNew_RefusesARedirectURIWithAFragment(t *testing.T) {
	uris := map[string][]string{confidentialClient: {"http://127.0.0.1/callback#x"}}
	_, err := authserver.New(authserver.Config{
		Issuer: "http://127.0.0.1:1", IdPIssuer: "http://127.0.0.1:2", Resources: []string{"http://127.0.0.1:3/mcp"},
		Clients: map[string]string{confidentialClient: "s"}, RedirectURIs: uris,
	})
	if err == nil || !strings.Contains(err.Error(), "fragment") || !strings.Contains(err.Error(), confidentialClient) {
		t.Errorf("New: %v, want an error naming the client and the fragment", err)
	}
	e := newEnv(t)
	err = e.as.Update(authserver.Registration{
		TrustedIssuers: []authserver.TrustedIssuer{{Issuer: e.idp.issuer, JWKSURL: e.idp.jwksURL()}},
		Clients:        map[string]string{confidentialClient: "s"}, RedirectURIs: uris,
	})
	if err == nil || !strings.Contains(err.Error(), "fragment") {
		t.Errorf("Update: %v, want an error naming the fragment", err)
	}
}
