//go:build linux

package atomicfile

import (
	"errors"

	"golang.org/x/sys/unix"
)

// swap exchanges the files at a and b in one step (renameat2 with
// RENAME_EXCHANGE): no one sees either name missing, and the file b held
// at that instant, whoever put it there, is then at a. ok is false, with
// nothing done, when it cannot: b does not exist, or the file system has
// no such exchange.
func swap(a, b string) (ok bool, err error) {
	err = unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOSYS):
		return false, nil
	}
	return false, err
}
