package authserver_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// TestTokenEndpoint_BrowserClientCanReadRetryAfter: a browser-based client
// gets temporarily_unavailable with Retry-After, which says when to come
// back; but a cross-origin page reads only the response headers CORS
// exposes, and Retry-After is not one of the safelisted ones, so it was
// invisible to the client the header is for.
func TestTokenEndpoint_BrowserClientCanReadRetryAfter(t *testing.T) {
	e := newEnv(t, func(c *authserver.Config) { c.ReplayCacheSize = 1 })
	post := func() *http.Response {
		t.Helper()
		form := url.Values{"grant_type": {authserver.GrantTypeJWTBearer}, "assertion": {e.jag(t, nil)}}
		hr, _ := http.NewRequest(http.MethodPost, e.asURL+"/token", strings.NewReader(form.Encode()))
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		hr.Header.Set("Origin", "https://app.example")
		hr.SetBasicAuth(confidentialClient, confidentialSecret)
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post(); resp.StatusCode != http.StatusOK {
		t.Fatalf("first grant: HTTP %d", resp.StatusCode)
	}
	resp := post()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("replay cache full: HTTP %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	exposed := false
	for _, name := range strings.Split(resp.Header.Get("Access-Control-Expose-Headers"), ",") {
		exposed = exposed || strings.EqualFold(strings.TrimSpace(name), "Retry-After")
	}
	if !exposed {
		t.Errorf("Access-Control-Expose-Headers %q does not expose Retry-After: a browser-based client cannot read when to retry", resp.Header.Get("Access-Control-Expose-Headers"))
	}
}

// TestMetadataPreflightAllowsMCPProtocolVersion: a browser-based MCP
// client sends MCP-Protocol-Version with its metadata requests; the
// authorization server's preflight must allow it.
func TestMetadataPreflightAllowsMCPProtocolVersion(t *testing.T) {
	e := newEnv(t)
	req, _ := http.NewRequest(http.MethodOptions, e.asURL+"/.well-known/oauth-authorization-server", nil)
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Access-Control-Request-Method", "GET")
	req.Header.Set("Access-Control-Request-Headers", "mcp-protocol-version")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if allow := resp.Header.Get("Access-Control-Allow-Headers"); !strings.Contains(strings.ToLower(allow), "mcp-protocol-version") {
		t.Errorf("the preflight allows %q, not MCP-Protocol-Version", allow)
	}
}
