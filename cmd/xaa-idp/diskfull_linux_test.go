package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestServe_AuditLogFullRecoversWhenSpaceReturns: when the audit log
// cannot grow (the disk is full; here the real binary's file size limit,
// which fails its writes as a full disk does, part of a line written), a
// login gets no token, the file keeps only whole lines, and once there is
// room again the same process logs in and records it, without a restart
// (docs/audit.md, "After a failed write").
func TestServe_AuditLogFullRecoversWhenSpaceReturns(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(xaaIDPBinary(t), "serve", "--addr", "127.0.0.1:0", "--state-dir", dir)
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	pr, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed no issuer: %v\n%s", err, stderr)
	}
	issuer := strings.TrimSpace(line)
	loginAlice(t, issuer)

	file := filepath.Join(dir, "audit.jsonl")
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	setFsize := func(n uint64) {
		t.Helper()
		if err := unix.Prlimit(cmd.Process.Pid, unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: n, Max: unix.RLIM_INFINITY}, nil); err != nil {
			t.Skipf("cannot limit the server's file size: %v", err)
		}
	}
	setFsize(uint64(fi.Size()) + 100) // room for no event's line
	code, out, errOut := runCLI(t, "login", "--issuer", issuer, "--client-id", "mcp-client", "--client-secret", "mcp-secret", "--username", "alice", "--password", "alice")
	if code == 0 || strings.Contains(out, "id_token") {
		t.Fatalf("login with a full audit log: exit %d\n%s", code, out)
	}
	if !strings.Contains(errOut, "audit log could not be written") {
		t.Errorf("login with a full audit log: %s", errOut)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(data)) != fi.Size() {
		t.Errorf("the audit log grew from %d to %d bytes while no event could be written whole", fi.Size(), len(data))
	}

	setFsize(unix.RLIM_INFINITY) // space returns
	resp, err := http.Get(issuer + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz after a full disk: %d", resp.StatusCode)
	}
	tokens := loginAlice(t, issuer)
	if tokens["id_token"] == nil {
		t.Fatalf("no ID token once there is room again: %v", tokens)
	}
	time.Sleep(100 * time.Millisecond)
	data, err = os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(data, []byte("\n")) {
		t.Fatal("the audit log ends in a partial line")
	}
	logins := 0
	for _, l := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		var ev struct{ Type, Outcome string }
		if err := json.Unmarshal(l, &ev); err != nil {
			t.Fatalf("audit line %q: %v", l, err)
		}
		if ev.Type == "login" && ev.Outcome == "allowed" {
			logins++
		}
	}
	if logins != 2 {
		t.Errorf("%d successful logins recorded, want the 2 that got a token", logins)
	}
}
