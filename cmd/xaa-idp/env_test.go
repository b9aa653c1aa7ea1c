package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// An XAA_IDP_* variable whose value its flag cannot take is bad usage
// (exit 2) with a message that names the variable, the value, the flag
// and what it takes, as a CI job's log must say what to fix.
func TestEnv_BadValueSaysVariableValueFlagAndForm(t *testing.T) {
	for _, tc := range []struct {
		env, value string
		args       []string
		want       []string
	}{
		{"XAA_IDP_TIMEOUT", "xyz", []string{"login", "--client-id", "c", "--username", "u", "--password", "p"},
			[]string{`XAA_IDP_TIMEOUT="xyz"`, "--timeout", "a duration such as 30s"}},
		{"XAA_IDP_CLOCK_FROZEN", "maybe", []string{"serve", "--addr", "127.0.0.1:0"},
			[]string{`XAA_IDP_CLOCK_FROZEN="maybe"`, "--clock-frozen", "true or false"}},
		{"XAA_IDP_ALL", "2", []string{"connect", "--client-id", "c", "--username", "u", "--password", "p"},
			[]string{`XAA_IDP_ALL="2"`, "--all", "true or false"}},
	} {
		t.Run(tc.env, func(t *testing.T) {
			t.Setenv(tc.env, tc.value)
			code, stdout, stderr := runBinary(t, tc.args...)
			if code != exitUsage || stdout != "" {
				t.Errorf("%s=%s: exit %d, stdout %q; want exit 2", tc.env, tc.value, code, stdout)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("%s=%s: stderr %q lacks %q", tc.env, tc.value, stderr, w)
				}
			}
		})
	}
}

// A flag given on the command line overrides its XAA_IDP_* variable, the
// repeatable ones (--scope, --mcp) too: a job that sets XAA_IDP_SCOPE for
// every step and --scope for one gets that step's scopes, not both.
func TestEnv_CommandLineListReplacesTheVariable(t *testing.T) {
	issuer := startServe(t)
	t.Setenv("XAA_IDP_ISSUER", issuer)
	t.Setenv("XAA_IDP_SCOPE", "openid email groups")
	login := func(args ...string) string {
		t.Helper()
		code, out, stderr := runBinary(t, append([]string{"login", "--client-id", "mcp-client", "--client-secret", "mcp-secret", "--username", "alice", "--password", "alice"}, args...)...)
		if code != 0 {
			t.Fatalf("login %v: exit %d: %s", args, code, stderr)
		}
		var resp struct {
			Scope string `json:"scope"`
		}
		if err := json.Unmarshal([]byte(out), &resp); err != nil {
			t.Fatalf("login %v: %v: %s", args, err, out)
		}
		return resp.Scope
	}
	if got := login(); got != "openid email groups" {
		t.Errorf("XAA_IDP_SCOPE alone: scope %q, want %q", got, "openid email groups")
	}
	if got := login("--scope", "openid", "--scope", "profile"); got != "openid profile" {
		t.Errorf("XAA_IDP_SCOPE and --scope openid --scope profile: scope %q, want %q (the command line's)", got, "openid profile")
	}
}

// With --log-format json, stderr is JSON lines from start to a clean stop
// (SIGTERM, as a CI job or a container runtime stops it), so that a job
// can parse the whole log: serve's and demo's.
func TestLogFormatJSON_EveryStderrLineIsJSONThroughSIGTERM(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--addr", "127.0.0.1:0"},
		{"demo", "--addr", "127.0.0.1:0", "--config", minimalConfig(t, "http", freePort(t), freePort(t))},
	} {
		t.Run(args[0], func(t *testing.T) {
			var stderr syncBuffer
			cmd := exec.Command(xaaIDPBinary(t), append(args, "--log-format", "json")...)
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if _, err := bufio.NewReader(stdout).ReadString('\n'); err != nil {
				_ = cmd.Process.Kill()
				t.Fatalf("%v printed nothing: %v\n%s", args, err, &stderr)
			}
			go io.Copy(io.Discard, stdout)
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("%v after SIGTERM: %v\n%s", args, err, &stderr)
			}
			for _, line := range strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n") {
				if !json.Valid([]byte(line)) {
					t.Errorf("%v --log-format json: a stderr line is not JSON: %q", args, line)
				}
			}
		})
	}
}

