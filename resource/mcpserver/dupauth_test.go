package mcpserver_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestMCPServer_TwoAuthorizationHeaders: the MCP server took the first
// Authorization header and ignored the second, so a request carrying a
// good token and another was served or refused by their order. RFC 6750
// section 3.1 names the answer to a request with more than one token:
// 400 invalid_request, whatever they are.
func TestMCPServer_TwoAuthorizationHeaders(t *testing.T) {
	e := newEnv(t)
	good := "Bearer " + e.accessToken("issues.read")
	for _, pair := range [][2]string{{good, "Bearer other"}, {"Bearer other", good}, {good, good}} {
		req, _ := http.NewRequest(http.MethodPost, e.mcpURL, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Add("Authorization", pair[0])
		req.Header.Add("Authorization", pair[1])
		r := do(t, req)
		if r.status != http.StatusBadRequest || r.body["error"] != "invalid_request" {
			t.Errorf("two Authorization headers: HTTP %d %s, want 400 invalid_request", r.status, r.raw)
		}
		if ch := r.header.Get("WWW-Authenticate"); !strings.Contains(ch, `error="invalid_request"`) {
			t.Errorf("WWW-Authenticate %q, want error=\"invalid_request\"", ch)
		}
	}
}
