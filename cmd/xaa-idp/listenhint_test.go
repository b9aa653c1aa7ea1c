package main

import (
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
)

// TestWithFileHint_PrivilegedPort: a port the IdP's user may not bind
// (--addr :443 as a user without CAP_NET_BIND_SERVICE) is EACCES, which is
// fs.ErrPermission too; the start's error said to chown a file, when no
// file is involved. It says to pick a port from 1024 up.
func TestWithFileHint_PrivilegedPort(t *testing.T) {
	// What net.Listen returns then (as root, the test cannot get it).
	err := listenError("127.0.0.1:443", "--addr", &net.OpError{Op: "listen", Net: "tcp", Err: os.NewSyscallError("bind", syscall.EACCES)})
	msg := withFileHint(err, "", "").Error()
	if strings.Contains(msg, "chown") || strings.Contains(msg, "the file") {
		t.Errorf("a port refused is told to chown a file: %s", msg)
	}
	if !strings.Contains(msg, "1024") || !strings.Contains(msg, "--addr") {
		t.Errorf("a port refused does not say which ports the user may bind, nor the flag: %s", msg)
	}
}
