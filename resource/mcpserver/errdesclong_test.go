package mcpserver_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/internal/errdesc"
	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// TestMCPServer_ErrorDescriptionCutToMaxBytes: a refusal quoting a 20 KB
// value (the token's resource) has its description cut to errdesc.MaxBytes
// with the truncation marker, the same text in the body and in the
// challenge; both carried it whole.
func TestMCPServer_ErrorDescriptionCutToMaxBytes(t *testing.T) {
	e := newEnv(t)
	long := "https://" + strings.Repeat("a", 20<<10) + ".example"
	tok := e.token("issues.read", func(at *authserver.AccessToken) { at.Resource = long })
	req, _ := http.NewRequest(http.MethodPost, e.mcpURL, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+tok)
	r := do(t, req)
	d, _ := r.body["error_description"].(string)
	if r.status != http.StatusUnauthorized || len(d) > errdesc.MaxBytes || !errdesc.Valid(d) || !strings.HasSuffix(d, " bytes]") {
		t.Fatalf("HTTP %d, error_description of %d bytes ending %q, want 401 with at most %d bytes ending in the truncation marker",
			r.status, len(d), d[max(0, len(d)-60):], errdesc.MaxBytes)
	}
	if ch := r.header.Get("WWW-Authenticate"); !strings.Contains(ch, `error_description="`+d+`"`) {
		t.Errorf("WWW-Authenticate of %d bytes, want the body's description", len(ch))
	}
}
