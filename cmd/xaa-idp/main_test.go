package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runCLI runs a command in-process and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// runCLIFor is runCLI that fails the test when the command is still
// running after d, instead of hanging it.
func runCLIFor(t *testing.T, d time.Duration, args ...string) (code int, stderr string) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		code, _, stderr = runCLI(t, args...)
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("xaa-idp %s: still running after %s", strings.Join(args, " "), d)
	}
	return code, stderr
}

// startServe runs `serve` until the test ends and returns the issuer it
// printed.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("serve exited %d after SIGINT-equivalent, want 0", code)
			}
		case <-time.After(10 * time.Second):
			t.Error("serve did not stop")
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed no issuer: %v", err)
	}
	go io.Copy(io.Discard, pr)
	return strings.TrimSpace(line)
}

func TestCLI_RoundTrip(t *testing.T) {
	state := t.TempDir()
	issuer := startServe(t, "--state-dir", state)
	if !strings.HasPrefix(issuer, "http://127.0.0.1:") {
		t.Fatalf("serve printed %q, want the issuer URL alone", issuer)
	}

	tokens := loginAlice(t, issuer)
	idToken, _ := tokens["id_token"].(string)
	if idToken == "" || tokens["refresh_token"] == nil {
		t.Fatalf("login output lacks id_token or refresh_token: %v", tokens)
	}

	code, out, stderr := runCLI(t, "exchange", "--issuer", issuer, "--client-id", "mcp-client", "--client-secret", "mcp-secret",
		"--id-token", idToken, "--audience", "http://127.0.0.1:8101", "--resource", "http://127.0.0.1:8201/mcp", "--scope", "issues.read", "--decode")
	if code != 0 {
		t.Fatalf("exchange exit %d: %s", code, stderr)
	}
	// One JSON document (json.Unmarshal refuses a second), so that a
	// pipe to jq or JSON.parse reads all of it: the response, with the
	// decoded ID-JAG as its "decoded" member.
	var resp map[string]any
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		t.Fatalf("exchange --decode printed no single JSON document: %v\n%s", err, out)
	}
	decoded, ok := resp["decoded"].(map[string]any)
	if !ok {
		t.Fatalf("--decode printed no decoded token:\n%s", out)
	}
	if resp["issued_token_type"] != "urn:ietf:params:oauth:token-type:id-jag" || resp["token_type"] != "N_A" {
		t.Errorf("exchange response = %v", resp)
	}
	header := decoded["header"].(map[string]any)
	claims := decoded["claims"].(map[string]any)
	if header["typ"] != "oauth-id-jag+jwt" || claims["aud"] != "http://127.0.0.1:8101" || claims["sub"] != "00u-alice" ||
		claims["client_id"] != "mcp-client-at-tracker" || claims["iss"] != issuer {
		t.Errorf("decoded ID-JAG header %v claims %v", header, claims)
	}

	// A refusal: bob is in sales, not assigned to the tracker.
	_, out, _ = runCLI(t, "login", "--issuer", issuer, "--client-id", "mcp-client", "--client-secret", "mcp-secret", "--username", "bob", "--password", "bob")
	_ = json.Unmarshal([]byte(out), &tokens)
	code, out, stderr = runCLI(t, "exchange", "--issuer", issuer, "--client-id", "mcp-client", "--client-secret", "mcp-secret",
		"--id-token", tokens["id_token"].(string), "--audience", "http://127.0.0.1:8101", "--resource", "http://127.0.0.1:8201/mcp")
	if code != exitFailure || !strings.Contains(out, `"access_denied"`) || !strings.Contains(stderr, "not assigned") {
		t.Errorf("refused exchange: exit %d, stdout %s, stderr %s", code, out, stderr)
	}

	// Wrong password: a clear refusal, exit 1.
	code, _, stderr = runCLI(t, "login", "--issuer", issuer, "--client-id", "mcp-client", "--client-secret", "mcp-secret", "--username", "alice", "--password", "nope")
	if code != exitFailure || !strings.Contains(stderr, "Invalid username or password") {
		t.Errorf("bad password: exit %d, stderr %s", code, stderr)
	}

	// The state dir keeps the keys and the audit log.
	for _, f := range []string{"keys/rs256.pem", "keys/es256.pem", "audit.jsonl"} {
		if _, err := os.Stat(filepath.Join(state, f)); err != nil {
			t.Errorf("state dir: %v", err)
		}
	}
	audit, _ := os.ReadFile(filepath.Join(state, "audit.jsonl"))
	if bytes.Contains(audit, []byte(idToken)) || !bytes.Contains(audit, []byte(`"outcome":"denied"`)) {
		t.Errorf("audit.jsonl must hold the denial and never a token:\n%s", audit)
	}
}

