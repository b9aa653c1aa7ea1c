package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runBinaryFor runs the real binary to completion, or kills it after d:
// a command that hangs fails the test instead of hanging it.
func runBinaryFor(t *testing.T, d time.Duration, args ...string) (code int, stderr string) {
	t.Helper()
	bin := xaaIDPBinary(t) // built before d starts: a slow build is no hang
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var errb bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stderr = &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("xaa-idp %s: still running after %s", strings.Join(args, " "), d)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), errb.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, errb.String()
}

// TestBinary_KeyFileThatIsNoRegularFile: an entry of signing.key_files
// that is a device (/dev/zero), a named pipe or a file far larger than a
// PEM key is refused by check, at the entry's line, and by serve, with the
// same words. Both read such a file in full: /dev/zero filled memory, a
// pipe without a writer hung them.
func TestBinary_KeyFileThatIsNoRegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "key.fifo")
	mkfifo(t, fifo)
	huge := filepath.Join(dir, "huge.pem")
	if err := os.WriteFile(huge, bytes.Repeat([]byte("A"), 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{"/dev/zero", "/dev/zero: not a regular file but a device; give the path of a PEM private key"},
		{fifo, fifo + ": not a regular file but a named pipe; give the path of a PEM private key"},
		{huge, huge + ": larger than 64 KiB, too large for a PEM private key"},
	} {
		t.Run(filepath.Base(c.path), func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(cfg, []byte("signing:\n  key_files:\n    - "+c.path+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			want := cfg + ":3: signing.key_files[0]: " + c.want
			for _, args := range [][]string{{"check"}, {"serve", "--addr", "127.0.0.1:0"}} {
				code, stderr := runBinaryFor(t, 20*time.Second, append(args, "--config", cfg)...)
				if code != exitUsage || !strings.Contains(stderr, want) {
					t.Errorf("%s: exit %d, want %d and %q:\n%s", args[0], code, exitUsage, want, stderr)
				}
			}
		})
	}
}
