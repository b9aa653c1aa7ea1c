package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServe_TenantsPrintOneIssuerLogEachAndAnswerHealthz: `serve` with
// tenants keeps the contract's one line on stdout (the first tenant's
// issuer, which scripts read), logs every tenant's issuer, and answers
// `healthcheck` at the root /healthz, the default URL's path, as well as
// under each tenant's path.
func TestServe_TenantsPrintOneIssuerLogEachAndAnswerHealthz(t *testing.T) {
	file := tenantsConfig(t)
	ctx, cancel := context.WithCancel(context.Background())
	stdout, logs := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--config", file}, stdout, logs) }()
	stop := func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("serve exited %d", code)
			}
		case <-time.After(10 * time.Second):
			t.Error("serve did not stop")
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for !strings.HasSuffix(stdout.String(), "\n") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	issuer := strings.TrimSpace(stdout.String())
	u, err := url.Parse(issuer)
	if err != nil || u.Path != "/t/acme" {
		stop()
		t.Fatalf("serve printed %q, want the first tenant's issuer (…/t/acme)\n%s", stdout, logs)
	}
	root := u.Scheme + "://" + u.Host
	for _, path := range []string{"/healthz", "/t/acme/healthz", "/t/okta/healthz", "/issuers/acme/healthz"} {
		if code, _, stderr := runCLI(t, "healthcheck", "--url", root+path); code != 0 {
			t.Errorf("healthcheck %s: exit %d %s", path, code, stderr)
		}
	}
	stop()
	if got := stdout.String(); got != issuer+"\n" {
		t.Errorf("stdout %q, want the one issuer line", got)
	}
	for _, path := range []string{"/t/acme", "/t/okta", "/issuers/acme"} {
		if !strings.Contains(logs.String(), "issuer="+root+path+" ") {
			t.Errorf("the log names no tenant with issuer %s:\n%s", root+path, logs)
		}
	}
}

// TestServe_TenantsWithoutStateDirHaveTheirOwnKeys: without --state-dir,
// the RS256 key kept in the user's cache directory is kept per tenant, so
// that no key of one tenant is in another's JWKS (docs/configuration.md, "Tenants": own
// keys, own kids, own JWKS; an okta tenant's RS256 ID-JAGs were signed with
// the key of every tenant's ID tokens), and each tenant finds its own key
// again at the next start.
func TestServe_TenantsWithoutStateDirHaveTheirOwnKeys(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	paths := []string{"/t/acme", "/t/okta", "/issuers/acme", "/t/c1"}
	jwks := func() map[string]string { // key material -> tenant path
		first, _ := startBinary(t, &syncBuffer{}, "serve", "--addr", "127.0.0.1:0", "--config", "../../fixtures/samples/tenants.yaml")
		base := strings.TrimSuffix(first, "/t/acme")
		owner := map[string]string{}
		for _, path := range paths {
			resp, err := http.Get(base + path + "/keys")
			if err != nil {
				t.Fatal(err)
			}
			var set struct {
				Keys []map[string]any `json:"keys"`
			}
			err = json.NewDecoder(resp.Body).Decode(&set)
			resp.Body.Close()
			if err != nil || len(set.Keys) == 0 {
				t.Fatalf("%s/keys: %v, %d keys", path, err, len(set.Keys))
			}
			for _, k := range set.Keys {
				material := fmt.Sprint(k["kty"], k["n"], k["x"], k["y"])
				if other, dup := owner[material]; dup {
					t.Errorf("tenants %s and %s publish the same %v key (kid %v)", other, path, k["alg"], k["kid"])
				}
				owner[material] = path
				if k["kty"] == "RSA" {
					owner["rsa "+path] = material
				}
			}
		}
		return owner
	}
	before, after := jwks(), jwks()
	for _, path := range paths {
		if rsa := before["rsa "+path]; rsa == "" || after["rsa "+path] != rsa {
			t.Errorf("tenant %s's RS256 key changed across starts without --state-dir", path)
		}
	}
}

// TestCheckAndServe_TenantPathsThatCannotBeServedAreRefused: a tenant path
// that the server cannot mount or that breaks its login ("{", a mux
// wildcard that made serve panic at start; ";", which ends the SSO
// cookie's Path; a character outside ASCII) is refused by check and serve
// with the file and line, exit 2, never a panic.
func TestCheckAndServe_TenantPathsThatCannotBeServedAreRefused(t *testing.T) {
	for _, path := range []string{"/t/{x}", "/t/a{", "/t/a;b", "/t/café"} {
		t.Run(path, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "tenants.yaml")
			if err := os.WriteFile(file, []byte("tenants:\n  - id: acme\n  - id: other\n    path: '"+path+"'\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, cmd := range [][]string{{"check", "--config", file}, {"serve", "--addr", "127.0.0.1:0", "--config", file}} {
				// serve of a path it accepts would run until killed.
				ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
				var errb strings.Builder
				c := exec.CommandContext(ctx, xaaIDPBinary(t), cmd...)
				c.Stderr = &errb
				_ = c.Run()
				cancel()
				code, stderr := c.ProcessState.ExitCode(), errb.String()
				if code != exitUsage || !strings.Contains(stderr, file+":4: tenants[1].path:") || strings.Contains(stderr, "panic") {
					t.Errorf("%s: exit %d, want 2 naming %s:4\n%s", cmd[0], code, file, stderr)
				}
			}
		})
	}
}
