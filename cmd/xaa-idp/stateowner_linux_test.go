package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestServe_StateFileOfAnotherUserSaysWhatToDo: a state directory whose
// file belongs to another user (restored from a backup as root, or an IdP
// once started with sudo) stops the start with exit 1, naming the file and
// saying what to do: which user the IdP runs as, and to give it the file.
// Before, the start said "permission denied" and no more.
func TestServe_StateFileOfAnotherUserSaysWhatToDo(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root, to run the IdP as another user")
	}
	const nobody = 65534
	dir, binary := binaryForAnyUser(t)
	state := filepath.Join(dir, "state")
	serveAs := func() (int, string) {
		cmd := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--state-dir", state)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// A start that succeeds prints the issuer, and is stopped.
		if _, err := bufio.NewReader(stdout).ReadString('\n'); err == nil {
			_ = cmd.Process.Signal(os.Interrupt)
		}
		_ = cmd.Wait()
		return cmd.ProcessState.ExitCode(), stderr.String()
	}
	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(state, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	if code, out := serveAs(); code != 0 {
		t.Fatalf("serve as nobody: exit %d\n%s", code, out)
	}
	key := filepath.Join(state, "keys", "es256.pem")
	if err := os.Chown(key, 0, 0); err != nil { // root's now
		t.Fatal(err)
	}
	code, out := serveAs()
	if code != 1 {
		t.Fatalf("serve with a key file of root's: exit %d, want 1\n%s", code, out)
	}
	for _, want := range []string{key, "permission denied", "uid 65534", "chown"} {
		if !strings.Contains(out, want) {
			t.Errorf("serve with a key file of root's says no %q:\n%s", want, out)
		}
	}
}

// binaryForAnyUser is a directory that every user reaches (its parents
// up to the temporary directory opened to them), holding a copy of the
// command that every user may run: the test binary's directory is its
// owner's only.
func binaryForAnyUser(t *testing.T) (dir, binary string) {
	t.Helper()
	dir = t.TempDir()
	for d := dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin, err := os.ReadFile(xaaIDPBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	binary = filepath.Join(dir, "xaa-idp")
	if err := os.WriteFile(binary, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, binary
}
