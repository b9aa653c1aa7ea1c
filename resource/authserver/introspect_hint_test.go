package authserver_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// TestIntrospection_NoCredentialsSaysWhatWorksThere: a request to the
// introspection endpoint without client credentials was told to "send
// client_id alone for a public client", which the same endpoint then
// refuses (RFC 7662 §2.1: the caller must authenticate). The answer names
// only the methods the endpoint takes; the token endpoint, where a public
// client may send its client_id alone, still says so.
func TestIntrospection_NoCredentialsSaysWhatWorksThere(t *testing.T) {
	e := newEnv(t, func(c *authserver.Config) {
		c.ResourceServers = map[string]string{resourceServer: resourceServerSecret}
	})
	token := e.accessToken(t, "issues.read")

	r := e.introspect(t, nil, url.Values{"token": {token}})
	if r.status != 401 || r.str("error") != "invalid_client" {
		t.Fatalf("introspection without credentials: HTTP %d %s, want 401 invalid_client", r.status, r.raw)
	}
	if desc := r.str("error_description"); strings.Contains(desc, "public client") || !strings.Contains(desc, "client_secret_basic") {
		t.Errorf("introspection without credentials: %q; it must name the methods the endpoint accepts, not client_id alone, which it refuses", desc)
	}

	req := grant(e.jag(t, nil))
	req.basic = nil
	tr := e.post(t, req)
	if tr.status != 401 || !strings.Contains(tr.str("error_description"), "client_id alone for a public client") {
		t.Errorf("token request without credentials: HTTP %d %s, want 401 naming client_id alone for a public client", tr.status, tr.raw)
	}
}
