package app_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestNoSniffOnEveryAnswer: every answer of the product says
// X-Content-Type-Options: nosniff, not only its HTML pages: the JSON of
// the OAuth endpoints and the admin API quotes what requests sent
// (client_id, redirect_uri), and neither it, the YAML download nor the
// plain text of /healthz and /metrics may be taken by a browser for
// anything but what its Content-Type says (a page, a script).
func TestNoSniffOnEveryAnswer(t *testing.T) {
	issuer := startDemo(t)
	tenants, _, _ := startTenants(t)

	for _, c := range []struct{ method, url string }{
		{"GET", issuer + "/.well-known/openid-configuration"},
		{"GET", issuer + "/keys"},
		{"GET", issuer + "/authorize?client_id=%3Cb%3Ex"},
		{"POST", issuer + "/oauth/token"},
		{"GET", issuer + "/userinfo"},
		{"GET", issuer + "/me/mcp-servers"},
		{"GET", issuer + "/admin/api/config"},
		{"GET", issuer + "/healthz"},
		{"GET", issuer + "/metrics"},
		{"GET", issuer + "/end_session"},
		{"GET", tenants.URL + "/healthz"},
		{"GET", tenants.URL + "/metrics"},
		{"GET", tenants.URL + "/nothing"},
		{"GET", tenants.URL + "/.well-known/oauth-authorization-server/t/acme"},
	} {
		req, _ := http.NewRequest(c.method, c.url, strings.NewReader(""))
		if c.method == "POST" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s %s: %d %s, X-Content-Type-Options %q, want nosniff", c.method, c.url, resp.StatusCode, resp.Header.Get("Content-Type"), got)
		}
	}
}
