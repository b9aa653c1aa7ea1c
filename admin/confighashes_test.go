package admin_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestAdminAPI_ConfigHidesPasswordHashesAndTokens holds section 4 of the
// contract, GET /admin/api/config: "the running configuration (secrets
// and password hashes removed)". TestAdminAPI_ConfigHidesSecrets holds
// the passwords and client secrets; this one a password_bcrypt hash and a
// SCIM bearer token written in the file.
func TestAdminAPI_ConfigHidesPasswordHashesAndTokens(t *testing.T) {
	const hash = "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"
	base, _ := serveConfig(t, `
scim:
  tokens: [{name: entra, token: scim-token-0123456789abcdef}]
users:
  - {username: alice, password: alice-pw, admin: true}
  - {username: bob, password_bcrypt: "`+hash+`"}
`, "hashes.yaml")
	resp, body := get(t, base, "/admin/api/config", "alice", "alice-pw")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"bob"`) {
		t.Fatalf("status %d, body %s", resp.StatusCode, body)
	}
	for _, secret := range []string{hash, "$2a$", "scim-token-0123456789abcdef"} {
		if strings.Contains(string(body), secret) {
			t.Errorf("the configuration shows %s:\n%s", secret, body)
		}
	}
}
