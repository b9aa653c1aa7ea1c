package main

import (
	"fmt"
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
	msg := withFileHint(err, startFiles{}).Error()
	if strings.Contains(msg, "chown") || strings.Contains(msg, "the file") {
		t.Errorf("a port refused is told to chown a file: %s", msg)
	}
	if !strings.Contains(msg, "1024") || !strings.Contains(msg, "--addr") {
		t.Errorf("a port refused does not say which ports the user may bind, nor the flag: %s", msg)
	}
}

// TestWithFileHint_AnErrorNamingNoFileNamesEitherSetting: a full or
// read-only file system's error that names no file (the system's alone,
// as a raw fsync returns it) in a start given both a state directory and
// an audit log blamed the state directory, though the file may be the
// audit log: the hint names both, as the user set them, and one alone
// when only one was given.
func TestWithFileHint_AnErrorNamingNoFileNamesEitherSetting(t *testing.T) {
	err := fmt.Errorf("audit: syncing: %w", os.NewSyscallError("fsync", syscall.EROFS))
	for _, c := range []struct {
		name        string
		files       startFiles
		want, avoid string
	}{
		{"both flags", startFiles{"/s", "/a.jsonl", "--state-dir", "--audit-log"}, "give --state-dir or --audit-log (whichever is on it) on a writable one", ""},
		{"both variables", startFiles{"/s", "/a.jsonl", "XAA_IDP_STATE_DIR", "XAA_IDP_AUDIT_LOG"}, "give XAA_IDP_STATE_DIR or XAA_IDP_AUDIT_LOG (whichever is on it) on a writable one", "--"},
		{"audit log alone", startFiles{"", "/a.jsonl", "--state-dir", "--audit-log"}, "give --audit-log on a writable one", "--state-dir"},
		{"state directory alone", startFiles{"/s", "", "XAA_IDP_STATE_DIR", "--audit-log"}, "give XAA_IDP_STATE_DIR on a writable one", "--"},
	} {
		msg := withFileHint(err, c.files).Error()
		if !strings.Contains(msg, c.want) || c.avoid != "" && strings.Contains(msg, c.avoid) {
			t.Errorf("%s: %s\nwant it to say %q (and not %q)", c.name, msg, c.want, c.avoid)
		}
	}
}
