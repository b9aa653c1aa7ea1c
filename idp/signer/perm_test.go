package signer

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestRotate_KeyFilesAreOwnerOnly: a state directory copied without its
// modes (cp -r under umask 022) holds readable private keys; the keys a
// rotation writes, and the previous keys it keeps, are 0600 whatever the
// files they replace allowed, since anyone who reads them can sign
// tokens.
func TestRotate_KeyFilesAreOwnerOnly(t *testing.T) {
	state := t.TempDir()
	r, err := Load(Options{IDTokenAlg: "ES256", IDJAGAlg: "EdDSA", StateDir: state, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	keys := filepath.Join(state, "keys")
	if _, err := r.Rotate(time.Hour, nil); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(keys, "*"))
	if err != nil || len(files) != 3 {
		t.Fatalf("key files %v (%v), want two keys and previous.json", files, err)
	}
	for _, f := range files {
		if err := os.Chmod(f, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.Rotate(time.Hour, nil); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v (%v) after the rotation, want 0600", filepath.Base(f), fi.Mode().Perm(), err)
		}
	}
}
