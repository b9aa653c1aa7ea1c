package recordlog

import (
	"os"
	"path/filepath"
	"testing"
)

// TestAppend_SyncedAppendIsSyncedWholeBeforeItReturns: an append asked to
// be synced (the push journal's SETs, the ended logins) is synced after its
// write, with the whole line in the file, before Append returns; one not
// asked is not synced. Only a power loss would show a sync removed or
// moved before the write.
func TestAppend_SyncedAppendIsSyncedWholeBeforeItReturns(t *testing.T) {
	name := filepath.Join(t.TempDir(), "log.jsonl")
	var synced []int64 // the file's size at each sync
	l := New[rec](name, Options[rec]{sync: func(f *os.File) error {
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		synced = append(synced, fi.Size())
		return f.Sync()
	}})
	if err := l.Rewrite(nil); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	size := func() int64 {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	if err := l.Append(false, rec{1}); err != nil {
		t.Fatal(err)
	}
	if len(synced) != 0 {
		t.Errorf("an append not asked to be synced was synced: %v", synced)
	}
	if err := l.Append(true, rec{2}, rec{3}); err != nil {
		t.Fatal(err)
	}
	if want := size(); len(synced) != 1 || synced[0] != want {
		t.Errorf("sizes synced %v when Append returned, want one sync of the whole file, %d bytes", synced, want)
	}
}
