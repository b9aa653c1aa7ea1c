package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTLS_HTTPIssuerOfTheFileNamesFileAndLine: serve --tls cannot serve
// the file's own http issuer, and says so as every configuration error
// does: the file and the issuer's line (docs/configuration.md,
// "Validation"), exit 2. It named neither ("the configuration's issuer is
// http://..."), though the MCP servers' http URLs were told at their line.
// (demo --tls serves a loopback issuer of the file https:
// TestDemoTLS_HTTPFileServedHTTPS.)
func TestTLS_HTTPIssuerOfTheFileNamesFileAndLine(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "idp.yaml")
	cfg := "# an http issuer\n\nissuer: http://127.0.0.1:8080\nusers:\n  - username: alice\n    password: alice\n"
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	want := file + ":3: issuer: "
	code, _, stderr := runBinary(t, "serve", "--tls", "--state-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--config", file)
	if code != exitUsage || !strings.Contains(stderr, want) || !strings.Contains(stderr, "https://") {
		t.Errorf("serve --tls of an http issuer: exit %d, stderr %q; want %d and %q", code, stderr, exitUsage, want)
	}
	// --issuer on the command line is no line of the file: it is named.
	code, _, stderr = runBinary(t, "serve", "--tls", "--state-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--config", file, "--issuer", "http://127.0.0.1:8080")
	if wantFlag := fmt.Sprintf("--issuer is %s", "http://127.0.0.1:8080"); code != exitUsage || !strings.Contains(stderr, wantFlag) {
		t.Errorf("serve --tls --issuer http: exit %d, stderr %q; want %d and %q", code, stderr, exitUsage, wantFlag)
	}
}
