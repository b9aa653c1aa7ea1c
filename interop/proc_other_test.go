//go:build !linux

package interop_test

import (
	"os"
	"syscall"
	"testing"
)

// lockDemoPorts: no cross-process lock outside Linux; the fixed-port check
// before each demo still fails clearly when another demo runs.
func lockDemoPorts(t *testing.T) {}

// childProcAttr: nothing special outside Linux.
func childProcAttr() *syscall.SysProcAttr { return nil }

// signalGroup signals the process only.
func signalGroup(pid int, sig syscall.Signal) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Signal(sig)
}
