package app_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestTenants_RootPageCountsOneTenant: the root page of a file with one
// tenant (a path issuer for the company's one IdP) said "xaa-idp: 1
// tenants".
func TestTenants_RootPageCountsOneTenant(t *testing.T) {
	store, _ := openTenantsFile(t, []byte(`tenants:
  - id: corp
    path: /org/corp
    users: [{username: root, password: root-pw, admin: true}]
`))
	ts, _, _ := startTenantsOf(t, store)
	resp, err := http.Get(ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "<h1>xaa-idp: 1 tenant</h1>") {
		t.Errorf("GET /: %s, want the heading \"xaa-idp: 1 tenant\":\n%s", resp.Status, body)
	}
}
