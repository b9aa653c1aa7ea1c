package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDemo_ConfigurationErrorsNameFileAndLine: what demo alone refuses in a
// configuration that check accepts (a server it cannot serve on loopback,
// two tenants mapping one authorization server's subjects two ways) names the
// file and line to change, as every configuration error does (docs/configuration.md,
// "Validation"), and exits 2.
func TestDemo_ConfigurationErrorsNameFileAndLine(t *testing.T) {
	tests := []struct {
		name, config, wantLine string
	}{
		{"not loopback", `users: [{username: alice, password: alice}]
clients: [{client_id: c, client_secret: s, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}]
mcp_servers:
  - id: notes
    issuer: https://as.notes.example
    resources: [https://mcp.notes.example/mcp]
    scopes: [notes.read]
    clients: {c: c-at-notes}
`, ":5: "},
		{"two subject mappings for one server", `tenants:
  - id: a
    users: [{username: alice, password: alice}]
    clients: [{client_id: c, client_secret: s, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}]
    mcp_servers:
      - {id: notes, issuer: http://127.0.0.1:1, resources: [http://127.0.0.1:2/mcp], scopes: [n], clients: {c: c-at-notes}}
  - id: b
    users: [{username: bob, password: bob, email: bob@b.example}]
    clients: [{client_id: c, client_secret: s, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}]
    mcp_servers:
      - id: notes
        issuer: http://127.0.0.1:1
        resources: [http://127.0.0.1:2/mcp]
        scopes: [n]
        clients: {c: c-at-notes}
        subject: email
`, ":16: "},
		// The value that disagrees is the one given: here the first
		// tenant's, the second leaving the key to its default.
		{"subject given only by the first tenant", `tenants:
  - id: a
    users: [{username: alice, password: alice, email: alice@a.example}]
    clients: [{client_id: c, client_secret: s, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}]
    mcp_servers:
      - id: notes
        issuer: http://127.0.0.1:1
        resources: [http://127.0.0.1:2/mcp]
        scopes: [n]
        clients: {c: c-at-notes}
        subject: email
  - id: b
    users: [{username: bob, password: bob}]
    clients: [{client_id: c, client_secret: s, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}]
    mcp_servers:
      - {id: notes, issuer: http://127.0.0.1:1, resources: [http://127.0.0.1:2/mcp], scopes: [n], clients: {c: c-at-notes}}
`, ":11: "},
		{"allow_id_jag_reuse given only by the first tenant", `tenants:
  - id: a
    users: [{username: alice, password: alice}]
    clients: [{client_id: c, client_secret: s, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}]
    mcp_servers:
      - id: notes
        issuer: http://127.0.0.1:1
        resources: [http://127.0.0.1:2/mcp]
        scopes: [n]
        clients: {c: c-at-notes}
        allow_id_jag_reuse: true
  - id: b
    users: [{username: bob, password: bob}]
    clients: [{client_id: c, client_secret: s, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}]
    mcp_servers:
      - {id: notes, issuer: http://127.0.0.1:1, resources: [http://127.0.0.1:2/mcp], scopes: [n], clients: {c: c-at-notes}}
`, ":11: "},
		{"allow_id_jag_reuse given by both tenants", `tenants:
  - id: a
    users: [{username: alice, password: alice}]
    clients: [{client_id: c, client_secret: s, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}]
    mcp_servers:
      - {id: notes, issuer: http://127.0.0.1:1, resources: [http://127.0.0.1:2/mcp], scopes: [n], clients: {c: c-at-notes}, allow_id_jag_reuse: false}
  - id: b
    users: [{username: bob, password: bob}]
    clients: [{client_id: c, client_secret: s, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}]
    mcp_servers:
      - id: notes
        issuer: http://127.0.0.1:1
        resources: [http://127.0.0.1:2/mcp]
        scopes: [n]
        clients: {c: c-at-notes}
        allow_id_jag_reuse: true
`, ":16: "},
		// One authorization server (the demo's key ignores the "/") has
		// one issuer: the ID-JAGs of the tenant spelling it the other way
		// would all be refused for their aud.
		{"issuer with and without a trailing slash", `tenants:
  - id: a
    users: [{username: alice, password: alice}]
    clients: [{client_id: c, client_secret: s, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}]
    mcp_servers:
      - {id: notes, issuer: http://127.0.0.1:1, resources: [http://127.0.0.1:2/mcp], scopes: [n], clients: {c: c-at-notes}}
  - id: b
    users: [{username: bob, password: bob}]
    clients: [{client_id: c, client_secret: s, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}]
    mcp_servers:
      - id: notes
        issuer: http://127.0.0.1:1/
        resources: [http://127.0.0.1:2/mcp]
        scopes: [n]
        clients: {c: c-at-notes}
`, ":12: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "demo.yaml")
			if err := os.WriteFile(file, []byte(tt.config), 0o600); err != nil {
				t.Fatal(err)
			}
			if code, _, stderr := runCLI(t, "check", "--config", file); code != 0 {
				t.Fatalf("check: exit %d: %s", code, stderr)
			}
			// A demo that accepted the file would serve until stopped: a
			// regression fails after a while rather than hanging the run.
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			var errb bytes.Buffer
			code := run(ctx, []string{"demo", "--addr", "127.0.0.1:0", "--config", file}, io.Discard, &errb)
			stderr := errb.String()
			if ctx.Err() != nil {
				t.Fatalf("demo accepted the file and served until stopped: %s", stderr)
			}
			if code != 2 || !strings.Contains(stderr, file+tt.wantLine) {
				t.Errorf("demo: exit %d, stderr %q; want 2 and %q", code, stderr, file+tt.wantLine)
			}
			if strings.Contains(stderr, "demo: demo:") {
				t.Errorf("the prefix is doubled: %q", stderr)
			}
		})
	}
}

