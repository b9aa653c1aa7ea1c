package idp_test

import (
	"net/http"
	"testing"
)

// TestCORS_BrowserClientsReachTheTokenEndpoint: a browser-based client (an
// MCP client in a web page) can discover, fetch keys and exchange tokens
// across origins, without any cookie being honoured.
func TestCORS_BrowserClientsReachTheTokenEndpoint(t *testing.T) {
	p := startConformanceIdP(t)
	for _, path := range []string{"/oauth/token", "/.well-known/openid-configuration", "/keys", "/me/mcp-servers"} {
		req, _ := http.NewRequest(http.MethodOptions, p.URL+path, nil)
		req.Header.Set("Origin", "https://inspector.example")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type, dpop")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
			resp.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("preflight %s: %d %v", path, resp.StatusCode, resp.Header)
		}
	}
	tok := p.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid")
	form := exchangeForm(tok.IDToken())
	form.Set("client_id", "mcp-client")
	form.Set("client_secret", "s1")
	resp, body := p.postToken(t, form, http.Header{"Origin": {"https://inspector.example"}})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("cross-origin exchange: %d %v %v", resp.StatusCode, resp.Header, body)
	}
}
