package idp_test

import (
	"net/http"
	"testing"
)

// TestCORS_PreflightNamesTheEndpointsMethods: a CORS preflight is answered
// with the methods the endpoint takes (and OPTIONS), as its 405's Allow
// names them: until 2026-12-06 every endpoint's preflight allowed GET,
// POST, DELETE and OPTIONS, DELETE at endpoints that take it nowhere and
// POST at the read-only discovery and keys.
func TestCORS_PreflightNamesTheEndpointsMethods(t *testing.T) {
	p := startConformanceIdP(t)
	for path, want := range map[string]string{
		"/.well-known/openid-configuration":       "GET, HEAD, OPTIONS",
		"/.well-known/oauth-authorization-server": "GET, HEAD, OPTIONS",
		"/keys":               "GET, HEAD, OPTIONS",
		"/oauth/token":        "POST, OPTIONS",
		"/userinfo":           "GET, HEAD, POST, OPTIONS",
		"/revoke":             "POST, OPTIONS",
		"/me/mcp-servers":     "GET, HEAD, OPTIONS",
		"/me/access-requests": "GET, HEAD, POST, OPTIONS",
	} {
		req, _ := http.NewRequest(http.MethodOptions, p.URL+path, nil)
		req.Header.Set("Origin", "https://inspector.example")
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Methods"); resp.StatusCode != http.StatusNoContent || got != want {
			t.Errorf("preflight %s: %d, Access-Control-Allow-Methods %q, want 204 with %q", path, resp.StatusCode, got, want)
		}
	}
}
