//go:build unix

package atomicfile

import (
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// keepOwner gives the temporary file f the owner and group of the file it
// replaces, old. As far as the process may: root may give any owner; another
// user only a group it belongs to, and a file it cannot give away stays
// its own, as a plain rewrite would leave it.
func keepOwner(f *os.File, old fs.FileInfo) {
	st, ok := old.Sys().(*syscall.Stat_t)
	if !ok {
		return
	}
	uid, gid := int(st.Uid), int(st.Gid)
	if uid == os.Geteuid() && gid == os.Getegid() {
		return
	}
	if f.Chown(uid, gid) != nil {
		_ = f.Chown(-1, gid)
	}
}

// mayWrite reports why this process may not write the file or directory
// p (access(2), W_OK): a file system mounted read-only, or permissions
// that do not let its user write.
func mayWrite(p string) error { return unix.Access(p, unix.W_OK) }
