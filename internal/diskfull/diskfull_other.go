//go:build !unix

// Package diskfull makes a disk full for the tests of the files that must
// survive one.
package diskfull

import (
	"runtime"
	"testing"
)

// After skips the test: there is no file size limit (RLIMIT_FSIZE) to
// cut a write short here.
func After(t testing.TB, name string, room int64) (lift func()) {
	t.Helper()
	t.Skipf("no file size limit (RLIMIT_FSIZE) on %s to fill the disk with", runtime.GOOS)
	return func() {}
}
