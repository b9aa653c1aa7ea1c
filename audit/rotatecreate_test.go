package audit_test

import (
	"os"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
)

// TestAppend_FollowsAFileReplacedByRotation: a rotation moves the log away
// and puts an empty file in its place (docs/audit.md, `mv audit.jsonl
// audit.jsonl.1`); the next event goes to the new file at the log's path.
func TestAppend_FollowsAFileReplacedByRotation(t *testing.T) {
	path := tempPath(t)
	l := openLog(t, audit.Options{Path: path})
	mustAppend(t, l, audit.Event{Type: audit.TypeLogin, User: "before-rotation"})
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, l, audit.Event{Type: audit.TypeLogin, User: "after-rotation"})
	now, _ := os.ReadFile(path)
	old, _ := os.ReadFile(path + ".1")
	if !strings.Contains(string(now), "after-rotation") || strings.Contains(string(old), "after-rotation") {
		t.Errorf("after the rotation the event went to the moved file:\n%s: %s\n%s.1: %s", path, now, path, old)
	}
}
