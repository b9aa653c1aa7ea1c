package atomicfile_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/internal/atomicfile"
)

// TestWrite_SyncsTheDataBeforeTheRenameAndTheDirectoryAfter: what makes a
// write crash-safe is the order of its file operations, which only a power
// loss would otherwise show: every write of the temporary file is synced
// before the rename puts it at the name, and the directory is synced after
// the rename, before Write returns. WriteThen's tail is synced likewise.
func TestWrite_SyncsTheDataBeforeTheRenameAndTheDirectoryAfter(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "state.json")
	for _, c := range []struct {
		what  string
		write func() error
	}{
		{"Write", func() error { _, err := atomicfile.Write(name, []byte("one"), 0o600); return err }},
		{"WriteThen", func() error {
			_, err := atomicfile.WriteThen(name, []byte("one"), 0o600, true, func() ([]byte, error) { return []byte("two"), nil })
			return err
		}},
	} {
		ops := atomicfile.RecordOps(t)
		if err := c.write(); err != nil {
			t.Fatal(err)
		}
		got := ops()
		renamed := slices.IndexFunc(got, func(op string) bool { return strings.HasPrefix(op, "rename ") && strings.HasSuffix(op, " state.json") })
		if renamed < 0 {
			t.Fatalf("%s: no rename to state.json in %q", c.what, got)
		}
		tmp := strings.Fields(got[renamed])[1]
		lastWrite := slices.Index(got, "write "+tmp)
		for i, op := range got {
			if op == "write "+tmp {
				lastWrite = i
			}
		}
		synced := slices.Index(got[max(lastWrite, 0):], "sync "+tmp)
		if lastWrite < 0 || synced < 0 || lastWrite+synced > renamed {
			t.Errorf("%s: the last write of %s is not synced before the rename: %q", c.what, tmp, got)
		}
		if !slices.Contains(got[renamed:], "syncdir "+filepath.Base(dir)) {
			t.Errorf("%s: the directory is not synced after the rename: %q", c.what, got)
		}
		if data, err := os.ReadFile(name); err != nil || !strings.HasPrefix(string(data), "one") {
			t.Errorf("%s: the file holds %q (%v)", c.what, data, err)
		}
	}
}
