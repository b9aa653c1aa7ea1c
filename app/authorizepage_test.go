package app_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestTenants_AuthorizeRefusalPage: a tenant's /authorize, and the okta
// persona's /oauth2/v1/authorize, answer a browser refused without a
// redirect with the HTML page (docs/http.md, /authorize), and a client
// with the JSON error.
func TestTenants_AuthorizeRefusalPage(t *testing.T) {
	store, _ := openTenantsFile(t, []byte(`tenants:
  - id: okta
    persona: okta
    users: [{username: alice, password: alice}]
    clients: [{client_id: app, redirect_uris: [http://127.0.0.1/callback]}]
  - id: acme
    users: [{username: alice, password: alice}]
    clients: [{client_id: app, redirect_uris: [http://127.0.0.1/callback]}]
`))
	_, servers, _ := startTenantsOf(t, store)
	for _, u := range []string{servers["okta"].Issuer() + "/oauth2/v1/authorize", servers["acme"].Issuer() + "/authorize"} {
		for _, accept := range []string{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "*/*"} {
			req, _ := http.NewRequest(http.MethodGet, u+"?response_type=code&client_id=app&redirect_uri=https://evil.example/cb", nil)
			req.Header.Set("Accept", accept)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			html := strings.HasPrefix(accept, "text/html")
			if resp.StatusCode != http.StatusBadRequest || strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") != html ||
				strings.Contains(string(body), `<code id="error">invalid_request</code>`) != html {
				t.Errorf("%s, Accept %s: %d %s %s", u, accept, resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
		}
	}
}
