//go:build unix

package main

import (
	"io/fs"
	"os"
	"syscall"
)

// otherOwner returns the owner of the file fi describes, and whether it
// is another user than this process's, who may read or replace the file
// whatever its mode. root, who may anyway, is no other user here.
func otherOwner(fi fs.FileInfo) (uid int, other bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	uid = int(st.Uid)
	return uid, uid != os.Geteuid() && uid != 0
}

// looseMode reports whether fi's permission bits give other users what
// mask names (0o077: any access; 0o022: writing).
func looseMode(fi fs.FileInfo, mask fs.FileMode) bool { return fi.Mode().Perm()&mask != 0 }
