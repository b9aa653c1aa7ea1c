package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pushAttempts returns bob's event_push events in the audit log at path,
// whole lines only (the IdP may be writing the next).
func pushAttempts(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []map[string]any
	for line := range bytes.SplitAfterSeq(data, []byte("\n")) {
		if len(line) == 0 || line[len(line)-1] != '\n' {
			continue
		}
		var ev map[string]any
		if err := json.Unmarshal(line, &ev); err != nil {
			t.Fatalf("%s: audit line %q: %v", path, line, err)
		}
		if ev["type"] == "event_push" && ev["user"] == "bob" {
			out = append(out, ev)
		}
	}
	return out
}

// awaitPushAttempts waits until the audit log at path holds more than n of
// bob's event_push events, and returns them all.
func awaitPushAttempts(t *testing.T, path string, n int, stderr *syncBuffer) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if evs := pushAttempts(t, path); len(evs) > n {
			return evs
		}
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d event_push events for bob in %s after 60s:\n%s", n+1, path, stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func attemptOf(ev map[string]any) int {
	details, _ := ev["details"].(map[string]any)
	n, _ := details["attempt"].(float64)
	return int(n)
}

// TestServe_PushAttemptsCountOnAcrossARestart: a SET whose receiver is
// down is retried with a back-off that doubles, and each attempt's audit
// event counts it (docs/configuration.md, "Revocation push"). Until
// 2026-12-07 a restart on the same state directory forgot both: the
// attempt after it was audited as attempt 1 again, and the back-off
// started over at 1 s.
func TestServe_PushAttemptsCountOnAcrossARestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the binary twice and waits for retries")
	}
	r := newSETReceiver(t) // down: every SET answered 503
	file, state := endedFiles(t, fmt.Sprintf(pushConfig, r.URL+"/events"))
	auditFile := filepath.Join(state, "audit.jsonl")

	issuer, cmd, stderr := startKillable(t, file, state)
	if code, body := adminDo(context.Background(), http.MethodPatch, issuer+"/admin/api/users/bob", map[string]bool{"disabled": true}); code != http.StatusOK {
		t.Fatalf("PATCH bob: %d %s", code, body)
	}
	awaitPushAttempts(t, auditFile, 1, stderr) // two attempts: a retry
	stop(t, cmd, stderr)
	evs := pushAttempts(t, auditFile)
	before := evs[len(evs)-1]
	jti, n := before["jti"], attemptOf(before)
	if n < 2 {
		t.Fatalf("the last attempt before the restart is audited as attempt %d, want 2 or more: %v", n, before)
	}

	_, cmd, stderr = startKillable(t, file, state)
	after := awaitPushAttempts(t, auditFile, len(evs), stderr)[len(evs)]
	stop(t, cmd, stderr)
	if after["jti"] != jti {
		t.Fatalf("the SET retried after the restart has jti %v, want %v (the same SET)", after["jti"], jti)
	}
	if got := attemptOf(after); got != n+1 {
		t.Errorf("the first attempt after the restart is audited as attempt %d, want %d (the count goes on): %v", got, n+1, after)
	}
	// The back-off doubles on from where it was: after attempt n+1 it is
	// 1 s << n, up to 15 s.
	want := fmt.Sprintf("retry in %s", min(time.Second<<n, 15*time.Second))
	if reason, _ := after["reason"].(string); !strings.Contains(reason, want) {
		t.Errorf("the first attempt after the restart says %q, want %q (the back-off goes on)", reason, want)
	}
}
