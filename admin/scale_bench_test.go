package admin_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/xaa-idp/xaa-idp/app"
	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/policy"
	"github.com/xaa-idp/xaa-idp/policy/policytest"
	"github.com/xaa-idp/xaa-idp/push"
)

// companyFile writes policytest.Large(size) to a file, user0 (an admin)
// with the password these tests send, and serves the product on it, as
// `xaa-idp serve --config` does (the Pusher of revocations included).
func companyFile(tb testing.TB, size policytest.Size) (*product, []byte) {
	tb.Helper()
	data := []byte(strings.Replace(string(policytest.Large(size)), "password: user0\n", "password: user0-pw\n", 1))
	dir := tb.TempDir()
	file := filepath.Join(dir, "idp.yaml")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	store, err := policy.OpenStore(file)
	if err != nil {
		tb.Fatal(err)
	}
	// As `xaa-idp serve --config` runs it: with the Pusher of revocations,
	// which compares each new configuration with the one before.
	log, err := audit.Open(audit.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	issuer := "http://" + ts.Listener.Addr().String()
	srv, err := idp.New(idp.Options{Config: store.Config(), Issuer: issuer, Audit: log})
	if err != nil {
		tb.Fatal(err)
	}
	pusher, err := push.New(push.Options{Issuer: issuer, Signer: srv, Audit: log, Config: store.Config(), Now: srv.Now})
	if err != nil {
		tb.Fatal(err)
	}
	ts.Config.Handler = app.New(app.Options{IdP: srv, Store: store, Push: pusher})
	ts.Start()
	stop := sync.OnceFunc(func() {
		ts.Close()
		pusher.Close()
		log.Close()
	})
	tb.Cleanup(stop)
	return &product{base: issuer, file: file, store: store, srv: srv, stop: stop}, data
}

// loopWithFloor runs op once per iteration of b, and after each the floor:
// yaml.v3 parsing the configuration's text into its node tree, what every
// change that keeps the file's comments costs at the least. It reports the
// time of op over that of the floor (x-floor), the two interleaved so
// that a shared machine's swings hit both: a change must stay a small
// multiple of reading the file once, whatever the file's size.
func loopWithFloor(b *testing.B, data []byte, op func(i int)) {
	b.Helper()
	var floor time.Duration
	i := 0
	for b.Loop() {
		i++
		op(i)
		b.StopTimer()
		start := time.Now()
		var n yaml.Node
		if err := yaml.Unmarshal(data, &n); err != nil {
			b.Fatal(err)
		}
		floor += time.Since(start)
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed())/float64(floor), "x-floor")
	b.ReportMetric(float64(floor.Nanoseconds())/float64(b.N), "floor-ns/op")
}

