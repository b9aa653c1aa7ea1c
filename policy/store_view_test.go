package policy_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/fixtures"
	"github.com/xaa-idp/xaa-idp/policy"
)

// TestStore_View: a Store opened with FileChecks.View runs the file as the
// view reads it, at start, after an edit and after a reload, and keeps the
// file as written: a server put back as it runs changes nothing in the
// file, and the edit's Before is the server as it ran (the admin_change
// event's "before"), not as the file writes it.
func TestStore_View(t *testing.T) {
	file := filepath.Join(t.TempDir(), "demo.yaml")
	if err := os.WriteFile(file, fixtures.Demo, 0o600); err != nil {
		t.Fatal(err)
	}
	const written, running = "http://127.0.0.1:8101", "https://127.0.0.1:8101"
	view := func([]byte) func([]byte) []byte {
		return func(b []byte) []byte { return bytes.ReplaceAll(b, []byte(written), []byte(running)) }
	}
	s, err := policy.OpenStoreChecked(file, policy.FileChecks{View: view})
	if err != nil {
		t.Fatal(err)
	}
	tracker := *s.Config().Server("tracker")
	if tracker.Issuer != running {
		t.Fatalf("tracker runs with issuer %s, want %s", tracker.Issuer, running)
	}
	tracker.Name = "Tracker 2"
	ch, err := s.PutServer(tracker, "*")
	if err != nil {
		t.Fatal(err)
	}
	if before, ok := ch.Before.(policy.MCPServer); !ok || before.Issuer != running {
		t.Errorf("Before = %+v, want the server as it ran, issuer %s", ch.Before, running)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if want := bytes.Replace(fixtures.Demo, []byte("name: Issue Tracker"), []byte("name: Tracker 2"), 1); !bytes.Equal(data, want) {
		t.Errorf("after putting the server back renamed, the file is:\n%s", data)
	}
	if got := s.Config().Server("tracker"); got.Issuer != running || got.Name != "Tracker 2" {
		t.Errorf("after the edit tracker runs as %s %q", got.Issuer, got.Name)
	}

	// A change on disk is read through the view too.
	time.Sleep(10 * time.Millisecond) // another modification time
	if err := os.WriteFile(file, []byte(strings.Replace(string(data), "Tracker 2", "Tracker 3", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	settle(s)
	if got := s.Config().Server("tracker"); got.Issuer != running || got.Name != "Tracker 3" {
		t.Errorf("after a reload tracker runs as %s %q", got.Issuer, got.Name)
	}
}
