package main

import (
	"bufio"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServe_StopsWhileNobodyReadsStderr: with stderr a pipe nobody reads (a
// CI step whose reader died), serve still stops on SIGTERM within a few
// seconds, and the audit file has every event even though the log could not
// show them.
func TestServe_StopsWhileNobodyReadsStderr(t *testing.T) {
	dir := t.TempDir()
	auditFile := filepath.Join(dir, "audit.jsonl")
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close() // never read
	cmd := exec.Command(xaaIDPBinary(t), "serve", "--addr", "127.0.0.1:0", "--audit-log", auditFile)
	cmd.Stderr = pw
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() { _ = cmd.Process.Kill() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed no issuer: %v", err)
	}
	issuer := strings.TrimSpace(line)
	// Refused exchanges, logged at info, until the pipe (64 KiB) is full
	// many times over.
	const refusals = 1000
	form := url.Values{
		"grant_type":         {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:id_token"},
		"subject_token":      {"not-a-token"},
		"audience":           {"http://127.0.0.1:8101"},
	}.Encode()
	for range refusals {
		req, _ := http.NewRequest(http.MethodPost, issuer+"/oauth/token", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("mcp-client", "mcp-secret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("refused exchange: status %d", resp.StatusCode)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(8 * time.Second):
		t.Fatal("serve did not stop on SIGTERM while its stderr was not read")
	}
	file, err := os.ReadFile(auditFile)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(file), `"type":"token_exchange"`); n != refusals {
		t.Errorf("the audit file has %d token exchange events, want %d", n, refusals)
	}
}
