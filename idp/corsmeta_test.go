package idp_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestMetadataPreflightAllowsMCPProtocolVersion: a browser-based MCP
// client sends MCP-Protocol-Version with its metadata requests; the
// preflight of discovery and the JWKS must allow it, or the browser sends
// nothing.
func TestMetadataPreflightAllowsMCPProtocolVersion(t *testing.T) {
	cfg, err := policy.Parse([]byte(appsConfig), "apps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	for _, path := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration", "/keys"} {
		if !preflightAllows(t, p.URL+path, "mcp-protocol-version") {
			t.Errorf("the preflight of %s does not allow MCP-Protocol-Version", path)
		}
	}
}

// preflightAllows sends a CORS preflight for a GET of url with header and
// reports whether the answer allows it.
func preflightAllows(t *testing.T, url, header string) bool {
	t.Helper()
	req, _ := http.NewRequest(http.MethodOptions, url, nil)
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Access-Control-Request-Method", "GET")
	req.Header.Set("Access-Control-Request-Headers", header)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, v := range resp.Header.Values("Access-Control-Allow-Headers") {
		for _, h := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(h), header) {
				return true
			}
		}
	}
	return false
}
