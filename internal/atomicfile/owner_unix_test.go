//go:build unix

package atomicfile_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/xaa-idp/xaa-idp/internal/atomicfile"
)

// A file replaced by root (xaa-idp in a container, editing a file mounted
// from its owner's home) keeps its owner and group: else the owner, with a
// mode such as 0640, could no longer read the configuration they wrote.
func TestWrite_ExistingFileKeepsOwnerAndGroup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("changing a file's owner needs root")
	}
	name := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(name, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(name, 1234, 2345); err != nil {
		t.Fatal(err)
	}
	fi, err := atomicfile.Write(name, []byte("new"), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if st.Uid != 1234 || st.Gid != 2345 {
		t.Errorf("owner %d:%d after the write, want 1234:2345 kept", st.Uid, st.Gid)
	}
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("perm = %v, want 0640 kept", fi.Mode().Perm())
	}
}
