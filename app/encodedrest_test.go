package app_test

import (
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
)

// TestTenants_PercentEncodedTenantKeepsTheRestEncoded: a tenant's path
// with a character percent-encoded (/t/%61cme/...) is served as the plain
// path with the rest of the path as sent: a client_id that is a URL, its
// slashes encoded (%2F) in one segment, names the same client either way.
// Until 2026-12-06 the encoded tenant's request was read decoded whole, so
// the client_id's slashes split it into segments and no route matched, and
// a name with encoded dot segments was redirected to another resource.
func TestTenants_PercentEncodedTenantKeepsTheRestEncoded(t *testing.T) {
	data, err := os.ReadFile("../fixtures/samples/tenants.yaml")
	if err != nil {
		t.Fatal(err)
	}
	store, _ := openTenantsFile(t, data)
	ts, _, _ := startTenantsOf(t, store)
	send := func(method, path, body string) (int, string) {
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
		return resp.StatusCode, string(b)
	}
	const id = "https:%2F%2Fapp.example%2Fclient.json"
	if code, body := send("PUT", "/t/acme/admin/api/clients/"+id, `{"redirect_uris":["http://127.0.0.1/callback"]}`); code != http.StatusCreated {
		t.Fatalf("PUT %s: %d %s", id, code, body)
	}
	for _, path := range []string{"/t/acme/admin/api/clients/" + id, "/t/%61cme/admin/api/clients/" + id} {
		if code, body := send("GET", path, ""); code != http.StatusOK || !strings.Contains(body, `"https://app.example/client.json"`) {
			t.Errorf("GET %s: %d %s, want 200 with the client", path, code, body)
		}
	}
	// Read decoded whole, a user so named was a path with dot segments,
	// cleaned to another resource's: a 307 to DELETE the client desktop.
	if code, body := send("DELETE", "/t/%61cme/admin/api/users/x%2F..%2F..%2Fclients%2Fdesktop", ""); code != http.StatusNotFound {
		t.Errorf("DELETE of user x/../../clients/desktop: %d %s, want 404", code, body)
	}
}
