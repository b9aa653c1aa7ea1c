package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServe_WarnsOfALoopbackIssuerOnAnotherPort: configuration.md's
// whole-file example, which a newcomer copies, sets issuer:
// http://127.0.0.1:8080. Served with another --addr, every endpoint that
// discovery names is on port 8080, and a client that discovers the IdP
// where it listens is refused (the metadata issuer differs), with nothing
// in the log to say why. The start warns, naming both and the fix; an
// issuer on the bound port says nothing.
func TestServe_WarnsOfALoopbackIssuerOnAnotherPort(t *testing.T) {
	file := filepath.Join(t.TempDir(), "idp.yaml")
	if err := os.WriteFile(file, []byte("issuer: http://127.0.0.1:1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	issuer, _ := startBinary(t, stderr, "serve", "--addr", "127.0.0.1:0", "--config", file)
	if issuer != "http://127.0.0.1:1" {
		t.Fatalf("serve printed %q, want the configured issuer", issuer)
	}
	waitFor(t, stderr, "level=INFO msg=serving")
	if logs := stderr.String(); !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, "http://127.0.0.1:1") || !strings.Contains(logs, "--issuer") {
		t.Errorf("no warning of the issuer on another port:\n%s", logs)
	}

	stderr = &syncBuffer{}
	startBinary(t, stderr, "serve", "--addr", "127.0.0.1:0")
	waitFor(t, stderr, "level=INFO msg=serving")
	if strings.Contains(stderr.String(), "level=WARN") {
		t.Errorf("a warning for the default issuer:\n%s", stderr)
	}
}
