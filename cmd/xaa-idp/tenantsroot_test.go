package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestClients_BaseURLOfTenantsNamesTheirIssuers: with tenants, the base URL
// is no issuer (each tenant's is the base URL followed by its path), and
// the client commands given it, as --issuer's default is, said only that
// discovery (or the admin API) "answered 404 Not Found". The root answers
// those paths with a JSON 404 naming the tenants' issuers, which the
// commands print.
func TestClients_BaseURLOfTenantsNamesTheirIssuers(t *testing.T) {
	issuer := startServe(t, "--config", "../../fixtures/samples/tenants.yaml")
	base := strings.TrimSuffix(issuer, "/t/acme")
	want := "give the issuer of one of its tenants: " + base + "/t/acme (acme), " + base + "/t/okta (okta), " + base + "/issuers/acme (anthropic-acme), " + base + "/t/c1 (c1)"
	for _, args := range [][]string{
		{"login", "--issuer", base, "--client-id", "desktop", "--client-secret", "acme-desktop-secret", "--username", "alice", "--password", "alice"},
		{"keys", "list", "--issuer", base, "--admin-user", "alice", "--admin-password", "alice"},
	} {
		code, _, stderr := runCLI(t, args...)
		if code != exitFailure || !strings.Contains(stderr, want) {
			t.Errorf("%s --issuer %s: exit %d, stderr %q; want exit %d saying %q", args[0], base, code, stderr, exitFailure, want)
		}
	}
}

// TestClients_BaseURLOfAPathIssuerNamesIt: an IdP without tenants whose
// issuer has a path is served under it, with the same root: given the
// base URL, the commands name the issuer.
func TestClients_BaseURLOfAPathIssuerNamesIt(t *testing.T) {
	port := freePort(t)
	issuer := startServe(t, "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--issuer", fmt.Sprintf("http://127.0.0.1:%d/idp", port))
	base := strings.TrimSuffix(issuer, "/idp")
	code, _, stderr := runCLI(t, "login", "--issuer", base, "--client-id", "mcp-client", "--client-secret", "mcp-secret", "--username", "alice", "--password", "alice")
	if want := "this URL is no issuer: give the issuer, " + issuer; code != exitFailure || !strings.Contains(stderr, want) {
		t.Errorf("login --issuer %s: exit %d, stderr %q; want exit %d saying %q", base, code, stderr, exitFailure, want)
	}
}

// TestClients_BaseURLOfManyTenantsNamesTheirIssuers: a root listing
// more issuers than 4 KiB hold was read cut, the JSON did not parse, and
// login printed a bare "answered 404 Not Found". It is read as other
// error answers are, and the printed line stays one bounded line.
func TestClients_BaseURLOfManyTenantsNamesTheirIssuers(t *testing.T) {
	var cfg strings.Builder
	cfg.WriteString("tenants:\n")
	for i := range 40 {
		id := fmt.Sprintf("tenant-%02d-%s", i, strings.Repeat("x", 50))
		fmt.Fprintf(&cfg, "  - id: %s\n    path: /t/%s\n    users: []\n", id, id)
	}
	file := filepath.Join(t.TempDir(), "tenants.yaml")
	if err := os.WriteFile(file, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	issuer := startServe(t, "--config", file)
	base := issuer[:strings.Index(issuer, "/t/")]
	code, _, stderr := runCLI(t, "login", "--issuer", base, "--client-id", "desktop", "--client-secret", "s", "--username", "alice", "--password", "alice")
	if want := "give the issuer of one of its tenants: " + issuer + " (tenant-00-"; code != exitFailure || !strings.Contains(stderr, want) {
		t.Errorf("login --issuer %s: exit %d, stderr %q; want exit %d saying %q", base, code, stderr, exitFailure, want)
	}
	if strings.Count(stderr, "\n") != 1 || len(stderr) > maxErrorLine+200 || !strings.Contains(stderr, "truncated") {
		t.Errorf("login --issuer %s printed %d bytes in %d lines, want one line cut near %d bytes:\n%s", base, len(stderr), strings.Count(stderr, "\n"), maxErrorLine, stderr)
	}
}
