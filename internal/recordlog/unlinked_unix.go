//go:build unix

package recordlog

import (
	"os"
	"syscall"
)

// unlinked reports whether the open file f has no name left: its link
// count is 0.
func unlinked(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Nlink == 0
}
