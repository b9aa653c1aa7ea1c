package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCAFile_NotARegularFileOrTooLarge: --ca-file was read whole, whatever
// it was: a named pipe without a writer hung the command, /dev/zero filled
// its memory until the kernel killed it, and a device or a huge file was
// read in full to say "holds no PEM certificate". Anything but a regular
// file or a pipe is refused before it is read, naming what it is, and so
// is a file larger than any CA bundle, as --config and signing.key_files
// are; a pipe no process writes within 5 s, then. Exit 2; nothing listens
// on the issuer.
func TestCAFile_NotARegularFileOrTooLarge(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "ca.pem")
	mkfifo(t, fifo)
	big := filepath.Join(dir, "big.pem")
	if err := os.WriteFile(big, make([]byte, 8<<20+1), 0o600); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{
		fifo:       fifo + ": a named pipe that no process wrote and closed within 5s; give the path of a PEM file of CA certificates",
		os.DevNull: os.DevNull + ": not a regular file but a device; give the path of a PEM file of CA certificates",
		dir:        dir + ": not a regular file but a directory; give the path of a PEM file of CA certificates",
		big:        big + ": larger than 8 MiB, too large for a PEM file of CA certificates",
	} {
		code, stderr := runCLIFor(t, 10*time.Second, "login", "--issuer", "http://127.0.0.1:1", "--client-id", "c", "--username", "u", "--password", "p", "--ca-file", file)
		if code != exitUsage || !strings.Contains(stderr, "--ca-file: "+want) {
			t.Errorf("--ca-file %s: exit %d, stderr %q; want exit %d saying %q", file, code, stderr, exitUsage, want)
		}
	}
}
