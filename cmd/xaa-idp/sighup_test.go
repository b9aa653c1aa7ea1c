package main

import (
	"bufio"
	"io"
	"net/http"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServe_SIGHUPStopsCleanly: SIGHUP (a closed terminal, or a logrotate
// postrotate script written for daemons that reopen their logs on it) stops
// serve as SIGTERM does: requests in flight are answered, the last record is
// "stopped", exit status 0. Before, Go's default killed the process on the
// spot. The audit log needs no signal to be rotated (README, "Operations").
func TestServe_SIGHUPStopsCleanly(t *testing.T) {
	if signal.Ignored(syscall.SIGHUP) {
		// Run under nohup: serve inherits SIGHUP ignored and keeps ignoring
		// it (TestServe_NohupIgnoresSIGHUP), so it would never stop here.
		t.Skip("this test runs with SIGHUP ignored (nohup): serve would ignore it too")
	}
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

// TestServe_NohupIgnoresSIGHUP: started with SIGHUP ignored (nohup, or a
// shell's trap "" HUP), serve keeps ignoring it, as it did before SIGHUP
// became a clean stop: Go's signal.Notify would otherwise install a handler
// and the terminal's close would stop an IdP run under nohup.
func TestServe_NohupIgnoresSIGHUP(t *testing.T) {
	var stderr syncBuffer
	cmd := exec.Command("/bin/sh", "-c", `trap '' HUP; exec "$0" serve --addr 127.0.0.1:0`, xaaIDPBinary(t))
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	issuer, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed nothing: %v\n%s", err, &stderr)
	}
	go io.Copy(io.Discard, stdout)
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	resp, err := http.Get(strings.TrimSpace(issuer) + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatalf("serve under nohup stopped on SIGHUP: %v\n%s", err, &stderr)
	}
	resp.Body.Close()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve after SIGTERM: %v\n%s", err, &stderr)
	}
}
