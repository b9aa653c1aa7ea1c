package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServe_AuditLogFIFOWithoutReader: --audit-log naming a named pipe
// that no process reads hung serve before it printed anything, opening the
// pipe for a reader that never came. A pipe with a reader (/dev/stdout
// into a pipe) is still a log; one without is refused at once, naming the
// file and what to do. Exit 1, as for a log that cannot be opened.
func TestServe_AuditLogFIFOWithoutReader(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "audit.jsonl")
	mkfifo(t, fifo)
	code, stderr := runCLIFor(t, 10*time.Second, "serve", "--addr", "127.0.0.1:0", "--audit-log", fifo)
	want := fifo + " is a named pipe that no process reads: start its reader first"
	if code != exitFailure || !strings.Contains(stderr, want) {
		t.Errorf("serve --audit-log FIFO: exit %d, stderr %q; want exit %d saying %q", code, stderr, exitFailure, want)
	}
}
