package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServe_ReloadThatChangesTheIssuerNeedsARestart: a file changed on
// disk whose issuer: is not the issuer served cannot be what the process
// serves: its endpoints, discovery and every token's iss are the
// issuer's it started with. It was loaded (GET /admin/api/config showed
// the new issuer while the process served the old one); it is refused as
// a change of the tenants is, saying to restart. With --issuer, which
// overrides the key, the file's issuer: is not the one served and its
// change is loaded.
func TestServe_ReloadThatChangesTheIssuerNeedsARestart(t *testing.T) {
	const users = "users: [{username: alice, password: alice, admin: true}]\n"
	// ADDR is the address served, OTHER another free one: ports picked
	// at run time, not fixed ones another process may hold.
	cases := []struct {
		name, flag, first, next, want string
	}{
		{"the file's issuer changed", "", "issuer: http://ADDR\n", "issuer: http://OTHER\n",
			"restart xaa-idp to serve http://OTHER"},
		{"the file's issuer removed", "", "issuer: http://ADDR\n", "",
			"restart xaa-idp to serve the issuer of its address"},
		{"an issuer added", "", "", "issuer: http://idp.example.com\n",
			"restart xaa-idp to serve http://idp.example.com"},
		{"the issuer served written in", "", "", "issuer: http://ADDR\n", ""},
		{"--issuer overrides the key", "http://ADDR", "issuer: http://OTHER\n", "issuer: http://idp.example.com\n", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
			ports := strings.NewReplacer("ADDR", addr, "OTHER", fmt.Sprintf("127.0.0.1:%d", freePort(t)))
			c.flag, c.first, c.next, c.want = ports.Replace(c.flag), ports.Replace(c.first), ports.Replace(c.next), ports.Replace(c.want)
			file := filepath.Join(t.TempDir(), "idp.yaml")
			write := func(config string) {
				t.Helper()
				tmp := file + ".new"
				if err := os.WriteFile(tmp, []byte(config), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(tmp, file); err != nil {
					t.Fatal(err)
				}
			}
			write(c.first + users)
			args := []string{"serve", "--addr", addr, "--config", file}
			if c.flag != "" {
				args = append(args, "--issuer", c.flag)
			}
			stderr := &syncBuffer{}
			issuer, _ := startBinary(t, stderr, args...)
			issuer = strings.TrimSpace(issuer)
			write(c.next + users + "# changed\n")
			outcome := "type=config_reload outcome=allowed"
			if c.want != "" {
				outcome = "type=config_reload outcome=error"
			}
			if out := waitFor(t, stderr, "type=config_reload"); !strings.Contains(out, outcome) {
				t.Errorf("the reload, want %s:\n%s", outcome, out)
			}
			get := func(path string) string {
				t.Helper()
				req, _ := http.NewRequest(http.MethodGet, issuer+"/admin/api/"+path, nil)
				req.SetBasicAuth("alice", "alice")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return string(b)
			}
			if c.want == "" {
				// The reload is recorded (its config_reload event, and the
				// log line the audit's subscriber writes of it) before it
				// takes effect: the line is no proof that the file is
				// running yet, the configuration served is.
				config := get("config/yaml")
				for deadline := time.Now().Add(time.Minute); !strings.Contains(config, "# changed"); config = get("config/yaml") {
					if time.Now().After(deadline) { // a hang guard, not a timing
						t.Fatalf("the change was not loaded:\n%s", config)
					}
					time.Sleep(20 * time.Millisecond)
				}
				if status := get("status"); strings.Contains(status, "restart xaa-idp") {
					t.Errorf("the change was loaded, but the status says: %s", status)
				}
				return
			}
			status, config := get("status"), get("config/yaml")
			if !strings.Contains(status, c.want) {
				t.Errorf("status %s, want the reload refused, saying %q", status, c.want)
			}
			if strings.Contains(config, "# changed") {
				t.Errorf("GET /admin/api/config/yaml shows the refused file:\n%s", config)
			}
		})
	}
}
