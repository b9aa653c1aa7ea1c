package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServe_ReloadLogsItsNewWarnings: check, the start and an admin's
// change warn of a subject: email server whose ID-JAGs carry no email, but
// the same change made by hand in the file, which the running server
// reloads, was silent. A reload logs the new configuration's warnings at
// WARN, with file and line, as the start does; only those that are new:
// a warning the running configuration already had is not logged again at
// every later reload.
func TestServe_ReloadLogsItsNewWarnings(t *testing.T) {
	file := filepath.Join(t.TempDir(), "idp.yaml")
	write := func(config string) {
		t.Helper()
		// Written aside and renamed into place, so that the watcher never
		// reads a half-written file.
		tmp := file + ".new"
		if err := os.WriteFile(tmp, []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, file); err != nil {
			t.Fatal(err)
		}
	}
	write(subjectEmailConfig("", "    include_email: true\n"))
	stderr := &syncBuffer{}
	startBinary(t, stderr, "serve", "--addr", "127.0.0.1:0", "--config", file)
	waitFor(t, stderr, "level=INFO msg=serving")
	if strings.Contains(stderr.String(), "warning:") {
		t.Fatalf("a warning at start:\n%s", stderr)
	}

	// include_email removed by hand: the reload warns at the subject's line.
	write(subjectEmailConfig("", ""))
	waitFor(t, stderr, "level=WARN msg=\""+file+":10: warning: server notes: ")
	// The reload's event reaches the log through the audit's subscriber, which may write it
	// after the warning: waited for, not expected in the same read.
	waitFor(t, stderr, "type=config_reload outcome=allowed")

	// A second hand edit adds an admin with a colon: that warning is
	// logged, the server's (unchanged) is not logged again.
	write(strings.Replace(subjectEmailConfig("", ""),
		"users: [{username: alice, password: alice, email: alice@acme.example}]",
		"users: [{username: alice, password: alice, email: alice@acme.example}, {username: \"ops:1\", password: ops, admin: true}]", 1))
	out := waitFor(t, stderr, "warning: user ops:1: ")
	if n := strings.Count(out, "warning: server notes: "); n != 1 {
		t.Errorf("the server's warning logged %d times, want once:\n%s", n, out)
	}
}
