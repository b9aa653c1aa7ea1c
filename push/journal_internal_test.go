package push

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/diskfull"
)

// TestJournal_WriteCutShortByAFullDiskLeavesNoBadLine: a journal append
// that the disk takes only part of (a full disk; here the process's file
// size limit, which cuts a write short as a full disk does) fails, and
// leaves no part of a line behind: once there is room, the next SET is
// journaled, and the next start reads the journal instead of refusing it
// for a bad line in the middle, which would keep the IdP from starting.
func TestJournal_WriteCutShortByAFullDiskLeavesNoBadLine(t *testing.T) {
	dir := t.TempDir()
	j, live, _, err := openJournal(dir)
	if err != nil || len(live) != 0 {
		t.Fatal(live, err)
	}
	defer j.close()
	set := func(id string) *pending {
		return &pending{ID: id, Server: "files", Endpoint: "https://rp.example/events", Audience: "https://as.example",
			User: "bob", Sub: "u-bob", Event: "session-revoked", At: 1, Reason: "access removed", Created: time.Unix(1, 0).UTC()}
	}
	if err := j.add([]*pending{set("first")}); err != nil {
		t.Fatal(err)
	}
	lift := diskfull.After(t, filepath.Join(dir, JournalFile), 20) // room for the start of a line only
	err = j.add([]*pending{set("lost")})
	lift()
	if !errors.Is(err, syscall.EFBIG) {
		t.Fatalf("append beyond the limit: %v, want EFBIG", err)
	}

	if err := j.add([]*pending{set("second")}); err != nil {
		t.Fatalf("append once there is room again: %v", err)
	}
	if err := j.finish("first", []*pending{set("second")}); err != nil {
		t.Fatal(err)
	}
	j.close()
	j2, live, torn, err := openJournal(dir)
	if err != nil {
		t.Fatalf("the next start refuses the journal: %v", err)
	}
	defer j2.close()
	if len(live) != 1 || live[0].ID != "second" || torn != 0 {
		t.Errorf("pending after the restart: %d (torn %d), want only second", len(live), torn)
	}
}
