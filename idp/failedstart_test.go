package idp_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/idp"
)

// TestNew_FailedStartClosesWhatItOpened: a start that fails after it
// opened the state directory's record of ended logins, of refresh tokens
// and of completed logins (here: an access requests file it cannot read)
// left those files open, three descriptors each time: a test suite that
// embeds the IdP and starts it many times against a broken state
// directory ran out of them. Now a failed start closes what it opened,
// and a start after the file is fixed works in the same process.
func TestNew_FailedStartClosesWhatItOpened(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts the descriptors in /proc/self/fd")
	}
	dir := t.TempDir()
	requests := filepath.Join(dir, "access-requests.json")
	if err := os.WriteFile(requests, []byte("not the requests"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := conformanceConfig(t)
	start := func() (*idp.Server, error) {
		return idp.New(idp.Options{Config: cfg, Issuer: "http://127.0.0.1:19150", StateDir: dir})
	}
	// Once first: what a process opens once (the keys' directory read).
	if _, err := start(); err == nil || !strings.Contains(err.Error(), "access requests") {
		t.Fatalf("start with a broken access requests file: %v, want its error", err)
	}
	before := openFiles(t)
	const starts = 30
	for range starts {
		if _, err := start(); err == nil {
			t.Fatal("a start with a broken access requests file worked")
		}
	}
	// Far from 0: other tests' connections may close or open meanwhile.
	if grown := openFiles(t) - before; grown >= starts {
		t.Errorf("%d failed starts left %d more descriptors open", starts, grown)
	}
	if err := os.Remove(requests); err != nil {
		t.Fatal(err)
	}
	srv, err := start()
	if err != nil {
		t.Fatalf("a start after the file was removed: %v", err)
	}
	srv.Close()
}

// openFiles is the number of the process's open descriptors.
func openFiles(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(fds)
}
