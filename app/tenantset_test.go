package app_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/app"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/policy"
)

// A file changed on disk that removes, adds, renames or moves a tenant
// cannot be what the process serves: each tenant's endpoints, keys and
// state were mounted at the start. Loaded, a removed tenant went on
// signing its users in with the configuration it had (the operator's
// reload said "reloaded") and its admin API's GET /admin/api/config
// failed (a nil configuration: the connection dropped). Such a change is
// refused as an invalid one is, the running configuration kept, and the
// tenant's admin is told to restart.
func TestTenants_FileThatChangesTheTenantsNeedsARestart(t *testing.T) {
	data, err := os.ReadFile("../fixtures/samples/tenants.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := string(data)
	c1 := strings.Index(src, "  - id: c1")
	for _, c := range []struct{ name, file string }{
		{"tenant c1 removed", src[:c1]},
		{"tenant c1 renamed", src[:c1] + strings.Replace(src[c1:], "id: c1", "id: c2", 1)},
		{"tenant c1 moved", src[:c1] + strings.Replace(src[c1:], "path: /t/c1", "path: /t/c1-moved", 1)},
		{"tenant added", src + strings.ReplaceAll(strings.Replace(src[c1:], "id: c1", "id: c3", 1), "/t/c1", "/t/c3")},
		{"tenants taken out", "users: [{username: dana, password: dana, admin: true}]\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			store, file := openTenantsFile(t, data)
			ts, servers, _ := startTenantsOf(t, store)
			if err := os.WriteFile(file, []byte(c.file), 0o600); err != nil {
				t.Fatal(err)
			}
			store.CheckFile()
			store.CheckFile() // a change is loaded once it looks the same twice
			get := func(path string) (int, string) {
				t.Helper()
				req, _ := http.NewRequest(http.MethodGet, ts.URL+"/t/c1/admin/api/"+path, nil)
				req.SetBasicAuth("dana", "dana")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatalf("GET %s: %v", path, err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(b)
			}
			if status, body := get("config"); status != http.StatusOK {
				t.Errorf("c1's configuration: %d %s", status, body)
			}
			if status, body := get("status"); status != http.StatusOK || !strings.Contains(body, "restart xaa-idp") {
				t.Errorf("c1's status: %d %s, want the reload refused, saying to restart xaa-idp", status, body)
			}
			if got := store.Config().Tenant("c1"); got == nil || got.Path != "/t/c1" {
				t.Errorf("the running configuration's c1: %+v, want the one c1 was started with", got)
			}
			if _, err := idpclient.Login(context.Background(), idpclient.LoginOptions{Issuer: servers["c1"].Issuer(), ClientID: "agent", ClientSecret: "c1-agent-secret", Username: "dana", Password: "dana"}); err != nil {
				t.Errorf("c1's login: %v", err)
			}
		})
	}
}

// A single IdP whose file is given tenants: is not one of them: loaded,
// the IdP went on at the base URL with none of its users (they had moved
// into tenants), and the tenants answered 404.
func TestTenants_SingleIdPFileGivenTenantsNeedsARestart(t *testing.T) {
	tenants, err := os.ReadFile("../fixtures/samples/tenants.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "idp.yaml")
	single := "users: [{username: dana, password: dana, admin: true}]\nclients: [{client_id: agent, client_secret: s, redirect_uris: [http://127.0.0.1/callback]}]\n"
	if err := os.WriteFile(file, []byte(single), 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := policy.OpenStore(file)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	issuer := "http://" + ts.Listener.Addr().String()
	srv, err := idp.New(idp.Options{Config: store.Config(), Issuer: issuer})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ts.Config.Handler = app.New(app.Options{IdP: srv, Store: store})
	ts.Start()
	t.Cleanup(ts.Close)
	if err := os.WriteFile(file, tenants, 0o600); err != nil {
		t.Fatal(err)
	}
	store.CheckFile()
	store.CheckFile()
	if _, err := idpclient.Login(context.Background(), idpclient.LoginOptions{Issuer: issuer, ClientID: "agent", ClientSecret: "s", Username: "dana", Password: "dana"}); err != nil {
		t.Errorf("the IdP's login: %v", err)
	}
	req, _ := http.NewRequest(http.MethodGet, issuer+"/admin/api/status", nil)
	req.SetBasicAuth("dana", "dana")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), "restart xaa-idp to serve tenants") {
		t.Errorf("status: %d %s, want the reload refused, saying to restart xaa-idp", resp.StatusCode, b)
	}
}