// An XAA_IDP_* variable set to the empty string is as unset: Docker
// Compose's `${X}` and a CI matrix leave variables empty, and
// XAA_IDP_AUTH_AGE="" was bad usage while XAA_IDP_ISSUER="" meant the
// default.
func TestEnv_EmptyVariableIsUnset(t *testing.T) {
	for _, env := range []string{"XAA_IDP_AUTH_AGE", "XAA_IDP_CLOCK", "XAA_IDP_CONFIG", "XAA_IDP_SCOPE", "XAA_IDP_TENANT"} {
		t.Setenv(env, "")
	}
	code, stdout, stderr := runBinary(t, "explain", "--user", "alice", "--client", "mcp-client", "--audience", "tracker")
	if code != 0 || !strings.Contains(stdout, "allowed") {
		t.Errorf("explain with empty XAA_IDP_* variables: exit %d, stdout %q, stderr %q; want exit 0 and the decision", code, stdout, stderr)
	}
}

// With --log-format json, the reason serve or demo cannot start (a port in
// use, a configuration error) is a JSON record at level ERROR too, not a
// line of text among the JSON lines: a CI job that parses the log (or
// jq) met a line that is not JSON exactly when the IdP failed.
func TestLogFormatJSON_WhyItCannotStartIsAJSONRecord(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("users:\n  - username: alice\n    pasword: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--addr", held.Addr().String()}, "cannot listen on"},
		{[]string{"demo", "--addr", held.Addr().String(), "--config", minimalConfig(t, "http", freePort(t), freePort(t))}, "cannot listen on"},
		{[]string{"serve", "--addr", "127.0.0.1:0", "--config", bad}, "pasword"},
		{[]string{"serve", "--addr", "127.0.0.1:0", "--clock", "yesterday"}, "--clock"},
	} {
		code, _, stderr := runBinary(t, append(c.args, "--log-format", "json")...)
		if code == exitOK {
			t.Errorf("%v: exit 0", c.args)
			continue
		}
		found := false
		for _, line := range strings.Split(strings.TrimSuffix(stderr, "\n"), "\n") {
			var rec struct{ Level, Msg string }
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Errorf("%v --log-format json: a stderr line is not JSON: %q", c.args, line)
				continue
			}
			if rec.Level == "ERROR" && strings.Contains(rec.Msg, c.want) {
				found = true
			}
		}
		if !found {
			t.Errorf("%v --log-format json: no ERROR record saying %q:\n%s", c.args, c.want, stderr)
		}
	}
}

// serve says in its log that it stopped cleanly, as demo does: a CI step
// that stops an IdP another step started cannot wait for its exit status,
// and its log told a clean stop from a kill by nothing.
func TestServe_LogSaysItStopped(t *testing.T) {
	var stderr syncBuffer
	cmd := exec.Command(xaaIDPBinary(t), "serve", "--addr", "127.0.0.1:0", "--log-format", "json")
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := bufio.NewReader(stdout).ReadString('\n'); err != nil {
		_ = cmd.Process.Kill()
		t.Fatalf("serve printed nothing: %v\n%s", err, &stderr)
	}
	go io.Copy(io.Discard, stdout)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve after SIGTERM: %v\n%s", err, &stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
	var last struct{ Level, Msg string }
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Msg != "stopped" || last.Level != "INFO" {
		t.Errorf("serve's last log record after SIGTERM is %q, want an INFO record \"stopped\"", lines[len(lines)-1])
	}
}
