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

// TestCAFile_MissingFileIsSaidInPlainWords: a --ca-file that is not there
// (a mistyped path, the CA not copied out of a container yet) was said as
// the system call that failed, "--ca-file: stat FILE: no such file or
// directory"; it is said not to exist, with where the file comes from.
// Exit 2, for every command that takes --ca-file.
func TestCAFile_MissingFileIsSaidInPlainWords(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "ca.pem")
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{file, filepath.Join(notDir, "ca.pem")} {
		want := "--ca-file: " + path + " does not exist; give the path of a PEM file of CA certificates ('xaa-idp ca --state-dir DIR' prints the local CA's)"
		for _, args := range [][]string{
			{"login", "--issuer", "http://127.0.0.1:1", "--client-id", "c", "--username", "u", "--password", "p"},
			{"healthcheck", "--url", "http://127.0.0.1:1"},
			{"keys", "list", "--issuer", "http://127.0.0.1:1", "--admin-user", "a", "--admin-password", "p"},
			{"load", "--issuer", "http://127.0.0.1:1"},
		} {
			code, stderr := runCLIFor(t, 10*time.Second, append(args, "--ca-file", path)...)
			if code != exitUsage || !strings.Contains(stderr, want) || strings.Contains(stderr, "stat ") {
				t.Errorf("%s --ca-file %s: exit %d, stderr %q; want exit %d saying %q", args[0], path, code, stderr, exitUsage, want)
			}
		}
	}
}

// TestCAFile_FromTheVariableIsNamedAsSet: a missing CA file given as
// XAA_IDP_CA_FILE, as a container's HEALTHCHECK or a CI job is given its
// settings (README, "In a container"), was said as "--ca-file: FILE does
// not exist", a flag the user never wrote; it names the variable, as
// every other refused value does.
func TestCAFile_FromTheVariableIsNamedAsSet(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ca.pem")
	t.Setenv("XAA_IDP_CA_FILE", path)
	want := "XAA_IDP_CA_FILE (--ca-file): " + path + " does not exist"
	for _, args := range [][]string{
		{"login", "--issuer", "http://127.0.0.1:1", "--client-id", "c", "--username", "u", "--password", "p"},
		{"healthcheck", "--url", "http://127.0.0.1:1"},
		{"keys", "list", "--issuer", "http://127.0.0.1:1", "--admin-user", "a", "--admin-password", "p"},
		{"load", "--issuer", "http://127.0.0.1:1"},
	} {
		code, stderr := runCLIFor(t, 10*time.Second, args...)
		if code != exitUsage || !strings.Contains(stderr, want) {
			t.Errorf("%s with XAA_IDP_CA_FILE=%s: exit %d, stderr %q; want exit %d saying %q", args[0], path, code, stderr, exitUsage, want)
		}
	}
}
