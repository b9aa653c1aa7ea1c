package atomicfile_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/xaa-idp/xaa-idp/internal/atomicfile"
)

// A file saved at the name after WriteIf's last look (ready) and before
// its rename is put back, and replaced's error returned: the save is not
// overwritten unseen. Without that, the new file takes its place.
func TestWriteIf_SaveAfterTheLastLookIsPutBack(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(name, []byte("read"), 0o640); err != nil {
		t.Fatal(err)
	}
	changed := errors.New("changed since it was read")
	_, err := atomicfile.WriteIf(name, []byte("ours"), 0o600, func() error {
		// An editor saves as editors do: its own file renamed into place.
		tmp := filepath.Join(dir, "editor-save")
		if err := os.WriteFile(tmp, []byte("theirs"), 0o640); err != nil {
			return err
		}
		return os.Rename(tmp, name)
	}, func(old []byte) error {
		if string(old) != "read" {
			return changed
		}
		return nil
	})
	if !errors.Is(err, changed) {
		t.Fatalf("err = %v, want replaced's error", err)
	}
	if b, _ := os.ReadFile(name); string(b) != "theirs" {
		t.Fatalf("content = %q, want the editor's save kept", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the file", len(entries))
	}
}

// Without a save in between, replaced sees the file it replaced, and the
// new one takes its place, keeping its mode, with no temporary left.
func TestWriteIf_ReplacedSeesTheOldContent(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(name, []byte("read"), 0o640); err != nil {
		t.Fatal(err)
	}
	var seen string
	fi, err := atomicfile.WriteIf(name, []byte("ours"), 0o600, nil, func(old []byte) error {
		seen = string(old)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(name); string(b) != "ours" || seen != "read" || fi.Mode().Perm() != 0o640 {
		t.Errorf("content %q, replaced saw %q, mode %v", b, seen, fi.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the file", len(entries))
	}
	// A file that is gone is written anew; replaced has nothing to see.
	os.Remove(name)
	seen = "none"
	if _, err := atomicfile.WriteIf(name, []byte("again"), 0o600, nil, func(old []byte) error { seen = string(old); return nil }); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(name); string(b) != "again" || seen != "none" {
		t.Errorf("content %q, replaced saw %q", b, seen)
	}
}
