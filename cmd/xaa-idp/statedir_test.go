package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/xaa-idp/xaa-idp/internal/atomicfile"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A second serve on a state directory in use refuses to start, naming the
// directory and the process that holds it, instead of appending to the
// same audit log, rotating the same keys and replacing the push journal
// under the first. A holder killed with SIGKILL blocks nothing.
func TestServe_SecondProcessOnAStateDirRefusesToStart(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	cmd := exec.Command(xaaIDPBinary(t), "serve", "--addr", "127.0.0.1:0", "--state-dir", state)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
		t.Fatalf("serve printed no issuer: %v", err)
	}

	for _, command := range []string{"serve", "demo"} {
		code, stdout, stderr := runBriefly(t, command, "--addr", "127.0.0.1:0", "--state-dir", state)
		if code != exitFailure || stdout != "" || !strings.Contains(stderr, "state directory "+state+" is in use") ||
			!strings.Contains(stderr, "pid "+strconv.Itoa(cmd.Process.Pid)) || !strings.Contains(stderr, "--state-dir") {
			t.Errorf("second %s on the same --state-dir: exit %d, stdout %q, stderr:\n%s", command, code, stdout, stderr)
		}
	}

	cmd.Process.Kill()
	cmd.Wait()
	issuer, _ := startBinary(t, &syncBuffer{}, "serve", "--addr", "127.0.0.1:0", "--state-dir", state)
	if !strings.HasPrefix(issuer, "http://") {
		t.Fatalf("serve after the holder was killed: %q", issuer)
	}
	if fi, err := os.Stat(state); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("state directory mode %v (%v), want 0700", fi.Mode().Perm(), err)
	}
}

// runBriefly runs the real binary like runBinary, but a command still
// running after 10 s (one that should have refused to start) is killed and
// reported as exit -1.
func runBriefly(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	bin := xaaIDPBinary(t) // built before the 10 s start: a slow build is no hang
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return -1, out.String(), errb.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String(), errb.String()
	case err != nil:
		t.Fatal(err)
	}
	return 0, out.String(), errb.String()
}

// The start removes the temporaries that a killed process left in the
// directories it writes (the state directory, its keys and tls, each
// tenant's directory and keys), and nothing elsewhere under it: a
// directory put there by someone else (another state directory, a backup)
// is neither read through nor cleaned, so that the start costs no more than
// the state it owns, and another process's temporary is not taken from it.
func TestServe_StartRemovesTemporariesOnlyWhereItWrites(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	tmp := func(dir, name string) string {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(state, dir), 0o700); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(state, dir, "."+name+".123"+atomicfile.TempSuffix)
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	stale := []string{
		tmp(".", "access-requests.json"), tmp("keys", "es256.pem"), tmp("tls", "ca.pem"),
		tmp("tenants/acme", "push-standing.json"), tmp("tenants/acme/keys", "rs256.pem"),
	}
	kept := []string{
		tmp("other-state", "access-requests.json"), tmp("backup/keys", "es256.pem"),
		tmp("tenants/acme/keys/old", "rs256.pem"),
	}
	var stderr syncBuffer
	startBinary(t, &stderr, "serve", "--addr", "127.0.0.1:0", "--state-dir", state)
	waitFor(t, &stderr, "msg=serving issuer=")
	for _, p := range stale {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s kept", p)
		}
		if !strings.Contains(stderr.String(), p) {
			t.Errorf("removing %s not reported", p)
		}
	}
	for _, p := range kept {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s, not in a directory the IdP writes, was removed", p)
		}
	}
}
