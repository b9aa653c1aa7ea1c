package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServe_WarnsOfStateKeysOthersCanUse: a state directory copied without
// its modes (cp -r under umask 022, a checkout, an archive) holds signing
// keys other users can read, who can then sign tokens, and a keys
// directory they can write, who can swap a key; the start read them
// without a word, as it warns of a state directory others can write.
// Its own 0700 and 0600 are not warned of.
func TestServe_WarnsOfStateKeysOthersCanUse(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	_, stop := serveWithLogs(t, "--state-dir", state)
	if logs := stop(); strings.Contains(logs, "other users") {
		t.Fatalf("a state directory serve made: warned:\n%s", logs)
	}
	keys := filepath.Join(state, "keys")
	key := filepath.Join(keys, "rs256.pem")
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(keys, 0o777); err != nil {
		t.Fatal(err)
	}
	_, stop = serveWithLogs(t, "--state-dir", state)
	logs := stop()
	for _, want := range []string{key, keys} {
		if !strings.Contains(logs, "other users") || !strings.Contains(logs, want) {
			t.Errorf("a start with %s readable and %s writable by others: no warning naming %s:\n%s", key, keys, want, logs)
		}
	}
}
