package audit_test

import (
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
)

// TestAppend_AcknowledgesOnlyWhatAnFsyncCovered: Append returns an event
// only once an fsync of the file has covered its line (docs/audit.md): the
// IdP answers a request after its event's Append, so an answer never
// leaves before its event is on disk.
func TestAppend_AcknowledgesOnlyWhatAnFsyncCovered(t *testing.T) {
	path := tempPath(t)
	l := openLog(t, audit.Options{Path: path})
	var synced atomic.Int64 // the file's size at the last fsync
	audit.SetSyncHook(l, func(f *os.File) error {
		if err := f.Sync(); err != nil {
			return err
		}
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		synced.Store(fi.Size())
		return nil
	})
	for i := range 5 {
		if _, err := l.Append(audit.Event{Type: audit.TypeLogin, User: fmt.Sprint("u", i)}); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if s := synced.Load(); s < fi.Size() {
			t.Fatalf("event %d acknowledged with the file at %d bytes, of which an fsync covered %d", i, fi.Size(), s)
		}
	}
}
