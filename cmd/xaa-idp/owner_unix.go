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
