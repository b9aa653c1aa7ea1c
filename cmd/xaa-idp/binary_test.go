package main

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var builtBinary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// TestMain removes the binary that the tests of the real binary share. The
// tests keep the IdP's generated RS256 key (keyCacheDir) in a cache
// directory of their own, not the user's.
func TestMain(m *testing.M) {
	cache, err := os.MkdirTemp("", "xaa-idp-cache-")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CACHE_HOME", cache)
	code := m.Run()
	if builtBinary.dir != "" {
		os.RemoveAll(builtBinary.dir)
	}
	os.RemoveAll(cache)
	os.Exit(code)
}

// xaaIDPBinary builds this command once per test run, with VCS stamping
// when the module is in a work tree (GOFLAGS may say otherwise), and
// returns its path.
func xaaIDPBinary(t *testing.T) string {
	t.Helper()
	builtBinary.once.Do(func() {
		builtBinary.dir, builtBinary.err = os.MkdirTemp("", "xaa-idp-cli-")
		if builtBinary.err != nil {
			return
		}
		path := filepath.Join(builtBinary.dir, "xaa-idp")
		cmd := exec.Command("go", "build", "-buildvcs=auto", "-o", path, ".")
		if out, err := cmd.CombinedOutput(); err != nil {
			builtBinary.err = &buildError{err, out}
			return
		}
		builtBinary.path = path
	})
	if builtBinary.err != nil {
		t.Fatal(builtBinary.err)
	}
	return builtBinary.path
}

type buildError struct {
	err error
	out []byte
}

func (e *buildError) Error() string { return "go build: " + e.err.Error() + "\n" + string(e.out) }

// runBinary runs the real binary to completion.
func runBinary(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(xaaIDPBinary(t), args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String(), errb.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, out.String(), errb.String()
}

// startBinary starts a long-running command of the real binary, waits for
// the first line of its stdout and returns it; the process gets SIGINT
// when the test ends. stderr collects what it logs.
func startBinary(t *testing.T, stderr *syncBuffer, args ...string) (firstLine string, stdout *syncBuffer) {
	t.Helper()
	cmd := exec.Command(xaaIDPBinary(t), args...)
	pr, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%v after SIGINT: %v\n%s", args, err, stderr)
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("%v did not stop on SIGINT", args)
		}
	})
	r := bufio.NewReader(pr)
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("%v printed nothing: %v\n%s", args, err, stderr)
	}
	stdout = &syncBuffer{}
	stdout.Write([]byte(line))
	go io.Copy(stdout, r)
	return strings.TrimSpace(line), stdout
}

// startKilledAtEnd starts the real binary with args and returns it, its
// stdout and the buffer that collects its stderr; the process is killed
// (not interrupted: a test may have killed it already, as a crash does)
// when the test ends.
func startKilledAtEnd(t *testing.T, args ...string) (*exec.Cmd, *bufio.Reader, *syncBuffer) {
	t.Helper()
	stderr := &syncBuffer{}
	cmd := exec.Command(xaaIDPBinary(t), args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, bufio.NewReader(out), stderr
}

// waitFor waits until buf holds want, and returns what it holds.
func waitFor(t *testing.T, buf *syncBuffer, want string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(buf.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in:\n%s", want, buf)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return buf.String()
}
