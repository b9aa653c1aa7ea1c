package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
)

// A tenant's GET of one client or group is the tenant's: its own, without
// the secret, and 404 for another tenant's, as its users and servers.
func TestTenants_GetOneClientAndGroup(t *testing.T) {
	data, err := os.ReadFile("../fixtures/samples/tenants.yaml")
	if err != nil {
		t.Fatal(err)
	}
	store, _ := openTenantsFile(t, data)
	ts, _, _ := startTenantsOf(t, store)
	send := func(method, path, body string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		req.SetBasicAuth("alice", "alice")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := send("GET", "/t/acme/admin/api/clients/desktop", "")
	var c map[string]any
	_ = json.Unmarshal([]byte(body), &c)
	if resp.StatusCode != http.StatusOK || c["client_id"] != "desktop" || c["confidential"] != true ||
		strings.Contains(body, "acme-desktop-secret") || resp.Header.Get("ETag") == "" {
		t.Errorf("acme's client: %d %s", resp.StatusCode, body)
	}
	if resp, body := send("GET", "/t/okta/admin/api/clients/desktop", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("acme's client at okta: %d %s", resp.StatusCode, body)
	}
	if resp, body := send("PUT", "/t/acme/admin/api/groups/ops", `{"description":"Ops"}`); resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT acme's group: %d %s", resp.StatusCode, body)
	}
	resp, body = send("GET", "/t/acme/admin/api/groups/ops", "")
	var g map[string]any
	_ = json.Unmarshal([]byte(body), &g)
	if resp.StatusCode != http.StatusOK || g["description"] != "Ops" || resp.Header.Get("ETag") == "" {
		t.Errorf("acme's group: %d %s", resp.StatusCode, body)
	}
	if resp, body := send("GET", "/t/okta/admin/api/groups/ops", ""); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, `\"ops\"`) {
		t.Errorf("acme's group at okta: %d %s", resp.StatusCode, body)
	}
}
