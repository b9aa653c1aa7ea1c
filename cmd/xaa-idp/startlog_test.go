package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestServe_StartRecordNamesWhereStateIsKept: the serving record named the
// issuer, the console and the clock, but not the state directory nor the
// audit log, so an operator reading the log could not tell where keys and
// events went, or that they were kept nowhere. It names both when given,
// and says "memory" for an audit log that is kept nowhere else.
func TestServe_StartRecordNamesWhereStateIsKept(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	stderr := &syncBuffer{}
	startBinary(t, stderr, "serve", "--addr", "127.0.0.1:0", "--state-dir", dir)
	line := waitFor(t, stderr, "level=INFO msg=serving ")
	line = line[strings.Index(line, "level=INFO msg=serving "):]
	if want := "state_dir=" + dir + " audit_log=" + filepath.Join(dir, "audit.jsonl"); !strings.Contains(line, want) {
		t.Errorf("no %q in:\n%s", want, line)
	}

	stderr = &syncBuffer{}
	startBinary(t, stderr, "serve", "--addr", "127.0.0.1:0")
	line = waitFor(t, stderr, "level=INFO msg=serving ")
	line = line[strings.Index(line, "level=INFO msg=serving "):]
	if strings.Contains(line, "state_dir=") || !strings.Contains(line, "audit_log=memory") {
		t.Errorf("without --state-dir, want audit_log=memory and no state_dir in:\n%s", line)
	}
}
