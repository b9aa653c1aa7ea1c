package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
)

// A tenant's SCIM is the tenant's: its admin provisions its users only,
// with locations under its path; another tenant's admin (whose username
// and password are valid there) neither sees nor changes them.
func TestTenants_SCIMIsTheTenants(t *testing.T) {
	data, err := os.ReadFile("../fixtures/samples/tenants.yaml")
	if err != nil {
		t.Fatal(err)
	}
	store, file := openTenantsFile(t, data)
	ts, _, _ := startTenantsOf(t, store)
	send := func(method, path, user, body string) (*http.Response, map[string]any) {
		t.Helper()
		var r io.Reader
		if body != "" {
			r = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, ts.URL+path, r)
		req.SetBasicAuth(user, user)
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp, m
	}
	resp, u := send("POST", "/t/acme/admin/api/scim/v2/Users", "alice", `{"userName":"zed","password":"zed-pw-123"}`)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Location") != ts.URL+"/t/acme/admin/api/scim/v2/Users/u-zed" {
		t.Fatalf("POST as acme's admin: %d %s %v", resp.StatusCode, resp.Header.Get("Location"), u)
	}
	if store.Config().Tenant("acme").User("zed") == nil || store.Config().Tenant("okta").User("zed") != nil {
		t.Error("zed is not acme's alone")
	}
	// okta's alice, a valid admin of okta, sees no zed there.
	resp, list := send("GET", "/t/okta/admin/api/scim/v2/Users?filter=userName%20eq%20%22zed%22", "alice", "")
	if resp.StatusCode != http.StatusOK || list["totalResults"] != 0.0 {
		t.Errorf("okta's list: %d %v", resp.StatusCode, list)
	}
	if resp, _ := send("PATCH", "/t/okta/admin/api/scim/v2/Users/u-zed", "alice", `{"Operations":[{"op":"replace","path":"active","value":false}]}`); resp.StatusCode != http.StatusNotFound {
		t.Errorf("okta's admin patching acme's user: %d", resp.StatusCode)
	}
	// c1's admin is nobody at acme.
	if resp, _ := send("GET", "/t/acme/admin/api/scim/v2/Users", "dana", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("c1's admin at acme: %d", resp.StatusCode)
	}
	if resp, _ := send("DELETE", "/t/acme/admin/api/scim/v2/Users/u-zed", "dana", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("c1's admin deleting at acme: %d", resp.StatusCode)
	}
	if store.Config().Tenant("acme").User("zed") == nil {
		t.Error("zed is gone")
	}
	on, _ := os.ReadFile(file)
	if strings.Count(string(on), "username: zed") != 1 {
		t.Errorf("the file does not hold zed once:\n%s", on)
	}
}

// A tenant's SCIM bearer token (scim.tokens) is the tenant's: it
// provisions under that tenant's path, and is refused under another's.
func TestTenants_SCIMBearerTokenIsTheTenants(t *testing.T) {
	yaml := `tenants:
  - id: acme
    users:
      - {username: alice, password: alice-pw, admin: true}
    scim:
      tokens:
        - {name: entra, token: acme-token-0123456789abcdef}
  - id: beta
    users:
      - {username: alice, password: alice-pw, admin: true}
    scim:
      tokens:
        - {name: entra, token: beta-token-0123456789abcdef}
`
	store, _ := openTenantsFile(t, []byte(yaml))
	ts, _, _ := startTenantsOf(t, store)
	send := func(method, path, token, body string) int {
		t.Helper()
		var r io.Reader
		if body != "" {
			r = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, ts.URL+path, r)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := send("POST", "/t/acme/admin/api/scim/v2/Users", "acme-token-0123456789abcdef", `{"userName":"zed"}`); got != http.StatusCreated {
		t.Fatalf("POST with acme's token at acme: %d", got)
	}
	if got := send("GET", "/t/beta/admin/api/scim/v2/Users", "acme-token-0123456789abcdef", ""); got != http.StatusUnauthorized {
		t.Errorf("acme's token at beta: %d", got)
	}
	if got := send("POST", "/t/beta/admin/api/scim/v2/Users", "acme-token-0123456789abcdef", `{"userName":"zed"}`); got != http.StatusUnauthorized {
		t.Errorf("acme's token creating at beta: %d", got)
	}
	if got := send("GET", "/t/beta/admin/api/scim/v2/Users", "beta-token-0123456789abcdef", ""); got != http.StatusOK {
		t.Errorf("beta's token at beta: %d", got)
	}
	if store.Config().Tenant("beta").User("zed") != nil || store.Config().Tenant("acme").User("zed") == nil {
		t.Error("zed is not acme's alone")
	}
}

// A tenant's SCIM bearer token is the tenant's (docs/configuration.md,
// "scim"): it provisions its tenant, and another tenant, or the rest of
// its own tenant's admin API, answers it 401.
func TestTenants_SCIMTokenIsTheTenants(t *testing.T) {
	data, err := os.ReadFile("../fixtures/samples/tenants.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const token = "acme-entra-token-0123456789abcdef"
	yaml := strings.Replace(string(data), "    path: /t/acme\n", "    path: /t/acme\n    scim:\n      tokens:\n        - name: entra\n          token: "+token+"\n", 1)
	if yaml == string(data) {
		t.Fatal("the sample's acme tenant has no path: line to add the token under")
	}
	store, _ := openTenantsFile(t, []byte(yaml))
	ts, _, _ := startTenantsOf(t, store)
	get := func(path string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", ts.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get("/t/acme/admin/api/scim/v2/Users"); got != http.StatusOK {
		t.Fatalf("acme's token at acme's SCIM: %d", got)
	}
	for _, path := range []string{"/t/okta/admin/api/scim/v2/Users", "/t/c1/admin/api/scim/v2/Users", "/t/acme/admin/api/users", "/t/acme/admin/api/config"} {
		if got := get(path); got != http.StatusUnauthorized {
			t.Errorf("acme's token at %s: %d, want 401", path, got)
		}
	}
}
