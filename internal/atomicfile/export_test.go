package atomicfile

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// RecordOps records the file operations of the writes made until t ends,
// in order, each as "write NAME", "sync NAME", "rename OLD NEW" or
// "syncdir DIR" (base names); the operations are still made. The tests
// using it must not run in parallel.
func RecordOps(t *testing.T) func() []string {
	var mu sync.Mutex
	var ops []string
	add := func(op string, names ...string) {
		mu.Lock()
		defer mu.Unlock()
		for _, n := range names {
			op += " " + filepath.Base(n)
		}
		ops = append(ops, op)
	}
	w, s, r, d := fileWrite, fileSync, rename, syncDir
	t.Cleanup(func() { fileWrite, fileSync, rename, syncDir = w, s, r, d })
	fileWrite = func(f *os.File, b []byte) (int, error) { add("write", f.Name()); return f.Write(b) }
	fileSync = func(f *os.File) error { add("sync", f.Name()); return f.Sync() }
	rename = func(old, new string) error { add("rename", old, new); return os.Rename(old, new) }
	syncDir = func(dir string) error { add("syncdir", dir); return SyncDir(dir) }
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), ops...)
	}
}
