package admin_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestSCIM_401SaysBothSchemes: SCIM takes an admin's HTTP Basic and a
// bearer token of scim.tokens (docs/http.md, SCIM provisioning), and its
// 401 offers both challenges; its words asked for HTTP Basic alone, which
// sent an Entra or Okta "HTTP Header" admin to look for a password. The
// rest of the admin API, which refuses a bearer token, still asks for
// HTTP Basic alone.
func TestSCIM_401SaysBothSchemes(t *testing.T) {
	p := editableYAML(t, scimTokens())
	wrong := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:wrong"))
	for _, c := range []struct {
		what, path string
		header     []string
		bearer     bool
	}{
		{"SCIM without credentials", scimBase + "/Users", nil, true},
		{"SCIM with a wrong password", scimBase + "/Users", []string{"Authorization", wrong}, true},
		{"the admin API without credentials", "/admin/api/users", nil, false},
	} {
		resp, body := p.send(t, http.MethodGet, c.path, "", nil, c.header...)
		var e struct {
			Detail      string `json:"detail"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(body, &e)
		msg := e.Detail + e.Description
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(msg, "HTTP Basic") || strings.Contains(msg, "Bearer") != c.bearer {
			t.Errorf("%s: %d %q, want 401 naming HTTP Basic, and a bearer token: %v", c.what, resp.StatusCode, msg, c.bearer)
		}
	}
}
