package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestCheck_WarningsInLineOrder: check lists the warnings of a file in
// the order of their lines, as it lists the problems of an invalid one:
// it printed them kind by kind (the URL spellings, then the ${...}
// values, then the clients, ..., the expired entries last), so that line
// 9 came before line 2 and a reader going down the file met them out of
// order.
func TestCheck_WarningsInLineOrder(t *testing.T) {
	file := filepath.Join(t.TempDir(), "idp.yaml")
	if err := os.WriteFile(file, []byte(`users:
  - {username: bob, password: "${PW}", email: bob@example.com}
clients:
  - {client_id: c1, client_secret: s, token_exchange: true, redirect_uris: [http://127.0.0.1/cb]}
  - {client_id: c2, client_secret: s}
mcp_servers:
  - id: m
    issuer: HTTPS://AS.example.com
    resources: [https://mcp.example.com/mcp]
    scopes: [read]
    clients: {c1: c1, c2: c2}
    access:
      - users: [bob]
        expires: 2001-01-01T00:00:00Z
`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "check", "--config", file)
	if code != exitOK {
		t.Fatalf("check: exit %d: %s", code, stderr)
	}
	lineRE := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(file) + `:(\d+): warning: `)
	var lines []int
	for _, m := range lineRE.FindAllStringSubmatch(stderr, -1) {
		n, _ := strconv.Atoi(m[1])
		lines = append(lines, n)
	}
	if len(lines) != 4 || !slices.IsSorted(lines) {
		t.Errorf("check printed warnings at lines %v, want 4 in line order (2, 5, 8, 14):\n%s", lines, strings.TrimSpace(stderr))
	}
}
