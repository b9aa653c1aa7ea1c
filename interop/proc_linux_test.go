//go:build linux

package interop_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// lockDemoPorts serializes demos across processes: the demo's MCP ports are
// fixed, so two `go test ./interop/` runs at once (two checkouts, or
// `go test ./...` next to another run) would collide. It waits for an
// exclusive flock on a file in the temp directory and releases it when the
// test ends (cleanups run last-in first-out: after the demo is stopped).
func lockDemoPorts(t *testing.T) {
	t.Helper()
	path := filepath.Join(os.TempDir(), "xaa-idp-demo-ports.lock")
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o666)
	if err != nil {
		t.Logf("no cross-process demo lock (%v); continuing without", err)
		return
	}
	deadline := time.Now().Add(5 * time.Minute)
	logged := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if err != syscall.EWOULDBLOCK {
			f.Close()
			t.Logf("no cross-process demo lock (flock %s: %v); continuing without", path, err)
			return
		}
		if time.Now().After(deadline) {
			f.Close()
			t.Fatalf("another process has held %s for 5 minutes: another interop run with a demo on the fixed ports; stop it and rerun", path)
		}
		if !logged {
			t.Logf("waiting for %s: another interop run is using the demo's fixed ports", path)
			logged = true
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Cleanup(func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	})
}

// childProcAttr puts a child in its own process group (so that the group
// can be signalled: bash and what it started) and has the kernel send it
// SIGTERM if the test process dies first, so that no demo outlives the test
// binary holding the fixed ports.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

// signalGroup sends sig to the process group led by pid.
func signalGroup(pid int, sig syscall.Signal) error {
	return syscall.Kill(-pid, sig)
}
