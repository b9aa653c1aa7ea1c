package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestDockerfile_PID1AsNonrootStopsCleanly runs the image's command as
// a container does: PID 1 of its own PID namespace, as the image's user
// (uid 65532), with the Dockerfile's ENV and a state volume. PID 1 gets
// no default action for a signal it does not handle; serve handles
// SIGTERM (docker stop) and SIGINT, stops cleanly (exit status 0,
// `stopped` the last record) within docker stop's 10 s, and starts no
// child to reap. Its JSON logs are one object a line, as a log driver
// reads them, and its health check passes while it serves.
func TestDockerfile_PID1AsNonrootStopsCleanly(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root, for a PID namespace and the image's user")
	}
	const nonroot = 65532
	// A copy the image's user may run, as /usr/local/bin/xaa-idp.
	dir, binary := binaryForAnyUser(t)
	// The state volume, as the image's /state: the user's.
	state := filepath.Join(dir, "state")
	if err := os.Mkdir(state, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(state, nonroot, nonroot); err != nil {
		t.Fatal(err)
	}
	attr := &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID, Credential: &syscall.Credential{Uid: nonroot, Gid: nonroot}}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		env := containerEnv(t, fmt.Sprintf("XAA_IDP_ADDR=127.0.0.1:%d", freePort(t)), "XAA_IDP_STATE_DIR="+state, "XAA_IDP_LOG_FORMAT=json")
		c := startContainer(t, env, attr, binary)
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(status), "\n") {
			if f := strings.Fields(line); len(f) > 0 && f[0] == "NSpid:" && f[len(f)-1] != "1" {
				t.Fatalf("the IdP is %s in its namespace, not PID 1", line)
			}
		}
		if children, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", c.cmd.Process.Pid, c.cmd.Process.Pid)); err == nil && len(strings.TrimSpace(string(children))) > 0 {
			t.Errorf("the IdP as PID 1 has children %s, which it does not reap", children)
		}
		if code, out := runDockerHealthcheck(t, env); code != exitOK {
			t.Errorf("the health check of PID 1: exit %d\n%s", code, out)
		}
		c.stop(t, sig)
		for _, line := range strings.Split(strings.TrimSpace(c.stderr.String()), "\n") {
			if !json.Valid([]byte(line)) {
				t.Errorf("a log line of XAA_IDP_LOG_FORMAT=json is no JSON: %q", line)
			}
		}
	}
	// What the user's IdP wrote is the user's: the next container reads it.
	filepath.Walk(state, func(path string, fi os.FileInfo, err error) error {
		if err == nil && fi.Sys().(*syscall.Stat_t).Uid != nonroot {
			t.Errorf("%s belongs to uid %d, not the image's user", path, fi.Sys().(*syscall.Stat_t).Uid)
		}
		return err
	})
}
