package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServe_WarnsOfAPrivateKeyOthersMayRead: a signing key in the state
// directory that others may read (copied or restored with a looser umask)
// is warned of at start, naming the file, as a DPoP key and a state
// directory others may write are: anyone who reads it signs ID-JAGs.
func TestServe_WarnsOfAPrivateKeyOthersMayRead(t *testing.T) {
	dir := t.TempDir()
	startBinary(t, &syncBuffer{}, "serve", "--addr", "127.0.0.1:0", "--state-dir", dir)
	// Its keys, copied (the first process holds its state directory), one
	// of them readable by others.
	second := t.TempDir()
	if err := os.CopyFS(second, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"es256.pem", "rs256.pem"} {
		if err := os.Chmod(filepath.Join(second, "keys", name), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	copied := filepath.Join(second, "keys", "es256.pem")
	if err := os.Chmod(copied, 0o644); err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	startBinary(t, stderr, "serve", "--addr", "127.0.0.1:0", "--state-dir", second)
	out := stderr.String()
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, copied) || !strings.Contains(out, "chmod 600") {
		t.Errorf("serve with a key file of mode 0644 warns of no %s:\n%s", copied, out)
	}
	if strings.Contains(out, filepath.Join(second, "keys", "rs256.pem")) {
		t.Errorf("serve warns of a key file of mode 0600:\n%s", out)
	}
}
