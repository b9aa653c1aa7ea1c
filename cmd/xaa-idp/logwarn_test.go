package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServe_LogWarnsOfWhatAnOperatorMustFix: a hand edit of the file that
// is not loaded, and a revocation push its receiver did not take, were
// records at INFO among the logins, and the push's said "failed; retry in
// 1s" without why: the reason (connection refused, the receiver's status)
// was in the audit log's details alone. Both are at WARN now, and the
// push's record carries its result.
func TestServe_LogWarnsOfWhatAnOperatorMustFix(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := ln.Addr().String() // closed: nothing answers there
	ln.Close()
	config := func(bobDisabled string) string {
		return fmt.Sprintf(`users:
  - {username: alice, password: alice, admin: true}
  - {username: bob, password: bob%s}
clients: [{client_id: c, client_secret: s, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}]
mcp_servers:
  - id: notes
    issuer: http://127.0.0.1:1
    resources: [http://127.0.0.1:2/mcp]
    scopes: [n]
    events_endpoint: http://%s/events
    clients: {c: c-at-notes}
    access: [{users: [bob], scopes: [n]}]
`, bobDisabled, down)
	}
	file := filepath.Join(t.TempDir(), "idp.yaml")
	write := func(text string) {
		t.Helper()
		if err := os.WriteFile(file+".new", []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(file+".new", file); err != nil {
			t.Fatal(err)
		}
	}
	write(config(""))
	stderr := &syncBuffer{}
	startBinary(t, stderr, "serve", "--addr", "127.0.0.1:0", "--config", file)
	waitFor(t, stderr, "level=INFO msg=serving")

	write(strings.Replace(config(""), "scopes: [n]\n", "scopes: n: [\n", 1))
	waitFor(t, stderr, "level=WARN msg=audit type=config_reload outcome=error")

	write(config(", disabled: true"))
	out := waitFor(t, stderr, "level=WARN msg=audit type=event_push outcome=error")
	line := out[strings.Index(out, "level=WARN msg=audit type=event_push"):]
	line = line[:strings.IndexByte(line, '\n')]
	if !strings.Contains(line, `result="Post \"http://`+down+`/events\": dial tcp `) {
		t.Errorf("the push's record does not say why it failed:\n%s", line)
	}
}