// BenchmarkCompany is the admin API over the configuration of a company
// (policytest.Company: 5,000 users, 500 groups, 300 MCP servers, 200
// clients; 1.3 MB of YAML) in a file: what grows with the configuration.
// Each case reports x-floor, its time over yaml.v3's parse of the file
// (yamlFloor) in the same run: a change must stay a small multiple of
// reading the file once, whatever the file's size.
func BenchmarkCompany(b *testing.B) {
	p, data := companyFile(b, policytest.Company)
	b.Logf("file %d bytes", len(data))
	send := func(b *testing.B, method, path string, body any, want int) {
		resp, out := p.send(b, method, path, "user0", body)
		if resp.StatusCode != want {
			b.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, out)
		}
	}
	b.Run("floor", func(b *testing.B) {
		loopWithFloor(b, data, func(int) {
			var n yaml.Node
			if err := yaml.Unmarshal(data, &n); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("put-user", func(b *testing.B) {
		loopWithFloor(b, data, func(i int) {
			send(b, http.MethodPut, "/admin/api/users/user17", map[string]any{
				"username": "user17", "password": fmt.Sprint("pw", i), "groups": []string{"group3"},
				"claims": map[string]any{"department": "dept1"},
			}, http.StatusOK)
		})
	})
	b.Run("put-server", func(b *testing.B) {
		loopWithFloor(b, data, func(i int) {
			send(b, http.MethodPut, "/admin/api/servers/srv5", map[string]any{
				"id": "srv5", "name": fmt.Sprint("Server five, ", i), "issuer": "https://srv5.example",
				"scopes": []string{"read", "write"}, "clients": map[string]string{"client5": "client5-at-srv5"},
				"access": []any{map[string]any{"groups": []string{"group5"}, "scopes": []string{"read"}}},
			}, http.StatusOK)
		})
	})
	b.Run("put-access", func(b *testing.B) {
		loopWithFloor(b, data, func(i int) {
			send(b, http.MethodPut, "/admin/api/servers/srv6/access", []any{
				map[string]any{"groups": []string{fmt.Sprint("group", i%500)}, "scopes": []string{"read"}},
			}, http.StatusOK)
		})
	})
	b.Run("get-config", func(b *testing.B) {
		loopWithFloor(b, data, func(int) {
			send(b, http.MethodGet, "/admin/api/config", nil, http.StatusOK)
		})
	})
	for _, c := range []struct{ name, path string }{
		{"get-users", "/admin/api/users"},
		{"get-users-100", "/admin/api/users?limit=100&after=user2499"},
		{"get-users-one", "/admin/api/users?user=user2500"},
	} {
		b.Run(c.name, func(b *testing.B) {
			var size int
			loopWithFloor(b, data, func(int) {
				resp, out := p.send(b, http.MethodGet, c.path, "user0", nil)
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("GET %s: %d %.300s", c.path, resp.StatusCode, out)
				}
				size = len(out)
			})
			b.ReportMetric(float64(size), "bytes")
		})
	}
	b.Run("explain", func(b *testing.B) {
		loopWithFloor(b, data, func(int) {
			send(b, http.MethodGet, "/admin/api/explain?user=user250&client=client250&audience=https://srv250.example", nil, http.StatusOK)
		})
	})
	b.Run("reload", func(b *testing.B) {
		loopWithFloor(b, data, func(i int) {
			edited := strings.Replace(string(data), "name: User Number 17\n", fmt.Sprintf("name: User Number 17 (%d)\n", i), 1)
			if err := os.WriteFile(p.file, []byte(edited), 0o600); err != nil {
				b.Fatal(err)
			}
			before := p.store.Version()
			p.store.CheckFile()
			p.store.CheckFile() // a change is loaded once it looks the same twice
			if p.store.Version() == before {
				b.Fatal("the file's change was not loaded")
			}
		})
	})
}

// BenchmarkCompanySCIM is SCIM provisioning over the configuration of a
// company (policytest.Company), as Entra ID and Okta send it: a user
// deactivated, 1,000 members added to a group in one PATCH (and taken
// back), a filter on userName and a page of 100. Each reports x-floor as
// BenchmarkCompany does.
func BenchmarkCompanySCIM(b *testing.B) {
	p, data := companyFile(b, policytest.Company)
	send := func(b *testing.B, method, path, body string, want int) {
		resp, out := p.send(b, method, scimBase+path, "user0", body, "Content-Type", "application/scim+json")
		if resp.StatusCode != want {
			b.Fatalf("%s %s: %d %.300s", method, path, resp.StatusCode, out)
		}
	}
	patch := func(ops string) string {
		return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + ops + `]}`
	}
	b.Run("patch-active", func(b *testing.B) {
		loopWithFloor(b, data, func(i int) {
			send(b, http.MethodPatch, "/Users/"+policy.DefaultSub("user17"),
				patch(fmt.Sprintf(`{"op":"replace","path":"active","value":%t}`, i%2 == 0)), http.StatusOK)
		})
	})
	var added, before []string
	for i := 1000; i < 2000; i++ {
		added = append(added, fmt.Sprintf(`{"value":%q}`, policy.DefaultSub(fmt.Sprint("user", i))))
	}
	for i := range 5000 {
		if g := i % 500; g == 5 || g == 6 || g == 7 {
			before = append(before, fmt.Sprintf(`{"value":%q}`, policy.DefaultSub(fmt.Sprint("user", i))))
		}
	}
	b.Run("group-add-1000", func(b *testing.B) {
		loopWithFloor(b, data, func(i int) {
			op := `{"op":"add","path":"members","value":[` + strings.Join(added, ",") + `]}`
			if i%2 == 0 {
				op = `{"op":"replace","path":"members","value":[` + strings.Join(before, ",") + `]}`
			}
			send(b, http.MethodPatch, "/Groups/group7", patch(op), http.StatusOK)
		})
	})
	b.Run("filter", func(b *testing.B) {
		loopWithFloor(b, data, func(int) {
			send(b, http.MethodGet, `/Users?filter=`+url.QueryEscape(`userName eq "user2500"`), "", http.StatusOK)
		})
	})
	b.Run("page-100", func(b *testing.B) {
		loopWithFloor(b, data, func(int) {
			send(b, http.MethodGet, "/Users?startIndex=2401&count=100", "", http.StatusOK)
		})
	})
}