func TestCLI_CheckReportsEveryProblemWithFileAndLine(t *testing.T) {
	code, out, _ := runCLI(t, "check")
	if code != 0 || !strings.Contains(out, "fixtures/demo.yaml: ok") {
		t.Errorf("check of the demo config: exit %d, %s", code, out)
	}
	code, _, stderr := runCLI(t, "check", "--config", "testdata/broken.yaml")
	if code != exitUsage {
		t.Errorf("check of a broken file: exit %d, want %d", code, exitUsage)
	}
	for _, want := range []string{
		"testdata/broken.yaml:4:",  // unknown group engineers
		"testdata/broken.yaml:10:", // typo tokn_exchange
		"testdata/broken.yaml:13:", // issuer not a URL
		"testdata/broken.yaml:19:", // scope the server does not list
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("check output lacks %q:\n%s", want, stderr)
		}
	}
	code, _, stderr = runCLI(t, "check", "--config", "testdata/missing.yaml")
	if code != exitUsage || !strings.Contains(stderr, "testdata/missing.yaml") {
		t.Errorf("missing file: exit %d, %s", code, stderr)
	}
}

func TestCLI_Explain(t *testing.T) {
	code, out, _ := runCLI(t, "explain", "--user", "bob", "--client", "mcp-client", "--audience", "urn:acme:crm", "--scope", "crm.read")
	if code != 0 || !strings.Contains(out, "decision: allowed") || !strings.Contains(out, "rule:     crm access[0]") {
		t.Errorf("explain bob → crm: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "explain", "--user", "mallory", "--client", "mcp-client", "--audience", "crm")
	if code != 0 || !strings.Contains(out, "refused (access_denied)") || !strings.Contains(out, "crm deny[0]") {
		t.Errorf("explain mallory → crm: exit %d\n%s", code, out)
	}
	// Every decision names its rule, also when no entry decided.
	for _, user := range []string{"erin", "dave"} { // disabled; assigned nowhere on crm
		code, out, _ = runCLI(t, "explain", "--user", user, "--client", "mcp-client", "--audience", "crm")
		if code != 0 || !strings.Contains(out, "refused (access_denied)") || !strings.Contains(out, "rule:     none (no access or deny entry") || !strings.Contains(out, "reason:") {
			t.Errorf("explain %s → crm: exit %d\n%s", user, code, out)
		}
	}
	// The demo's metadata document client, as `connect --cimd` uses it:
	// explained as the token exchange decides it, not "not registered".
	code, out, _ = runCLI(t, "explain", "--user", "alice", "--client", "http://127.0.0.1:8390/client-metadata.json", "--audience", "tracker")
	if code != 0 || !strings.Contains(out, "decision: allowed") || !strings.Contains(out, "rule:     tracker access[0]") {
		t.Errorf("explain alice → tracker through the metadata document client: exit %d\n%s", code, out)
	}
	if code, _, _ := runCLI(t, "explain", "--user", "bob"); code != exitUsage {
		t.Errorf("explain without --client: exit %d, want %d", code, exitUsage)
	}
}

func TestCLI_Healthcheck(t *testing.T) {
	issuer := startServe(t)
	if code, _, stderr := runCLI(t, "healthcheck", "--url", issuer+"/healthz"); code != 0 {
		t.Errorf("healthcheck of a running IdP: exit %d: %s", code, stderr)
	}
	if code, _, _ := runCLI(t, "healthcheck", "--url", issuer+"/no-such-page"); code != exitFailure {
		t.Errorf("healthcheck of a 404: exit %d, want %d", code, exitFailure)
	}
}

func TestCLI_Load(t *testing.T) {
	issuer := startServe(t, "--state-dir", t.TempDir())
	code, out, stderr := runCLI(t, "load", "--issuer", issuer, "--requests", "40", "--concurrency", "4")
	if code != 0 {
		t.Fatalf("load: exit %d: %s", code, stderr)
	}
	// The server runs in this process, which load finds by its listening
	// socket, so the CPU rounds are there too.
	for _, want := range []string{"floor ", "exchange ", "exchange/floor: throughput", "\n3      ", "(median of 3 rounds; "} {
		if !strings.Contains(out, want) {
			t.Errorf("load output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "     40        0") {
		t.Errorf("load did not complete 40 exchanges without errors:\n%s", out)
	}
	// Each exchange's event is made durable: read from the server's /metrics.
	if !strings.Contains(out, "audit log: 40 events in ") || !strings.Contains(out, " events per fsync (/metrics)") {
		t.Errorf("load output lacks the audit log's events per fsync:\n%s", out)
	}
	if code, _, stderr := runCLI(t, "load", "--issuer", "http://192.0.2.1:8080"); code != exitUsage || !strings.Contains(stderr, "loopback") {
		t.Errorf("a non-loopback target: exit %d, %s", code, stderr)
	}
}

func TestCLI_UnknownCommandIsUsageError(t *testing.T) {
	if code, _, _ := runCLI(t, "frobnicate"); code != exitUsage {
		t.Errorf("exit %d, want %d", code, exitUsage)
	}
	if code, _, _ := runCLI(t, "serve", "--no-such-flag"); code != exitUsage {
		t.Errorf("exit %d, want %d", code, exitUsage)
	}
}

func TestCLI_SampleConfigurationsAreValid(t *testing.T) {
	samples, _ := filepath.Glob("../../fixtures/samples/*.yaml")
	if len(samples) == 0 {
		t.Fatal("no sample configurations found")
	}
	for _, f := range samples {
		if code, out, stderr := runCLI(t, "check", "--config", f); code != 0 {
			t.Errorf("check %s: exit %d\n%s%s", f, code, out, stderr)
		}
	}
}

// TestCLI_CheckFileWithoutConfigFlag: "xaa-idp check FILE" is the first
// thing a stranger types; the refusal says how to name the file.
func TestCLI_CheckFileWithoutConfigFlag(t *testing.T) {
	code, _, stderr := runCLI(t, "check", "testdata/broken.yaml")
	if want := `xaa-idp check: unexpected argument "testdata/broken.yaml"; to name the configuration file, write --config testdata/broken.yaml`; code != exitUsage || !strings.Contains(stderr, want) {
		t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, exitUsage, want)
	}
}

// TestServe_WarnsOfAStateDirectoryOthersCanWrite: another user who can write the state directory
// could swap its signing keys or audit log; serve says so when it starts, and not for its own 0700.
func TestServe_WarnsOfAStateDirectoryOthersCanWrite(t *testing.T) {
	for _, c := range []struct {
		mode os.FileMode
		warn bool
	}{{0o777, true}, {0o700, false}} {
		state := filepath.Join(t.TempDir(), "state")
		if err := os.Mkdir(state, c.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(state, c.mode); err != nil { // past the umask
			t.Fatal(err)
		}
		_, stop := serveWithLogs(t, "--state-dir", state)
		logs := stop()
		if got := strings.Contains(logs, "writable by other users"); got != c.warn {
			t.Errorf("state directory %v: warned %v, want %v:\n%s", c.mode, got, c.warn, logs)
		}
	}
}

// loginAlice logs alice in to the demo configuration at issuer with the
// login command, as mcp-client, and returns its JSON output.
func loginAlice(t *testing.T, issuer string) map[string]any {
	t.Helper()
	code, out, stderr := runCLI(t, "login", "--issuer", issuer, "--client-id", "mcp-client", "--client-secret", "mcp-secret", "--username", "alice", "--password", "alice")
	if code != 0 {
		t.Fatalf("login exit %d: %s", code, stderr)
	}
	var tokens map[string]any
	if err := json.Unmarshal([]byte(out), &tokens); err != nil {
		t.Fatalf("login output is not JSON: %v\n%s", err, out)
	}
	return tokens
}