// TestDemoTLS_HTTPURLNamesFileAndLine: demo --tls makes the loopback URLs
// it serves https, but not one without a port (https would move it from
// port 80 to 443), and says so as every configuration error does: the
// file and the line of the URL to change (docs/configuration.md,
// "Validation"), and exit 2. The URL it suggests is the one written with
// https, nothing added: it suggested https://127.0.0.1:PORT/ for an
// issuer written without the "/", an issuer that is another string (the
// ID-JAG's aud) than the one the file meant.
func TestDemoTLS_HTTPURLNamesFileAndLine(t *testing.T) {
	asPort, mcpPort := freePort(t), freePort(t)
	file := minimalConfig(t, "http", asPort, mcpPort)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	data = bytes.Replace(data, []byte(fmt.Sprintf("http://127.0.0.1:%d ", asPort)), []byte("http://127.0.0.1 "), 1)
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	issuer := "http://127.0.0.1"
	line := 0
	for i, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, "issuer: "+issuer+" ") {
			line = i + 1
		}
	}
	if line == 0 {
		t.Fatalf("no issuer line %s in %s", issuer, data)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var errb bytes.Buffer
	code := run(ctx, []string{"demo", "--addr", "127.0.0.1:0", "--tls", "--state-dir", t.TempDir(), "--config", file}, io.Discard, &errb)
	stderr := errb.String()
	if ctx.Err() != nil {
		t.Fatalf("demo --tls served http URLs until stopped: %s", stderr)
	}
	want := fmt.Sprintf("%s:%d: ", file, line)
	if code != exitUsage || !strings.Contains(stderr, want) {
		t.Errorf("demo --tls of an http issuer: exit %d, stderr %q; want %d and %q", code, stderr, exitUsage, want)
	}
	suggest := "write https://127.0.0.1 in the configuration"
	if !strings.Contains(stderr, suggest) {
		t.Errorf("demo --tls of an http issuer: stderr %q; want %q", stderr, suggest)
	}
}
