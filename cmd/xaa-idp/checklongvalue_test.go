package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheck_AWrongFileIsNotEchoedWhole: a file that is no configuration
// but lines of text (an env file, /etc/passwd, a README given by mistake)
// reads as one long YAML string. check said "expected a mapping (key:
// value), got" and then the whole file on one line, every secret in it
// included; it quotes the start of such a value and says how long it is.
func TestCheck_AWrongFileIsNotEchoedWhole(t *testing.T) {
	file := filepath.Join(t.TempDir(), "idp.env")
	var text strings.Builder
	for i := range 50 {
		text.WriteString("XAA_SECRET_" + strings.Repeat("X", i%7) + "=hunter2-value-that-goes-on-and-on\n")
	}
	text.WriteString("LAST_LINE=the-tail-secret\n")
	if err := os.WriteFile(file, []byte(text.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "check", "--config", file)
	if code != exitUsage {
		t.Fatalf("check: exit %d, want %d: %s", code, exitUsage, stderr)
	}
	if !strings.Contains(stderr, "expected a mapping (key: value), got \"XAA_SECRET_") || !strings.Contains(stderr, "characters)") {
		t.Errorf("check does not quote the start of the text and its length:\n%s", stderr)
	}
	if strings.Contains(stderr, "the-tail-secret") || len(stderr) > 400 {
		t.Errorf("check echoes the whole file (%d bytes):\n%s", len(stderr), stderr)
	}
}
