package main

import (
	"bufio"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// TestServe_SIGHUPStopsCleanly: SIGHUP (a closed terminal, or a logrotate
// postrotate script written for daemons that reopen their logs on it) stops
// serve as SIGTERM does: requests in flight are answered, the last record is
// "stopped", exit status 0. Before, Go's default killed the process on the
// spot. The audit log needs no signal to be rotated (README, "Operations").
func TestServe_SIGHUPStopsCleanly(t *testing.T) {
	var stderr syncBuffer
	cmd := exec.Command(xaaIDPBinary(t), "serve", "--addr", "127.0.0.1:0", "--state-dir", t.TempDir())
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := bufio.NewReader(stdout).ReadString('\n'); err != nil {
		_ = cmd.Process.Kill()
		t.Fatalf("serve printed nothing: %v\n%s", err, &stderr)
	}
	go io.Copy(io.Discard, stdout)
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve after SIGHUP: %v\n%s", err, &stderr)
	}
	if !strings.Contains(stderr.String(), "msg=stopped") {
		t.Errorf("serve after SIGHUP logged no clean stop:\n%s", &stderr)
	}
}
