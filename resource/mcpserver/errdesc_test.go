package mcpserver_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/internal/errdesc"
	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// TestMCPServer_ErrorDescriptionInTheRFCSet: a refusal whose description
// quotes a value with a quote, a backslash and a bidi override has it in
// the RFC 6750 section 3 set in the challenge, and the same text in the
// JSON body (RFC 6749 section 5.2): the challenge dropped the characters
// and the body carried them.
func TestMCPServer_ErrorDescriptionInTheRFCSet(t *testing.T) {
	e := newEnv(t)
	tok := e.token("issues.read", func(at *authserver.AccessToken) { at.Resource = "https://other\"x\\y\u202e.example" })
	req, _ := http.NewRequest(http.MethodPost, e.mcpURL, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+tok)
	r := do(t, req)
	want := "aud 'https://otherU+0022xU+005CyU+202E.example' does not include this MCP server"
	d, _ := r.body["error_description"].(string)
	if r.status != http.StatusUnauthorized || r.body["error"] != "invalid_token" || !errdesc.Valid(d) || !strings.Contains(d, want) {
		t.Errorf("HTTP %d %s, want 401 invalid_token whose description has %q", r.status, r.raw, want)
	}
	ch := r.header.Get("WWW-Authenticate")
	if !strings.Contains(ch, `error_description="`+d+`"`) {
		t.Errorf("WWW-Authenticate %q, want the body's description %q", ch, d)
	}
}
