//go:build !linux

package diskfull

import (
	"runtime"
	"testing"
)

// Tmpfs skips the test: mounting a small file system is Linux's here.
func Tmpfs(t testing.TB, size int64) string {
	t.Helper()
	t.Skipf("no tmpfs to mount on %s", runtime.GOOS)
	return ""
}

// Fill skips the test, as Tmpfs does.
func Fill(t testing.TB, dir string) (free func()) {
	t.Helper()
	t.Skipf("no tmpfs to fill on %s", runtime.GOOS)
	return func() {}
}
