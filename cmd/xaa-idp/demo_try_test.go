package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemo_TryCommandWorks: the connect command the demo banner suggests
// works for the configuration it serves (README, demo), also when the
// client's redirect URI is not connect's default http://127.0.0.1/callback.
func TestDemo_TryCommandWorks(t *testing.T) {
	cfg := fmt.Sprintf(`
users:
  - {username: dev, password: dev-pw}
clients:
  - {client_id: app, client_secret: app-secret, redirect_uris: ["http://127.0.0.1/cb"], token_exchange: true}
mcp_servers:
  - id: notes
    issuer: http://127.0.0.1:%d
    resources: [http://127.0.0.1:%d/mcp]
    scopes: [notes.read]
    clients: {app: app}
    access: [{users: [dev], scopes: [notes.read]}]
`, freePort(t), freePort(t))
	file := filepath.Join(t.TempDir(), "try.yaml")
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
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
