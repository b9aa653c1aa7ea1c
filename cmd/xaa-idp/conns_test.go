package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestServe_IdleConnectionsBeyondTheDescriptorLimitDoNotStopIt: a crowd of
// idle keep-alive connections, more than the process may hold descriptors,
// does not stop serve from answering: before the bound of open
// connections, accept failed with EMFILE once they held every descriptor,
// and /healthz and logins went unanswered until they timed out (120 s).
// The real binary, under a descriptor limit of 128.
func TestServe_IdleConnectionsBeyondTheDescriptorLimitDoNotStopIt(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("sets the descriptor limit with the shell's ulimit")
	}
	cmd := exec.Command("sh", "-c", `ulimit -n 128 && exec "$0" "$@"`, xaaIDPBinary(t), "serve", "--addr", "127.0.0.1:0")
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	pr, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Error("serve did not stop on SIGINT")
		}
	})
	r := bufio.NewReader(pr)
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed nothing: %v\n%s", err, stderr)
	}
	go io.Copy(io.Discard, r)
	issuer := strings.TrimSpace(line)
	addr := strings.TrimPrefix(issuer, "http://")

	// 200 connections that each make a request and then stay idle.
	var held []net.Conn
	t.Cleanup(func() {
		for _, c := range held {
			c.Close()
		}
	})
	for range 200 {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
		_, _ = c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: " + addr + "\r\n\r\n"))
	}
	deadline := time.Now().Add(3 * time.Second)
	for _, c := range held {
		_ = c.SetReadDeadline(deadline)
		_, _ = c.Read(make([]byte, 512))
	}

	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Get(issuer + "/healthz")
	if err != nil {
		t.Fatalf("/healthz with 200 idle connections held: %v\n%s", err, lastLines(stderr.String(), 5))
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %s", resp.Status)
	}
	if code, _, errOut := runCLI(t, "login", "--issuer", issuer, "--client-id", "mcp-client", "--client-secret", "mcp-secret",
		"--username", "alice", "--password", "alice"); code != 0 {
		t.Errorf("login with 200 idle connections held: exit %d %s", code, errOut)
	}
	if strings.Contains(stderr.String(), "too many open files") {
		t.Errorf("the server ran out of descriptors:\n%s", lastLines(stderr.String(), 5))
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
