package audit_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
)

// TestAppend_RefusedWriteOfNothingIsNotFatal: a write that the file refuses
// before any byte is written (an immutable file, chattr +i; EPERM) left
// nothing to cut off, so the log must not try to, fail to (the truncation is
// refused too), and refuse every later append until a restart: once the file
// can be written again, so can events.
func TestAppend_RefusedWriteOfNothingIsNotFatal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l := openLog(t, audit.Options{Path: path})
	mustAppend(t, l, audit.Event{Type: audit.TypeLogin})
	immutable(t, path, true)
	if _, err := l.Append(audit.Event{Type: audit.TypeLogin}); err == nil {
		t.Fatal("Append to an immutable file succeeded")
	}
	immutable(t, path, false)
	if err := l.Err(); err != nil {
		t.Fatalf("the log refuses appends for good after a write that wrote nothing: %v", err)
	}
	mustAppend(t, l, audit.Event{Type: audit.TypeLogin})
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := countLines(data); n != 2 {
		t.Errorf("the file holds %d lines, want the 2 appended events", n)
	}
}

// immutable sets or clears the immutable attribute of path (chattr), or
// skips the test where it cannot (not root, a file system without it).
func immutable(t *testing.T, path string, on bool) {
	t.Helper()
	flag := "-i"
	if on {
		flag = "+i"
	}
	if out, err := exec.Command("chattr", flag, path).CombinedOutput(); err != nil {
		if on {
			t.Skipf("cannot make %s immutable: %v %s", path, err, out)
		}
		t.Fatalf("chattr -i %s: %v %s", path, err, out)
	}
	if on {
		t.Cleanup(func() { _ = exec.Command("chattr", "-i", path).Run() })
	}
}

func countLines(data []byte) int {
	n := 0
	for _, b := range data {
		if b == '\n' {
			n++
		}
	}
	return n
}
