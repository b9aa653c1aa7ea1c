package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// dockerHealthcheck reads the Dockerfile's HEALTHCHECK command (exec
// form), without the program: the arguments of xaa-idp.
func dockerHealthcheck(t *testing.T) []string {
	t.Helper()
	for _, line := range dockerfileLines(t) {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "HEALTHCHECK ")
		if !ok {
			continue
		}
		_, cmd, ok := strings.Cut(rest, " CMD ")
		var argv []string
		if !ok || json.Unmarshal([]byte(cmd), &argv) != nil || len(argv) < 2 || filepath.Base(argv[0]) != "xaa-idp" {
			t.Fatalf("the Dockerfile's HEALTHCHECK %q is not CMD [\".../xaa-idp\", ...]", rest)
		}
		return argv[1:]
	}
	t.Fatal("the Dockerfile has no HEALTHCHECK")
	return nil
}

// containerEnv is the environment of a container of the image: this
// process's without its XAA_IDP_* variables, the Dockerfile's ENV, then
// the user's -e variables.
func containerEnv(t *testing.T, userEnv ...string) []string {
	t.Helper()
	image, _ := dockerfile(t)
	return append(append(envWithout("XAA_IDP_"), image...), userEnv...)
}

// envWithout is this process's environment without the variables whose
// names begin with prefix.
func envWithout(prefix string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, prefix) {
			env = append(env, kv)
		}
	}
	return env
}

// container is the image's command (the Dockerfile's CMD) running with
// env, as PID 1 of its own PID namespace when pid1 (as root); its issuer
// is what it printed once it accepts connections.
type container struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	issuer string
	done   chan error
}

