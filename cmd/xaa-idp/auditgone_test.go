package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestServe_AuditLogRemovedOrMovedWhileRunning: an audit log deleted, or
// moved away (a log rotation) and replaced, while serve runs does not take
// the events of the tokens handed out afterwards with it: each is appended
// to the file at the log's path, created anew if need be, before the token
// is handed out (docs/audit.md, "Deleted or moved away").
func TestServe_AuditLogRemovedOrMovedWhileRunning(t *testing.T) {
	dir := t.TempDir()
	issuer, _ := startBinary(t, &syncBuffer{}, "serve", "--addr", "127.0.0.1:0", "--state-dir", dir)
	loginAlice(t, issuer)
	file := filepath.Join(dir, "audit.jsonl")

	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	loginAlice(t, issuer)
	if n := successfulLogins(t, file); n != 1 {
		t.Errorf("after the audit log was deleted: %d successful logins in a new %s, want the 1 since", n, file)
	}

	if err := os.Rename(file, file+".1"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, nil, 0o600); err != nil { // logrotate's "create"
		t.Fatal(err)
	}
	loginAlice(t, issuer)
	if n := successfulLogins(t, file); n != 1 {
		t.Errorf("after the audit log was rotated: %d successful logins in the new %s, want the 1 since", n, file)
	}
	if n := successfulLogins(t, file+".1"); n != 1 {
		t.Errorf("the rotated log holds %d successful logins, want 1", n)
	}
}

// successfulLogins counts the login events with outcome allowed in the
// audit log file, which must hold whole JSON lines only.
func successfulLogins(t *testing.T, file string) int {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 0 && !bytes.HasSuffix(data, []byte("\n")) {
		t.Fatalf("%s ends in a partial line", file)
	}
	n := 0
	for _, l := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		var ev struct{ Type, Outcome string }
		if err := json.Unmarshal(l, &ev); err != nil {
			t.Fatalf("%s: line %q: %v", file, l, err)
		}
		if ev.Type == "login" && ev.Outcome == "allowed" {
			n++
		}
	}
	return n
}
