package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLI_ExplainAtAClock: explain --clock decides at that time, as a
// server started with serve --clock does: an access entry with expires
// grants before it and no more at it; a time the clock cannot read is bad
// usage.
func TestCLI_ExplainAtAClock(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(file, []byte(`users: [{username: alice, password: alice}]
clients: [{client_id: c, client_secret: s, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}]
mcp_servers:
  - id: notes
    issuer: http://127.0.0.1:9101
    resources: [http://127.0.0.1:9201/mcp]
    scopes: [notes.read]
    clients: {c: c-at-notes}
    access:
      - users: [alice]
        scopes: [notes.read]
        expires: 2030-01-01T08:00:00Z
`), 0o600); err != nil {
		t.Fatal(err)
	}
	explain := func(clock string) (int, string) {
		code, out, stderr := runCLI(t, "explain", "--config", file, "--user", "alice", "--client", "c", "--audience", "notes", "--clock", clock)
		return code, out + stderr
	}
	if code, out := explain("2030-01-01T07:59:59Z"); code != 0 || !strings.Contains(out, "decision: allowed") {
		t.Errorf("before expires: exit %d\n%s", code, out)
	}
	if code, out := explain("2030-01-01T08:00:00Z"); code != 0 || !strings.Contains(out, "refused (access_denied)") {
		t.Errorf("at expires: exit %d\n%s", code, out)
	}
	if code, out := explain("9999-01-01T00:00:00Z"); code != exitUsage || !strings.Contains(out, "--clock") {
		t.Errorf("a time the clock cannot read: exit %d\n%s", code, out)
	}
	if code, out := explain("tomorrow"); code != exitUsage || !strings.Contains(out, "RFC 3339") {
		t.Errorf("not a time: exit %d\n%s", code, out)
	}
}
