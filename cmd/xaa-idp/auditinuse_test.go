package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// An audit log another process appends to is said once as the audit log,
// not "audit log: audit: ...".
func TestAuditLogInUse_SaidWithOnePrefix(t *testing.T) {
	file := filepath.Join(t.TempDir(), "audit.jsonl")
	var logs syncBuffer
	startBinary(t, &logs, "serve", "--addr", "127.0.0.1:0", "--audit-log", file)
	code, _, stderr := runBinary(t, "serve", "--addr", "127.0.0.1:0", "--audit-log", file)
	if code != exitFailure {
		t.Errorf("second serve on %s: exit %d, want 1: %s", file, code, stderr)
	}
	if want := "xaa-idp: audit log: " + file + " is in use by another process"; !strings.Contains(stderr, want) {
		t.Errorf("stderr %q lacks %q", stderr, want)
	}
}
