package main

import (
	"bufio"
	"context"
	"encoding/json"
	"github.com/xaa-idp/xaa-idp/audit"
	"log/slog"
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

// gateWriter blocks every write until open is closed.
type gateWriter struct {
	open chan struct{}
	buf  syncBuffer
}

func (g *gateWriter) Write(p []byte) (int, error) {
	<-g.open
	return g.buf.Write(p)
}

// TestLogAudit_SaysWhatItLeftOut: a log that falls more than its buffer
// behind (a flood of refused exchanges) says, once it catches up, how many
// audit events it left out, in one record, and the audit log counts them.
func TestLogAudit_SaysWhatItLeftOut(t *testing.T) {
	log, err := audit.Open(audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := &gateWriter{open: make(chan struct{})}
	logger := slog.New(slog.NewJSONHandler(w, nil))
	done := logAudit(log, logger)
	const total = auditLogBuffer + 500
	for range total {
		if _, err := log.Append(audit.Event{Type: audit.TypeTokenExchange, Outcome: audit.Denied, Error: "invalid_grant", ClientID: "c"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := log.Append(audit.Event{Type: audit.TypeAdminChange, Outcome: audit.Allowed, Admin: "alice"}); err != nil {
		t.Fatal(err)
	}
	close(w.open)
	// The admin change is left out too; what comes once the log caught up
	// is logged.
	time.Sleep(200 * time.Millisecond)
	if _, err := log.Append(audit.Event{Type: audit.TypeLogin, Outcome: audit.Allowed, User: "bob"}); err != nil {
		t.Fatal(err)
	}
	log.Close()
	<-done
	var logged, leftOut, reports int
	for _, line := range strings.Split(strings.TrimSpace(w.buf.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		switch rec["msg"] {
		case "audit":
			logged++
		default:
			if n, ok := rec["left_out"].(float64); ok {
				reports++
				leftOut += int(n)
				if !strings.Contains(line, "the audit log has them") || rec["level"] != "WARN" {
					t.Errorf("report: %s", line)
				}
			}
		}
	}
	if reports != 1 || leftOut == 0 || logged+leftOut != total+2 {
		t.Errorf("%d reports of %d left out, %d logged: want one report, and logged + left out = %d\n%s", reports, leftOut, logged, total+2, w.buf.String())
	}
	if got := log.SubscriberMisses(); got != int64(leftOut) {
		t.Errorf("SubscriberMisses %d, want %d", got, leftOut)
	}
}

// TestDroppedAfterStop_KeepsWhatStderrTakes: after the stop, a record that
// stderr takes is written however late it comes (a shutdown's warning after
// 5 s of waiting for requests); only one that stderr does not take in
// logDrainWait is dropped, and every later one with it.
func TestDroppedAfterStop_KeepsWhatStderrTakes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var buf syncBuffer
	w := droppedAfterStop(ctx, &buf)
	cancel()
	time.Sleep(logDrainWait + 200*time.Millisecond)
	if _, err := w.Write([]byte("late\n")); err != nil || buf.String() != "late\n" {
		t.Fatalf("a late record to a stderr that takes it: %v, wrote %q", err, buf.String())
	}

	ctx, cancel = context.WithCancel(context.Background())
	gate := &gateWriter{open: make(chan struct{})}
	defer close(gate.open)
	w = droppedAfterStop(ctx, gate)
	cancel()
	start := time.Now()
	w.Write([]byte("stuck\n"))
	w.Write([]byte("dropped\n"))
	if d := time.Since(start); d > logDrainWait+time.Second {
		t.Errorf("writes to a stderr nobody reads took %v after the stop", d)
	}
}
