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

	"github.com/xaa-idp/xaa-idp/fixtures"
)

// TestServe_AuditLogFullRecoversWhenSpaceReturns: when the audit log
// cannot grow (the disk is full; here the real binary's file size limit,
// which fails its writes as a full disk does, part of a line written), a
// login gets no token, the file keeps only whole lines, and once there is
// room again the same process logs in and records it, without a restart
// (docs/audit.md, "After a failed write").
func TestServe_AuditLogFullRecoversWhenSpaceReturns(t *testing.T) {
	dir := t.TempDir()
	issuer, setFsize := serveWithFileLimit(t, "--state-dir", dir)
	loginAlice(t, issuer)

	file := filepath.Join(dir, "audit.jsonl")
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
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

// serveWithFileLimit starts serve (killed when the test ends) and returns
// its issuer and a function that sets the process's file size limit, which
// fails its writes beyond that size as a full disk fails them.
func serveWithFileLimit(t *testing.T, args ...string) (issuer string, setFsize func(uint64)) {
	t.Helper()
	return serveWithFileLimitLog(t, &syncBuffer{}, args...)
}

// serveWithFileLimitLog is serveWithFileLimit with the server's stderr
// written to stderr.
func serveWithFileLimitLog(t *testing.T, stderr *syncBuffer, args ...string) (issuer string, setFsize func(uint64)) {
	t.Helper()
	cmd := exec.Command(xaaIDPBinary(t), append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
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
	return strings.TrimSpace(line), func(n uint64) {
		t.Helper()
		if err := unix.Prlimit(cmd.Process.Pid, unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: n, Max: unix.RLIM_INFINITY}, nil); err != nil {
			t.Skipf("cannot limit the server's file size: %v", err)
		}
	}
}

// serveDemoWithFileLimit is serveWithFileLimit with --config, a copy of
// the demo configuration, and --state-dir beside it; it also returns the
// configuration file and the audit log.
func serveDemoWithFileLimit(t *testing.T) (issuer string, setFsize func(uint64), configFile, auditFile string) {
	t.Helper()
	dir := t.TempDir()
	configFile = filepath.Join(dir, "idp.yaml")
	if err := os.WriteFile(configFile, fixtures.Demo, 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	issuer, setFsize = serveWithFileLimit(t, "--config", configFile, "--state-dir", state)
	return issuer, setFsize, configFile, filepath.Join(state, "audit.jsonl")
}

// TestServe_HandEditIsNotLoadedUnrecorded: a valid hand edit of --config
// found while the audit log cannot be written (a full disk) is not loaded:
// the running configuration does not change without its config_reload
// event. /admin/api/status says why, and once there is room the edit is
// loaded and recorded.
func TestServe_HandEditIsNotLoadedUnrecorded(t *testing.T) {
	issuer, setFsize, file, auditFile := serveDemoWithFileLimit(t)
	before := configStatusOf(t, issuer).ETag
	fi, err := os.Stat(auditFile)
	if err != nil {
		t.Fatal(err)
	}
	setFsize(uint64(fi.Size()) + 100)

	edited := bytes.Replace(fixtures.Demo, []byte("name: Wiki\n"), []byte("name: Team Wiki\n"), 1)
	if bytes.Equal(edited, fixtures.Demo) {
		t.Fatal("no wiki name in the demo configuration")
	}
	if err := os.WriteFile(file, edited, 0o600); err != nil {
		t.Fatal(err)
	}
	var body []byte
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, body = configCall(t, http.MethodGet, issuer+"/admin/api/status", "")
		if bytes.Contains(body, []byte("last_reload")) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2500 * time.Millisecond) // a watcher that loads it has had time to
	if st := configStatusOf(t, issuer); st.ETag != before {
		t.Errorf("the hand edit was loaded while its config_reload event could not be written")
	}
	_, body = configCall(t, http.MethodGet, issuer+"/admin/api/status", "")
	if !bytes.Contains(body, []byte("audit log")) {
		t.Errorf("status does not say why the edit waits:\n%s", body)
	}

	setFsize(unix.RLIM_INFINITY)
	deadline = time.Now().Add(60 * time.Second)
	for configStatusOf(t, issuer).ETag == before {
		if time.Now().After(deadline) {
			t.Fatal("the hand edit was not loaded once there was room")
		}
		time.Sleep(50 * time.Millisecond)
	}
	after := configStatusOf(t, issuer).ETag
	data, err := os.ReadFile(auditFile)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, l := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var ev struct {
			Type, Outcome string
			Details       struct{ Version string }
		}
		if len(l) == 0 {
			continue
		}
		if err := json.Unmarshal(l, &ev); err != nil {
			t.Fatalf("audit line %q: %v", l, err)
		}
		if ev.Type == "config_reload" && ev.Outcome == "allowed" && `"`+ev.Details.Version+`"` == after {
			found = true
		}
	}
	if !found {
		t.Errorf("no config_reload event of version %s:\n%s", after, data)
	}
}