func startContainer(t *testing.T, env []string, attr *syscall.SysProcAttr, binary string) *container {
	t.Helper()
	_, args := dockerfile(t)
	if binary == "" {
		binary = xaaIDPBinary(t)
	}
	c := &container{cmd: exec.Command(binary, args...), stderr: &syncBuffer{}, done: make(chan error, 1)}
	c.cmd.Env, c.cmd.Stderr, c.cmd.SysProcAttr = env, c.stderr, attr
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		<-c.done
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- s
		c.done <- c.cmd.Wait()
	}()
	select {
	case s := <-line:
		c.issuer = strings.TrimSpace(s)
		if c.issuer == "" {
			t.Fatalf("the image's command printed no issuer\n%s", c.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the image's command printed no issuer in 30s\n%s", c.stderr)
	}
	return c
}

// stop sends sig, as docker stop does, and wants the clean stop: exit
// status 0 with `stopped` the last record, within docker stop's 10 s.
func (c *container) stop(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := c.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-c.done:
		c.done <- err // for the cleanup
		if err != nil {
			t.Errorf("the image's command after %v: %v, want exit status 0\n%s", sig, err, c.stderr)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the image's command did not stop within docker stop's 10 s of %v\n%s", sig, c.stderr)
	}
	lines := strings.Split(strings.TrimSpace(c.stderr.String()), "\n")
	if last := lines[len(lines)-1]; !strings.Contains(last, "msg=stopped") && !strings.Contains(last, `"msg":"stopped"`) {
		t.Errorf("the last record after %v is %q, want stopped\n%s", sig, last, c.stderr)
	}
}

// runDockerHealthcheck runs the Dockerfile's HEALTHCHECK command with env.
func runDockerHealthcheck(t *testing.T, env []string) (int, string) {
	t.Helper()
	cmd := exec.Command(xaaIDPBinary(t), dockerHealthcheck(t)...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

// TestDockerfile_HealthcheckFollowsTheContainersVariables: the image's
// health check probed http://127.0.0.1:8080/healthz whatever the
// container's variables said, so `docker run -e XAA_IDP_ADDR=0.0.0.0:9000`
// and `-e XAA_IDP_TLS=true` were unhealthy while serving (and healthy
// while another server answered on 8080). It now probes where the
// container's IdP listens, over https with the state directory's CA under
// XAA_IDP_TLS, and not the issuer, a URL of the host (a published port)
// that does not lead back into the container. A stopped IdP is unhealthy.
func TestDockerfile_HealthcheckFollowsTheContainersVariables(t *testing.T) {
	state := t.TempDir()
	for _, tc := range []struct {
		name string
		env  func(port int) []string
	}{
		{"another port", func(port int) []string {
			return []string{fmt.Sprintf("XAA_IDP_ADDR=127.0.0.1:%d", port)}
		}},
		{"issuer of a published port", func(port int) []string {
			return []string{fmt.Sprintf("XAA_IDP_ADDR=127.0.0.1:%d", port), fmt.Sprintf("XAA_IDP_ISSUER=http://127.0.0.1:%d", freePort(t))}
		}},
		{"https", func(port int) []string {
			return []string{fmt.Sprintf("XAA_IDP_ADDR=127.0.0.1:%d", port), "XAA_IDP_TLS=true", "XAA_IDP_STATE_DIR=" + state}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port := freePort(t)
			env := containerEnv(t, tc.env(port)...)
			c := startContainer(t, env, nil, "")
			if code, out := runDockerHealthcheck(t, env); code != exitOK {
				t.Errorf("the health check of the container serving %s: exit %d\n%s", c.issuer, code, out)
			}
			c.stop(t, syscall.SIGTERM)
			code, out := runDockerHealthcheck(t, env)
			if code != exitFailure || !strings.Contains(out, fmt.Sprint(port)) {
				t.Errorf("the health check of the stopped container: exit %d %q, want %d naming its port %d", code, out, exitFailure, port)
			}
		})
	}
}

// TestHealthcheck_ProbesTheIssuerOfTheEnvironment: a CI job that exports
// the issuer serve printed (README, "Testing your client in CI") has
// XAA_IDP_ISSUER and no XAA_IDP_ADDR; healthcheck without --url probed
// http://127.0.0.1:8080 instead, another IdP's or nobody's.
func TestHealthcheck_ProbesTheIssuerOfTheEnvironment(t *testing.T) {
	c := startContainer(t, containerEnv(t, "XAA_IDP_ADDR=127.0.0.1:0"), nil, "")
	env := append(envWithout("XAA_IDP_"), "XAA_IDP_ISSUER="+c.issuer)
	if code, out := runDockerHealthcheck(t, env); code != exitOK {
		t.Errorf("healthcheck with XAA_IDP_ISSUER=%s: exit %d\n%s", c.issuer, code, out)
	}
	c.stop(t, syscall.SIGINT)
	if code, out := runDockerHealthcheck(t, env); code != exitFailure || !strings.Contains(out, strings.TrimPrefix(c.issuer, "http://")) {
		t.Errorf("healthcheck with XAA_IDP_ISSUER=%s of a stopped IdP: exit %d %q, want %d naming it", c.issuer, code, out, exitFailure)
	}
}

// TestHealthcheck_TargetOfEachDocumentedRun: what healthcheck without
// --url probes for each `docker run` of the README ("Testing your client
// in CI") and the Dockerfile, whose ENV sets XAA_IDP_ADDR=0.0.0.0:8080:
// the container's own address on loopback, whatever issuer the clients
// outside use; https with the state directory's CA under XAA_IDP_TLS.
func TestHealthcheck_TargetOfEachDocumentedRun(t *testing.T) {
	state := t.TempDir()
	ca := filepath.Join(state, "tls", "ca.pem")
	if err := os.MkdirAll(filepath.Dir(ca), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ca, []byte("a CA"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		env          []string
		target, ca   string
		fromIncludes string
	}{
		{nil, "http://127.0.0.1:8080/healthz", "", ""},
		{[]string{"XAA_IDP_ADDR=0.0.0.0:8080"}, "http://127.0.0.1:8080/healthz", "", `XAA_IDP_ADDR="0.0.0.0:8080"`},
		{[]string{"XAA_IDP_ADDR=0.0.0.0:8080", "XAA_IDP_ISSUER=http://127.0.0.1:9000"}, "http://127.0.0.1:8080/healthz", "", "XAA_IDP_ADDR"},
		{[]string{"XAA_IDP_ADDR=0.0.0.0:8080", "XAA_IDP_ISSUER=http://idp:8080"}, "http://127.0.0.1:8080/healthz", "", "XAA_IDP_ADDR"},
		{[]string{"XAA_IDP_ADDR=0.0.0.0:9000"}, "http://127.0.0.1:9000/healthz", "", "XAA_IDP_ADDR"},
		{[]string{"XAA_IDP_ADDR=[::]:9000"}, "http://127.0.0.1:9000/healthz", "", "XAA_IDP_ADDR"},
		{[]string{"XAA_IDP_ADDR=:9000"}, "http://127.0.0.1:9000/healthz", "", "XAA_IDP_ADDR"},
		{[]string{"XAA_IDP_ADDR=[::1]:9000"}, "http://[::1]:9000/healthz", "", "XAA_IDP_ADDR"},
		{[]string{"XAA_IDP_ADDR=0.0.0.0:8080", "XAA_IDP_TLS=true", "XAA_IDP_STATE_DIR=" + state}, "https://127.0.0.1:8080/healthz", ca, "XAA_IDP_TLS"},
		{[]string{"XAA_IDP_ADDR=0.0.0.0:8080", "XAA_IDP_TLS=true", "XAA_IDP_STATE_DIR=" + t.TempDir()}, "https://127.0.0.1:8080/healthz", "", "XAA_IDP_TLS"},
		{[]string{"XAA_IDP_ADDR=0.0.0.0:8080", "XAA_IDP_TLS=false", "XAA_IDP_STATE_DIR=" + state}, "http://127.0.0.1:8080/healthz", "", "XAA_IDP_ADDR"},
		{[]string{"XAA_IDP_ISSUER=https://127.0.0.1:4000/t/acme", "XAA_IDP_STATE_DIR=" + state}, "https://127.0.0.1:4000/t/acme", ca, "XAA_IDP_ISSUER"},
		{[]string{"XAA_IDP_ADDR=127.0.0.1:0", "XAA_IDP_ISSUER=http://127.0.0.1:4000"}, "http://127.0.0.1:4000", "", "XAA_IDP_ISSUER"},
	} {
		for _, name := range []string{"XAA_IDP_ADDR", "XAA_IDP_ISSUER", "XAA_IDP_TLS", "XAA_IDP_STATE_DIR"} {
			t.Setenv(name, "")
		}
		for _, kv := range tc.env {
			name, v, _ := strings.Cut(kv, "=")
			t.Setenv(name, v)
		}
		target, gotCA, from, err := healthTarget("")
		if err != nil || target != tc.target || gotCA != tc.ca || !strings.Contains(from, tc.fromIncludes) {
			t.Errorf("%v: %s, CA %q, from %q, %v; want %s, CA %q, from %s", tc.env, target, gotCA, from, err, tc.target, tc.ca, tc.fromIncludes)
		}
	}
	// --ca-file (XAA_IDP_CA_FILE) is kept.
	t.Setenv("XAA_IDP_ADDR", "0.0.0.0:8080")
	t.Setenv("XAA_IDP_TLS", "1")
	t.Setenv("XAA_IDP_STATE_DIR", state)
	if _, gotCA, _, _ := healthTarget("/etc/mine.pem"); gotCA != "/etc/mine.pem" {
		t.Errorf("healthcheck --ca-file /etc/mine.pem trusts %q", gotCA)
	}
}

// TestHealthcheck_BadVariableOfServeIsSaid: a value of serve's variables
// that healthcheck cannot probe is bad usage naming the variable, not a
// probe of some other URL.
func TestHealthcheck_BadVariableOfServeIsSaid(t *testing.T) {
	for _, tc := range []struct{ env, want string }{
		{"XAA_IDP_TLS=yes please", `XAA_IDP_TLS="yes please" (--tls of serve): invalid value: want true or false`},
		{"XAA_IDP_ADDR=8080", `XAA_IDP_ADDR="8080" (--addr of serve): want HOST:PORT`},
		{"XAA_IDP_ADDR=127.0.0.1:0", `XAA_IDP_ADDR="127.0.0.1:0" (--addr of serve) picks a free port, which healthcheck cannot know: give --url`},
		{"XAA_IDP_ISSUER=idp:8080", `XAA_IDP_ISSUER="idp:8080" (--issuer of serve) is not an http or https URL`},
	} {
		for _, name := range []string{"XAA_IDP_ADDR", "XAA_IDP_ISSUER", "XAA_IDP_TLS", "XAA_IDP_STATE_DIR"} {
			t.Setenv(name, "")
		}
		name, v, _ := strings.Cut(tc.env, "=")
		t.Setenv(name, v)
		if code, _, stderr := runCLI(t, "healthcheck"); code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("healthcheck with %s: exit %d %q, want %d saying %q", tc.env, code, stderr, exitUsage, tc.want)
		}
	}
}
