package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stopWithSETInFlight starts serve (args added) on pushConfig with a
// receiver that holds each SET past the post's 3 s, disables bob through
// the admin API, and stops the IdP with SIGTERM while his SET's post is in
// flight. It returns what serve wrote on stderr.
func stopWithSETInFlight(t *testing.T, args ...string) string {
	t.Helper()
	got := make(chan struct{}, 10)
	release := make(chan struct{})
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		got <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer rcv.Close()
	defer close(release)
	file, _ := endedFiles(t, fmt.Sprintf(pushConfig, rcv.URL+"/events"))
	cmd, out, stderr := startKilledAtEnd(t, append([]string{"serve", "--config", file, "--addr", "127.0.0.1:0"}, args...)...)
	issuer, err := out.ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed nothing: %v\n%s", err, stderr)
	}
	go io.Copy(io.Discard, out)
	issuer = strings.TrimSpace(issuer)
	if code, body := adminDo(context.Background(), http.MethodPatch, issuer+"/admin/api/users/bob", map[string]bool{"disabled": true}); code != http.StatusOK {
		t.Fatalf("PATCH bob: %d %s", code, body)
	}
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatalf("bob's SET was never posted:\n%s", stderr)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve after SIGTERM: %v\n%s", err, stderr)
	}
	return stderr.String()
}

// TestServe_StoppedIsTheLastRecord: the README promises that the last log
// record of a clean stop is `stopped`. A stop waits for a revocation's
// post in flight (up to 3 s) after the requests; until 2026-12-06 it logged
// `stopped` first and the post's event_push after it, and the state
// directory was still locked once `stopped` had been logged.
func TestServe_StoppedIsTheLastRecord(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the binary and waits for a post to time out")
	}
	stderr := stopWithSETInFlight(t, "--state-dir", t.TempDir())
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if last := lines[len(lines)-1]; !strings.Contains(last, "msg=stopped") {
		t.Errorf("the last log record is not `stopped`: %s\n%s", last, stderr)
	}
	if !strings.Contains(stderr, "type=event_push") {
		t.Errorf("the post in flight at the stop was not audited:\n%s", stderr)
	}
}

// TestServe_StopWithoutStateDirAuditsLostSETs: without --state-dir the
// SETs not yet delivered at a stop are lost (README, "Offboarding"). Until
// 2026-12-06 the audit's last word on such a SET was "failed; retry in
// 3s", a retry that never came; now the stop audits each one as not
// delivered, and the log says how many.
func TestServe_StopWithoutStateDirAuditsLostSETs(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the binary and waits for a post to time out")
	}
	auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
	stderr := stopWithSETInFlight(t, "--audit-log", auditFile)
	data, err := os.ReadFile(auditFile)
	if err != nil {
		t.Fatal(err)
	}
	var last map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(string(data)), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		if ev["type"] == "event_push" && ev["user"] == "bob" {
			last = ev
		}
	}
	if last == nil {
		t.Fatalf("no event_push for bob in the audit log:\n%s", data)
	}
	if r, _ := last["reason"].(string); last["outcome"] != "error" || !strings.Contains(r, "not delivered") || !strings.Contains(r, "--state-dir") {
		t.Errorf("the audit's last word on bob's SET, lost at the stop, does not say so: %v", last)
	}
	if !strings.Contains(stderr, "not delivered") {
		t.Errorf("the log does not say that a SET was lost at the stop:\n%s", stderr)
	}
}
