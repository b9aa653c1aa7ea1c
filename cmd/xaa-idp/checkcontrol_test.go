package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheck_ProblemsQuoteNoControlCharacters: a problem that lists the
// names it knows (a server's scopes, the known groups) lists a refused one
// too, which may hold a line break or an escape sequence. check prints
// each problem on its own line with such characters escaped, as %q prints
// the name of the problem itself: a line break would forge a problem of
// its own (or hide one), an escape sequence would drive the terminal.
func TestCheck_ProblemsQuoteNoControlCharacters(t *testing.T) {
	file := filepath.Join(t.TempDir(), "idp.yaml")
	config := `groups:
  - name: ops
users:
  - username: bob
    password: bob
    groups: [engg]
mcp_servers:
  - id: s
    issuer: https://as.example
    scopes: ["read\r\nidp.yaml:1: forged problem", "write\e[2J\u202e"]
    access: [{users: [bob], scopes: [admin]}]
`
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "check", "--config", file)
	if code != exitUsage {
		t.Fatalf("check: exit %d, want %d: %s", code, exitUsage, stderr)
	}
	for line := range strings.Lines(stderr) {
		if !strings.HasPrefix(line, file+":") {
			t.Errorf("check printed a line that is not a problem at the file: %q", line)
		}
		if strings.ContainsAny(strings.TrimSuffix(line, "\n"), "\r\n\x1b\u202e") {
			t.Errorf("check printed a control or bidi character: %q", line)
		}
	}
	if !strings.Contains(stderr, `scope "admin" is not a scope of server s; it lists read\u000d\u000aidp.yaml:1: forged problem, write\u001b[2J\u202e`) {
		t.Errorf("check does not list the server's scopes, escaped:\n%s", stderr)
	}
}