// TestServe_UnwrittenChangeIsSettledWhenTheAuditLogFillsUp: a change whose
// admin_change event still fits on a full disk, but whose file does not,
// and whose not_written error then does not fit either, gets that error
// before the next change is recorded once there is room: the audit log
// never shows the change as made (not even after a restart, which settles
// only the newest change).
func TestServe_UnwrittenChangeIsSettledWhenTheAuditLogFillsUp(t *testing.T) {
	issuer, setFsize, _, auditFile := serveDemoWithFileLimit(t)
	fi, err := os.Stat(auditFile)
	if err != nil {
		t.Fatal(err)
	}
	// Room for the change's event (some 450 bytes), not for its error
	// (some 750) nor for the configuration file (4.5 kB).
	if fi.Size()+600 >= int64(len(fixtures.Demo)) {
		t.Fatalf("the audit log is %d bytes at start: no limit fails the file alone", fi.Size())
	}
	setFsize(uint64(fi.Size()) + 600)
	resp, body := configCall(t, http.MethodPut, issuer+"/admin/api/groups/g1", `{"name": "g1"}`)
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("a change whose file cannot be written: %d %s", resp.StatusCode, body)
	}
	setFsize(unix.RLIM_INFINITY)
	resp, body = configCall(t, http.MethodPut, issuer+"/admin/api/groups/g2", `{"name": "g2"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("a change once there is room: %d %s", resp.StatusCode, body)
	}

	data, err := os.ReadFile(auditFile)
	if err != nil {
		t.Fatal(err)
	}
	var g1 string
	settled := false
	for _, l := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var ev struct {
			ID, Type, Outcome string
			Details           struct{ Name, Changed string }
		}
		if err := json.Unmarshal(l, &ev); err != nil {
			t.Fatalf("audit line %q: %v", l, err)
		}
		if ev.Type != "admin_change" {
			continue
		}
		switch {
		case ev.Outcome == "allowed" && ev.Details.Name == "g1":
			g1 = ev.ID
		case ev.Outcome == "error" && g1 != "" && ev.Details.Changed == g1:
			settled = true
		case ev.Outcome == "allowed" && ev.Details.Name == "g2" && g1 != "" && !settled:
			t.Fatalf("the change to g2 is recorded while the one to g1, never made, has no not_written error:\n%s", data)
		}
	}
	if g1 == "" || !settled {
		t.Fatalf("g1's change %q, settled %v:\n%s", g1, settled, data)
	}
}

// TestServe_UnwrittenRotationIsSettledWhenTheAuditLogFillsUp: a key
// rotation whose key_rotation events still fit on a full disk, but whose
// keys do not, and whose not_written errors then do not fit either, gets
// those errors before the next rotation is recorded: the audit log never
// shows a key that was never made as rotated in (the start settles only
// the newest rotation of each algorithm).
func TestServe_UnwrittenRotationIsSettledWhenTheAuditLogFillsUp(t *testing.T) {
	dir := t.TempDir()
	issuer, setFsize := serveWithFileLimit(t, "--state-dir", dir)
	auditFile := filepath.Join(dir, "audit.jsonl")
	fi, err := os.Stat(auditFile)
	if err != nil {
		t.Fatal(err)
	}
	// Room for the two key_rotation events (some 300 bytes each), not for
	// their errors, nor for an RS256 key (1.7 kB).
	setFsize(uint64(fi.Size()) + 700)
	resp, body := configCall(t, http.MethodPost, issuer+"/admin/api/keys/rotate", "")
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("a rotation whose keys cannot be written: %d %s", resp.StatusCode, body)
	}
	setFsize(unix.RLIM_INFINITY)
	resp, body = configCall(t, http.MethodPost, issuer+"/admin/api/keys/rotate", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("a rotation once there is room: %d %s", resp.StatusCode, body)
	}

	data, err := os.ReadFile(auditFile)
	if err != nil {
		t.Fatal(err)
	}
	pending := map[string]bool{} // new_kid of a rotation recorded, not yet made or refused
	for _, l := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var ev struct {
			Type, Outcome string
			Details       struct {
				NewKID string `json:"new_kid"`
			}
		}
		if err := json.Unmarshal(l, &ev); err != nil {
			t.Fatalf("audit line %q: %v", l, err)
		}
		if ev.Type != "key_rotation" {
			continue
		}
		if ev.Outcome == "error" {
			delete(pending, ev.Details.NewKID)
			continue
		}
		if len(pending) > 1 { // the first rotation's two, then one of the second
			t.Fatalf("a rotation is recorded while an earlier one, never made, has no not_written error:\n%s", data)
		}
		pending[ev.Details.NewKID] = true
	}
}

// TestServe_ApprovalNotWrittenIsNotTakenAsMadeWhenApprovedAgain: an
// approval whose admin_change fit on a full disk but whose access entry
// and not_written error did not, approved again once there is room, adds
// the entry: the earlier approval is not taken for one that wrote it
// (which would mark the request approved with no access).
func TestServe_ApprovalNotWrittenIsNotTakenAsMadeWhenApprovedAgain(t *testing.T) {
	issuer, setFsize, file, auditFile := serveDemoWithFileLimit(t)
	code, token, errOut := runCLI(t, "login", "--issuer", issuer, "--client-id", "mcp-client", "--client-secret", "mcp-secret", "--username", "bob", "--password", "bob", "--print", "access_token")
	if code != 0 {
		t.Fatalf("login: %s", errOut)
	}
	resp, body := basicCall(t, "", "", http.MethodPost, issuer+"/me/access-requests", `{"server": "tracker", "scopes": ["issues.read"]}`, "Authorization", "Bearer "+strings.TrimSpace(token))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("access request: %d %s", resp.StatusCode, body)
	}
	var req struct{ ID string }
	if err := json.Unmarshal(body, &req); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(auditFile)
	if err != nil {
		t.Fatal(err)
	}
	// Room for the approval's admin_change (some 950 bytes), not for its
	// not_written error (some 750 more) nor for the file (4.5 kB).
	setFsize(uint64(fi.Size()) + 1300)
	approve := issuer + "/admin/api/access-requests/" + req.ID + "/approve"
	if resp, body = configCall(t, http.MethodPost, approve, ""); resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("an approval whose entry cannot be written: %d %s", resp.StatusCode, body)
	}
	setFsize(unix.RLIM_INFINITY)
	if resp, body = configCall(t, http.MethodPost, approve, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("approved again once there is room: %d %s", resp.StatusCode, body)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte("users: [bob]")) {
		t.Errorf("the request is approved, but bob has no access entry:\n%s", data)
	}
}

// TestServe_AuditLogCopytruncatedThenFullKeepsWholeLines: logrotate's
// copytruncate empties the audit log under the running IdP. A write that a
// full disk then cuts short is cut off back to the file's end as it is, not
// as it was before the truncation: that would fill the file with zeros after
// the partial line (on a full disk) or fail for good (past a size limit),
// and a file with such a line stops the next start. Once there is room, the
// same process logs in again and the file holds whole events only.
func TestServe_AuditLogCopytruncatedThenFullKeepsWholeLines(t *testing.T) {
	dir := t.TempDir()
	issuer, setFsize := serveWithFileLimit(t, "--state-dir", dir)
	file := filepath.Join(dir, "audit.jsonl")
	for range 3 {
		loginAlice(t, issuer)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file+".1", data, 0o600); err != nil { // copytruncate's copy
		t.Fatal(err)
	}
	if err := os.Truncate(file, 0); err != nil { // and its truncation
		t.Fatal(err)
	}
	loginAlice(t, issuer)
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() >= int64(len(data)) {
		t.Fatalf("the truncated audit log has %d bytes, want fewer than the %d before", fi.Size(), len(data))
	}
	setFsize(uint64(fi.Size()) + 100) // room for part of a line only
	if code, out, _ := runCLI(t, "login", "--issuer", issuer, "--client-id", "mcp-client", "--client-secret", "mcp-secret", "--username", "alice", "--password", "alice"); code == 0 {
		t.Fatalf("login with a full audit log: exit 0\n%s", out)
	}
	setFsize(unix.RLIM_INFINITY)
	if tokens := loginAlice(t, issuer); tokens["id_token"] == nil {
		t.Fatalf("no ID token once there is room again: %v", tokens)
	}
	if data, err = os.ReadFile(file); err != nil {
		t.Fatal(err)
	}
	if bytes.IndexByte(data, 0) >= 0 {
		t.Fatalf("the audit log holds zeros after a full disk:\n%q", data)
	}
	if n := successfulLogins(t, file); n != 2 {
		t.Errorf("%d successful logins in the truncated audit log, want the 2 since", n)
	}
}

// TestServe_AuditLogFullIsLoggedOnceNotPerRequest: while the audit log
// cannot be written, every login and token is refused; the log on stderr
// says why once, not once per request (a flood of refused requests would
// bury everything else), and says when the audit log takes events again.
func TestServe_AuditLogFullIsLoggedOnceNotPerRequest(t *testing.T) {
	dir := t.TempDir()
	stderr := &syncBuffer{}
	issuer, setFsize := serveWithFileLimitLog(t, stderr, "--state-dir", dir)
	tokens := loginAlice(t, issuer)
	fi, err := os.Stat(filepath.Join(dir, "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	setFsize(uint64(fi.Size()) + 100) // room for no event's line
	for range 3 {
		if code, out, _ := runCLI(t, "login", "--issuer", issuer, "--client-id", "mcp-client", "--client-secret", "mcp-secret", "--username", "alice", "--password", "alice"); code == 0 {
			t.Fatalf("login with a full audit log: exit 0\n%s", out)
		}
		if code, out, _ := runCLI(t, "exchange", "--issuer", issuer, "--client-id", "mcp-client", "--client-secret", "mcp-secret", "--id-token", tokens["id_token"].(string),
			"--audience", "http://127.0.0.1:8101", "--resource", "http://127.0.0.1:8201/mcp", "--scope", "issues.read"); code == 0 {
			t.Fatalf("exchange with a full audit log: exit 0\n%s", out)
		}
	}
	setFsize(unix.RLIM_INFINITY)
	loginAlice(t, issuer)
	errs, back := fullAndBackLines(t, stderr, "audit log written again")
	if errs != 1 || back != 1 {
		t.Errorf("%d error lines and %d lines saying the audit log is written again, want 1 and 1:\n%s", errs, back, stderr)
	}
}

// TestServe_AuditLogUnwritableRecoversWhenWritable: an audit log that
// refuses every write (made immutable, chattr +i) fails the login, and
// once it can be written again the same process logs in: a write that
// wrote nothing leaves nothing to cut off, so it is no reason to refuse
// every later event until a restart (/healthz 503).
func TestServe_AuditLogUnwritableRecoversWhenWritable(t *testing.T) {
	dir := t.TempDir()
	issuer, _ := serveWithFileLimit(t, "--state-dir", dir)
	file := filepath.Join(dir, "audit.jsonl")
	loginAlice(t, issuer)
	if out, err := exec.Command("chattr", "+i", file).CombinedOutput(); err != nil {
		t.Skipf("cannot make the audit log immutable: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("chattr", "-i", file).Run() })
	if code, out, _ := runCLI(t, "login", "--issuer", issuer, "--client-id", "mcp-client", "--client-secret", "mcp-secret", "--username", "alice", "--password", "alice"); code == 0 {
		t.Fatalf("login with an immutable audit log: exit 0\n%s", out)
	}
	if out, err := exec.Command("chattr", "-i", file).CombinedOutput(); err != nil {
		t.Fatalf("chattr -i: %v %s", err, out)
	}
	resp, err := http.Get(issuer + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz once the audit log is writable again: %d, want 200", resp.StatusCode)
	}
	if tokens := loginAlice(t, issuer); tokens["id_token"] == nil {
		t.Fatalf("no ID token once the audit log is writable again: %v", tokens)
	}
	if n := successfulLogins(t, file); n != 2 {
		t.Errorf("%d successful logins in the audit log, want 2", n)
	}
}

// TestServe_HandEditWaitingOnAFullAuditLogIsLoggedOnce: a hand edit of
// --config found while the audit log cannot be written is read again at
// every check until its config_reload event can be written; the log on
// stderr says so once, not at every check (an hour of a full disk made
// some 1,800 identical ERROR lines), and says when the reload is recorded
// again (docs/audit.md, "A write refused for lack of space").
func TestServe_HandEditWaitingOnAFullAuditLogIsLoggedOnce(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "idp.yaml")
	if err := os.WriteFile(file, fixtures.Demo, 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	stderr := &syncBuffer{}
	issuer, setFsize := serveWithFileLimitLog(t, stderr, "--config", file, "--state-dir", state)
	before := configStatusOf(t, issuer).ETag
	fi, err := os.Stat(filepath.Join(state, "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	setFsize(uint64(fi.Size()) + 100) // room for no event's line

	edited := bytes.Replace(fixtures.Demo, []byte("name: Wiki\n"), []byte("name: Team Wiki\n"), 1)
	if err := os.WriteFile(file, edited, 0o600); err != nil {
		t.Fatal(err)
	}
	// Each check that reads the file again and cannot record its reload
	// says so in the status: wait for three of them.
	seen := map[string]bool{}
	deadline := time.Now().Add(60 * time.Second)
	for len(seen) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("the watcher did not retry the reload three times in 60 s: %v\n%s", seen, stderr)
		}
		if st := configStatusOf(t, issuer); st.LastReload != "" && strings.Contains(st.LastReloadError, "audit log") {
			seen[st.LastReload] = true
		}
		time.Sleep(50 * time.Millisecond)
	}

	setFsize(unix.RLIM_INFINITY)
	deadline = time.Now().Add(60 * time.Second)
	for configStatusOf(t, issuer).ETag == before {
		if time.Now().After(deadline) {
			t.Fatal("the hand edit was not loaded once there was room")
		}
		time.Sleep(50 * time.Millisecond)
	}
	errs, back := fullAndBackLines(t, stderr, "configuration reloads are recorded again")
	if errs != 1 || back != 1 {
		t.Errorf("%d error lines and %d lines saying reloads are recorded again over %d retries, want 1 and 1:\n%s", errs, back, len(seen), stderr)
	}
}

// fullAndBackLines awaits (60 s at most) a line of stderr holding back,
// the log saying that what the full audit log held up goes on, then
// counts those lines and the ERROR lines, each of which must say why
// (the file size limit that stands for a full disk).
func fullAndBackLines(t *testing.T, stderr *syncBuffer, back string) (errs, backs int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		errs, backs = 0, 0
		var unsaid []string
		for _, l := range strings.Split(stderr.String(), "\n") {
			if strings.Contains(l, "level=ERROR") {
				errs++
				if !strings.Contains(l, "file too large") {
					unsaid = append(unsaid, l)
				}
			}
			if strings.Contains(l, back) {
				backs++
			}
		}
		if backs > 0 || time.Now().After(deadline) {
			for _, l := range unsaid {
				t.Errorf("the error does not say why: %s", l)
			}
			return errs, backs
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServe_RefusedHandEditIsRecordedOnceThereIsRoom: a hand edit of
// --config that is refused (here an unknown key) while the audit log
// cannot be written (a full disk) gets its config_reload error event once
// there is room, as a valid edit gets its reload (docs/audit.md). Until
// 2026-12-07 the refusal was tried once and never again: the audit log
// never said that the file on disk was not what ran.
func TestServe_RefusedHandEditIsRecordedOnceThereIsRoom(t *testing.T) {
	issuer, setFsize, file, auditFile := serveDemoWithFileLimit(t)
	fi, err := os.Stat(auditFile)
	if err != nil {
		t.Fatal(err)
	}
	setFsize(uint64(fi.Size()) + 100) // room for no event's line

	if err := os.WriteFile(file, append(bytes.Clone(fixtures.Demo), "not_a_key: 1\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for st := configStatusOf(t, issuer); !strings.Contains(st.LastReloadError, "not_a_key"); st = configStatusOf(t, issuer) {
		if time.Now().After(deadline) {
			t.Fatalf("the status does not show the refused edit after 60 s: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if refusedReloads(t, auditFile) != 0 {
		t.Fatal("the refused edit was recorded in a full audit log")
	}

	setFsize(unix.RLIM_INFINITY)
	deadline = time.Now().Add(60 * time.Second)
	for refusedReloads(t, auditFile) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the refused edit's config_reload event was not written within 60 s of there being room")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Recorded once: the edit undone, the event saying the file is back
	// comes after the checks that followed the refusal, none of which
	// recorded it again.
	if err := os.WriteFile(file, fixtures.Demo, 0o600); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(60 * time.Second)
	for !bytes.Contains(readFile(t, auditFile), []byte("is back to the running configuration")) {
		if time.Now().After(deadline) {
			t.Fatal("the edit undone was not recorded within 60 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := refusedReloads(t, auditFile); n != 1 {
		t.Errorf("the refused edit is in the audit log %d times, want once", n)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// refusedReloads counts the config_reload events with outcome error in
// the audit log at path.
func refusedReloads(t *testing.T, path string) int {
	t.Helper()
	n := 0
	for _, l := range bytes.Split(bytes.TrimSpace(readFile(t, path)), []byte("\n")) {
		var ev struct{ Type, Outcome string }
		if len(l) == 0 {
			continue
		}
		if err := json.Unmarshal(l, &ev); err != nil {
			t.Fatalf("audit line %q: %v", l, err)
		}
		if ev.Type == "config_reload" && ev.Outcome == "error" {
			n++
		}
	}
	return n
}
