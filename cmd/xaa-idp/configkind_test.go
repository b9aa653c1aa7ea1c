package main

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/fixtures"
)

// TestBinary_ConfigThatIsANamedPipe: --config naming a named pipe (FIFO)
// is refused at once, naming the file, by check, serve and demo (exit 2).
// They opened it and waited for a writer forever, deaf to SIGINT.
func TestBinary_ConfigThatIsANamedPipe(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "idp.yaml")
	mkfifo(t, fifo)
	want := fifo + ": cannot read the file: not a regular file but a named pipe"
	for _, args := range [][]string{
		{"check", "--config", fifo},
		{"serve", "--config", fifo, "--addr", "127.0.0.1:0"},
		{"demo", "--config", fifo, "--addr", "127.0.0.1:0"},
		{"explain", "--config", fifo, "--user", "u", "--client", "c", "--audience", "a"},
	} {
		code, stderr := runBinaryFor(t, 20*time.Second, args...)
		if code != exitUsage || !strings.Contains(stderr, want) {
			t.Errorf("%s: exit %d, want %d and %q:\n%s", args[0], code, exitUsage, want, stderr)
		}
	}
}

// TestServe_ConfigReplacedByANamedPipe: a named pipe moved into the place
// of the file while serving is reported as a file that cannot be read and
// the running configuration is kept; an admin edit is refused (409) naming
// it. The watcher blocked opening the pipe, holding the lock every edit
// takes, so that edits hung.
func TestServe_ConfigReplacedByANamedPipe(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "idp.yaml")
	if err := os.WriteFile(file, fixtures.Demo, 0o600); err != nil {
		t.Fatal(err)
	}
	issuer := startServe(t, "--config", file)
	etag := configStatusOf(t, issuer).ETag
	fifo := filepath.Join(dir, "pipe")
	mkfifo(t, fifo)
	if err := os.Rename(fifo, file); err != nil {
		t.Fatal(err)
	}
	// Unblocks a watcher stuck opening the pipe and puts a regular file
	// back in its place, so that the server can stop after a failure.
	unblock := func() {
		w, err := os.OpenFile(file, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		back := filepath.Join(dir, "back")
		if os.WriteFile(back, fixtures.Demo, 0o600) == nil {
			_ = os.Rename(back, file)
		}
		if err == nil {
			w.Close()
		}
	}
	// Until the watcher's checks have found the pipe and reported it; the
	// deadline only guards a hang (a watcher blocked opening the pipe
	// never reports it).
	const want = "not a regular file but a named pipe"
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		st := configStatusOf(t, issuer)
		if strings.Contains(st.LastReloadError, want) {
			break
		}
		if time.Now().After(deadline) {
			unblock()
			t.Fatalf("after 60 s the status still does not report the pipe: %+v", st)
		}
	}
	done := make(chan struct{})
	var code int
	var body []byte
	go func() {
		defer close(done)
		resp, b := configCall(t, http.MethodPut, issuer+"/admin/api/groups/legal", `{"description":"Reads contracts"}`, "If-Match", etag)
		code, body = resp.StatusCode, b
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second): // only a guard against a hang
		unblock()
		t.Fatal("the admin edit hung")
	}
	if code != http.StatusConflict || !strings.Contains(string(body), want) {
		t.Errorf("PUT: %d %s, want 409 and %q", code, body, want)
	}
	if st := configStatusOf(t, issuer); st.ETag != etag {
		t.Errorf("the running configuration changed: %+v", st)
	}
}

// TestBinary_CheckRefusesAClaimSentOtherwiseThanWritten: check names the
// line of a claim that YAML reads as something else than its text (here a
// date, which the ID token carried as "2024-01-15T00:00:00Z").
func TestBinary_CheckRefusesAClaimSentOtherwiseThanWritten(t *testing.T) {
	file := filepath.Join(t.TempDir(), "idp.yaml")
	data := strings.Replace(minimalYAML(t), "    email: dev@example.com\n", "    email: dev@example.com\n    claims: {hired: 2024-01-15}\n", 1)
	if err := os.WriteFile(file, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runBinary(t, "check", "--config", file)
	if want := file + `:11: users[0].claims.hired: 2024-01-15 reads as a date, sent as "2024-01-15T00:00:00Z"; quote it ("2024-01-15") to send the text`; code != exitUsage || !strings.Contains(stderr, want) {
		t.Errorf("exit %d, want %d and %q:\n%s", code, exitUsage, want, stderr)
	}
}

// TestBinary_CheckReadsAPipedConfig: check and explain read a
// configuration piped to them (--config /dev/stdin, as in 'envsubst <
// idp.yaml.tmpl | xaa-idp check --config /dev/stdin', or 'docker run -i
// ... check --config /dev/stdin < idp.yaml'): a pipe with a writer is
// read to its end. Refusing every named pipe, so as not to wait for a
// writer that never comes, refused these too ("not a regular file but a
// named pipe"), which read them before.
func TestBinary_CheckReadsAPipedConfig(t *testing.T) {
	bin := xaaIDPBinary(t)
	for _, args := range [][]string{
		{"check", "--config", "/dev/stdin"},
		{"explain", "--config", "/dev/stdin", "--user", "alice", "--client", "mcp-client", "--audience", "tracker"},
	} {
		var out, errb bytes.Buffer
		cmd := exec.Command(bin, args...)
		cmd.Stdin = bytes.NewReader(fixtures.Demo) // a pipe: exec copies it
		cmd.Stdout, cmd.Stderr = &out, &errb
		done := make(chan error, 1)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s with the configuration piped to it: %v\n%s%s", args[0], err, out.String(), errb.String())
			}
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("%s with the configuration piped to it: still running", args[0])
		}
	}
}
