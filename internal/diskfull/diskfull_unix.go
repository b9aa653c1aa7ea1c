//go:build unix

// Package diskfull makes a disk full for the tests of the files that must
// survive one: the process's file size limit (RLIMIT_FSIZE) cuts a write
// short as a full disk does, with part of it written and EFBIG.
package diskfull

import (
	"os"
	"syscall"
	"testing"
)

// After limits the size of every file the process writes to name's size
// plus room bytes, and returns what lifts the limit again; the test's
// cleanup lifts it too. Without the means to limit, the test is skipped.
// The limit is the whole process's: the test must not run in parallel.
func After(t testing.TB, name string, room int64) (lift func()) {
	t.Helper()
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	full := old
	setLimit(&full.Cur, fi.Size()+room)
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &full); err != nil {
		t.Skipf("cannot limit the file size: %v", err)
	}
	lifted := false
	lift = func() {
		if lifted {
			return
		}
		lifted = true
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(lift)
	return lift
}

// setLimit sets a limit field, uint64 on most systems, int64 on FreeBSD.
func setLimit[T int64 | uint64](field *T, n int64) { *field = T(n) }
