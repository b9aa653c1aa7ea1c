package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// subjectEmailConfig is a file whose MCP server finds users by email
// (subject: email at line 10); extra is added to the server's entry, idJAG
// at the top level.
func subjectEmailConfig(idJAG, extra string) string {
	return idJAG + `users: [{username: alice, password: alice, email: alice@acme.example}]
clients: [{client_id: c, client_secret: s, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}]
mcp_servers:
  - id: notes
    issuer: http://127.0.0.1:1
    resources: [http://127.0.0.1:2/mcp]
    scopes: [n]
    clients: {c: c-at-notes}
    access: [{users: [alice], scopes: [n]}]
    subject: email
` + extra
}

// TestCheck_WarnsOfASubjectMappingWithoutItsClaim: a server with subject:
// email whose ID-JAGs carry no email (no include_email, no id_jag.email)
// has a demo authorization server that refuses every ID-JAG; check says so
// ahead, at the subject's line, and still accepts the file (exit 0), since
// the docs do not make it invalid. With the email in the ID-JAGs, no
// warning. serve and demo log the same warning at start.
func TestCheck_WarnsOfASubjectMappingWithoutItsClaim(t *testing.T) {
	tests := []struct {
		name, config string
		warn         bool
	}{
		{"no email claim", subjectEmailConfig("", ""), true},
		{"include_email false", subjectEmailConfig("", "    include_email: false\n"), true},
		{"include_email", subjectEmailConfig("", "    include_email: true\n"), false},
		{"id_jag.email", subjectEmailConfig("id_jag: {email: true}\n", ""), false},
		{"id_jag.email off", subjectEmailConfig("id_jag: {email: false}\n", ""), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "subject.yaml")
			if err := os.WriteFile(file, []byte(tt.config), 0o600); err != nil {
				t.Fatal(err)
			}
			code, out, stderr := runCLI(t, "check", "--config", file)
			if code != 0 || !strings.Contains(out, ": ok (") {
				t.Fatalf("check: exit %d\n%s%s", code, out, stderr)
			}
			line := "10"
			if strings.HasPrefix(tt.config, "id_jag") {
				line = "11"
			}
			warned := strings.Contains(stderr, file+":"+line+": warning: ") && strings.Contains(stderr, "include_email: true")
			if warned != tt.warn || (!tt.warn && stderr != "") {
				t.Errorf("check's stderr (want a warning: %t):\n%s", tt.warn, stderr)
			}
		})
	}
}

// TestServe_WarnsOfASubjectMappingWithoutItsClaim: serve logs check's
// warning at start, naming the file and line.
func TestServe_WarnsOfASubjectMappingWithoutItsClaim(t *testing.T) {
	file := filepath.Join(t.TempDir(), "subject.yaml")
	if err := os.WriteFile(file, []byte(subjectEmailConfig("", "")), 0o600); err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	startBinary(t, stderr, "serve", "--addr", "127.0.0.1:0", "--config", file)
	waitFor(t, stderr, file+":10: warning: ")
}
