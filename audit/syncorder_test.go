package audit_test

import (
	"os"
	"sync/atomic"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
)

// TestOpen_TornLineCutIsSyncedBeforeAnyAppend: Open cuts off a torn last
// line (a crash in the middle of a write) and syncs the cut before it
// returns, so that a power loss cannot bring the torn bytes back under
// the lines appended after it (docs/audit.md). Only a power loss would
// show that sync removed, or made before the cut.
func TestOpen_TornLineCutIsSyncedBeforeAnyAppend(t *testing.T) {
	path := tempPath(t)
	l := openLog(t, audit.Options{Path: path})
	if _, err := l.Append(audit.Event{Type: audit.TypeLogin, User: "alice"}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	whole, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(whole, `{"time":"2026-`...), 0o600); err != nil {
		t.Fatal(err)
	}

	var synced []int64 // the file's size at each sync of the cut
	restore := audit.SetTornSync(func(f *os.File) error {
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		synced = append(synced, fi.Size())
		return f.Sync()
	})
	defer restore()
	openLog(t, audit.Options{Path: path})
	if len(synced) != 1 || synced[0] != int64(len(whole)) {
		t.Errorf("sizes synced by Open %v, want one sync once the torn line is cut, at %d bytes", synced, len(whole))
	}
}

// TestClose_Syncs: Close syncs the file before it closes it, whatever the
// last batch did: only a power loss would show that sync removed.
func TestClose_Syncs(t *testing.T) {
	l := openLog(t, audit.Options{Path: tempPath(t)})
	var syncs atomic.Int64
	audit.SetSyncHook(l, func(f *os.File) error { syncs.Add(1); return f.Sync() })
	if _, err := l.Append(audit.Event{Type: audit.TypeLogin, User: "alice"}); err != nil {
		t.Fatal(err)
	}
	before := syncs.Load()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if n := syncs.Load() - before; n != 1 {
		t.Errorf("Close synced the file %d times, want once", n)
	}
}
