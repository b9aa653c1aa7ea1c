package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCA_StateDirThatIsAFile: `ca --state-dir FILE` said "open FILE/tls/ca.pem:
// not a directory (remove FILE/tls to make a new CA)", advice that cannot
// be followed, and exited 1; a --state-dir that is no directory is bad
// usage (exit 2) that says so, and the file is left alone.
func TestCA_StateDirThatIsAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "state")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A path under the file (FILE/sub) is as little a directory: it said
	// "mkdir FILE/sub: not a directory" and exited 1.
	for _, dir := range []string{file, filepath.Join(file, "sub")} {
		code, stdout, stderr := runBinary(t, "ca", "--state-dir", dir)
		want := "xaa-idp ca: --state-dir " + `"` + dir + `"` + " is not a directory"
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, want) || strings.Contains(stderr, "remove") {
			t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 saying %q", code, stdout, stderr, want)
		}
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != "x" {
		t.Errorf("the file holds %q, %v; want it untouched", b, err)
	}
}

// TestServe_StateDirThatIsAFile: serve and demo with a --state-dir that is
// a file said "state directory: mkdir FILE: not a directory", naming no
// flag, and exited 1; it is bad usage (exit 2), refused with the other
// flags before anything starts, and the file is left alone.
func TestServe_StateDirThatIsAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "state")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A path under the file (FILE/sub) is as little a directory: it said
	// "mkdir FILE: not a directory" and exited 1.
	for _, dir := range []string{file, filepath.Join(file, "sub")} {
		for _, cmd := range []string{"serve", "demo"} {
			code, stdout, stderr := runBinary(t, cmd, "--addr", "127.0.0.1:0", "--state-dir", dir)
			want := "xaa-idp: --state-dir " + `"` + dir + `"` + " is not a directory"
			if code != exitUsage || stdout != "" || !strings.Contains(stderr, want) {
				t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 saying %q", cmd, code, stdout, stderr, want)
			}
		}
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != "x" {
		t.Errorf("the file holds %q, %v; want it untouched", b, err)
	}
}
