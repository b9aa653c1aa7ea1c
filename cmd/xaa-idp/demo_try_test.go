package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDemo_TryCommandWorks: the connect command the demo banner suggests
// works for the configuration it serves (README, demo), also when the
// client's redirect URI is not connect's default http://127.0.0.1/callback.
func TestDemo_TryCommandWorks(t *testing.T) {
	file := oneServerDemoFile(t, "http://127.0.0.1/cb", fmt.Sprintf("http://127.0.0.1:%d", freePort(t)))
	_, stdout := startBinary(t, &syncBuffer{}, "demo", "--addr", "127.0.0.1:0", "--config", file)
	banner := waitFor(t, stdout, "Ctrl-C stops everything.")
	_, try, ok := strings.Cut(banner, "\nTry: ")
	if !ok {
		t.Fatalf("the banner suggests no command:\n%s", banner)
	}
	try, _, _ = strings.Cut(try, "\n")
	// The shell splits the command as a user's would.
	out, err := exec.Command("sh", "-c", `set -- `+try[strings.Index(try, " connect ")+1:]+`; printf '%s\n' "$@"`).Output()
	if err != nil {
		t.Fatalf("sh: %v", err)
	}
	args := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if code, out, stderr := runCLI(t, args...); code != 0 || !strings.Contains(out, "connected") {
		t.Fatalf("%s: exit %d\n%s%s", try, code, out, stderr)
	}
}

// TestDemo_ServesAnIssuerWithATrailingSlash: an MCP server whose issuer
// ends with "/" (as Auth0's do), which check accepts, is served by demo
// too: its authorization server's metadata names the issuer as configured,
// byte for byte (the ID-JAG's aud), its endpoints without a doubled "/",
// and connect gets through.
func TestDemo_ServesAnIssuerWithATrailingSlash(t *testing.T) {
	for _, path := range []string{"/", "/as/"} {
		t.Run(path, func(t *testing.T) {
			issuer := fmt.Sprintf("http://127.0.0.1:%d%s", freePort(t), path)
			file := oneServerDemoFile(t, "http://127.0.0.1/callback", issuer)
			if code, out, stderr := runCLI(t, "check", "--config", file); code != 0 {
				t.Fatalf("check: exit %d\n%s%s", code, out, stderr)
			}
			_, stdout := startBinary(t, &syncBuffer{}, "demo", "--addr", "127.0.0.1:0", "--config", file)
			banner := waitFor(t, stdout, "Ctrl-C stops everything.")
			m := regexp.MustCompile(`connect --issuer '?(http://127\.0\.0\.1:\d+)`).FindStringSubmatch(banner)
			if m == nil {
				t.Fatalf("no connect command in the banner:\n%s", banner)
			}
			idp := m[1]

			u, _ := url.Parse(issuer)
			res, err := http.Get(u.Scheme + "://" + u.Host + "/.well-known/oauth-authorization-server" + strings.TrimSuffix(u.Path, "/"))
			if err != nil {
				t.Fatal(err)
			}
			var meta struct {
				Issuer        string `json:"issuer"`
				TokenEndpoint string `json:"token_endpoint"`
			}
			err = json.NewDecoder(res.Body).Decode(&meta)
			res.Body.Close()
			if err != nil || res.StatusCode != http.StatusOK {
				t.Fatalf("metadata: %d %v", res.StatusCode, err)
			}
			if meta.Issuer != issuer || meta.TokenEndpoint != strings.TrimSuffix(issuer, "/")+"/token" {
				t.Errorf("metadata names issuer %q, token endpoint %q; want %q and its /token", meta.Issuer, meta.TokenEndpoint, issuer)
			}

			code, out, stderr := runCLI(t, "connect", "--issuer", idp, "--client-id", "app", "--client-secret", "app-secret", "--username", "dev", "--password", "dev-pw")
			if code != 0 || !strings.Contains(out, "connected") {
				t.Fatalf("connect: exit %d\n%s%s", code, out, stderr)
			}
		})
	}
}

// oneServerDemoFile writes a configuration of one user (dev), one client (app, with redirect) and
// one MCP server (notes, its authorization server at issuer) and returns its path.
func oneServerDemoFile(t *testing.T, redirect, issuer string) string {
	t.Helper()
	cfg := fmt.Sprintf(`
users:
  - {username: dev, password: dev-pw}
clients:
  - {client_id: app, client_secret: app-secret, redirect_uris: [%q], token_exchange: true}
mcp_servers:
  - id: notes
    issuer: %s
    resources: [http://127.0.0.1:%d/mcp]
    scopes: [notes.read]
    clients: {app: app}
    access: [{users: [dev], scopes: [notes.read]}]
`, redirect, issuer, freePort(t))
	file := filepath.Join(t.TempDir(), "demo.yaml")
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}
