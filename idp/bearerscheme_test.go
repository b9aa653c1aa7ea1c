package idp_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestBearerScheme_AnyCase: the authentication scheme is case-insensitive
// (RFC 7235 section 2.1, RFC 6750 section 2.1), so "bearer" and "BEARER"
// work wherever the IdP takes the access token of a login, as they do at
// /userinfo.
func TestBearerScheme_AnyCase(t *testing.T) {
	cfg, err := policy.Parse([]byte(appsConfig), "apps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	at, _ := p.login(t, "mcp-client", "s1", "bob", "bob-pw")["access_token"].(string)
	for _, scheme := range []string{"Bearer", "bearer", "BEARER"} {
		for _, c := range []struct{ method, path, body string }{
			{http.MethodGet, "/userinfo", ""},
			{http.MethodGet, "/me/mcp-servers", ""},
			{http.MethodGet, "/me/access-requests", ""},
			{http.MethodPost, "/me/access-requests", `{"server": "wiki", "scopes": ["wiki.read"]}`},
		} {
			req, _ := http.NewRequest(c.method, p.URL+c.path, strings.NewReader(c.body))
			req.Header.Set("Authorization", scheme+" "+at)
			if c.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode >= 300 && resp.StatusCode != http.StatusConflict {
				t.Errorf("%s %s with %q: %d, want success", c.method, c.path, scheme, resp.StatusCode)
			}
		}
	}
}
