package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestDockerfile_StartHintsNameTheVariables: the image sets its address
// with XAA_IDP_ADDR, and a container is given its issuer and state
// directory with -e (README, "In a container"). The start's hints told
// such a container to pass --issuer and --state-dir, flags of a command it
// does not run: a hint names the variable when the value it is about came
// from one, and the flag when it came from the command line.
func TestDockerfile_StartHintsNameTheVariables(t *testing.T) {
	for _, tc := range []struct {
		name       string
		env, args  []string
		want, omit string
	}{
		{"every interface from XAA_IDP_ADDR", []string{"XAA_IDP_ADDR=0.0.0.0:0"}, nil, "need XAA_IDP_ISSUER=http://HOST:", "--issuer"},
		{"every interface from --addr", nil, []string{"serve", "--addr", "0.0.0.0:0"}, "need --issuer http://HOST:", "XAA_IDP_ISSUER"},
		{"https from XAA_IDP_TLS", []string{"XAA_IDP_ADDR=127.0.0.1:0", "XAA_IDP_TLS=true"}, nil, "give XAA_IDP_STATE_DIR", "--state-dir"},
		{"https from --tls", nil, []string{"serve", "--addr", "127.0.0.1:0", "--tls"}, "give --state-dir", "XAA_IDP_STATE_DIR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := containerEnv(t, tc.env...)
			if tc.args != nil {
				env = envWithout("XAA_IDP_")
			}
			c := startContainerArgs(t, env, tc.args)
			c.stop(t, syscall.SIGTERM)
			log := c.stderr.String()
			if !strings.Contains(log, tc.want) || strings.Contains(log, tc.omit) {
				t.Errorf("the start's hints do not say %q (nor %q):\n%s", tc.want, tc.omit, log)
			}
		})
	}
}

// startContainerArgs is startContainer with the command args instead of
// the image's (nil: the image's).
func startContainerArgs(t *testing.T, env, args []string) *container {
	t.Helper()
	if args == nil {
		return startContainer(t, env, nil, "")
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "xaa-idp")
	// The command line as a shell would run it, for startContainer,
	// which runs the image's CMD.
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = shellQuote(a)
	}
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexec "+shellQuote(xaaIDPBinary(t))+" "+strings.Join(quoted, " ")+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return startContainer(t, env, nil, script)
}

// TestHealthcheck_UntrustedCANamesXAAIDPStateDir: the image's health
// check of an IdP started with XAA_IDP_TLS trusts the CA of
// XAA_IDP_STATE_DIR (README, "In a container"); without it, the
// certificate does not verify, and the hint named only --ca-file
// DIR/tls/ca.pem. It says that XAA_IDP_STATE_DIR finds it, when the
// health check reads it (not with --url), and that the one given holds no
// CA when it does not.
func TestHealthcheck_UntrustedCANamesXAAIDPStateDir(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	issuer, _ := startBinary(t, &syncBuffer{}, "serve", "--tls", "--addr", addr, "--state-dir", state)
	empty := t.TempDir()
	for _, tc := range []struct {
		name       string
		env        []string
		args       []string
		code       int
		want, omit string
	}{
		{"no state directory", []string{"XAA_IDP_ADDR=" + addr, "XAA_IDP_TLS=true"}, nil, exitFailure, "or set XAA_IDP_STATE_DIR to the IdP's state directory", ""},
		{"a state directory without the CA", []string{"XAA_IDP_ADDR=" + addr, "XAA_IDP_TLS=true", "XAA_IDP_STATE_DIR=" + empty}, nil, exitFailure, fmt.Sprintf("XAA_IDP_STATE_DIR=%q holds no local CA", empty), ""},
		{"--url", []string{"XAA_IDP_STATE_DIR=" + state}, []string{"--url", issuer}, exitFailure, "--ca-file DIR/tls/ca.pem", "XAA_IDP_STATE_DIR"},
		{"the state directory", []string{"XAA_IDP_ADDR=" + addr, "XAA_IDP_TLS=true", "XAA_IDP_STATE_DIR=" + state}, nil, exitOK, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(xaaIDPBinary(t), append([]string{"healthcheck"}, tc.args...)...)
			cmd.Env = append(envWithout("XAA_IDP_"), tc.env...)
			out, _ := cmd.CombinedOutput()
			if code := cmd.ProcessState.ExitCode(); code != tc.code {
				t.Fatalf("exit %d, want %d:\n%s", code, tc.code, out)
			}
			if !strings.Contains(string(out), tc.want) || tc.omit != "" && strings.Contains(string(out), tc.omit) {
				t.Errorf("healthcheck does not say %q (nor %q):\n%s", tc.want, tc.omit, out)
			}
		})
	}
}

// TestDemo_BannerInAContainerSaysHowToGetTheCAOut: under docker-compose
// the demo listens on every interface with its state directory at
// /state, and its banner's paths (--ca-file /state/tls/ca.pem) are the
// container's, which the host does not have. When the demo can tell
// (every interface, a state directory outside the directory it runs in),
// the banner says how to copy the CA out, as the compose file's comment
// does; a laptop's banner is as it was.
func TestDemo_BannerInAContainerSaysHowToGetTheCAOut(t *testing.T) {
	file := oneServerDemoFile(t, "http://127.0.0.1/callback", fmt.Sprintf("http://127.0.0.1:%d", freePort(t)))
	outside := filepath.Join(t.TempDir(), "state")
	for _, tc := range []struct {
		name      string
		addr      string
		stateDir  string
		container bool
	}{
		{"every interface, state outside the working directory", "0.0.0.0:0", outside, true},
		{"every interface, state in the working directory", "0.0.0.0:0", "state", false},
		{"loopback, state outside the working directory", "127.0.0.1:0", outside, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(xaaIDPBinary(t), "demo", "--tls", "--addr", tc.addr, "--state-dir", tc.stateDir, "--config", file)
			cmd.Dir = t.TempDir()
			stdout := &syncBuffer{}
			cmd.Stdout, cmd.Stderr = stdout, io.Discard
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			stopped := make(chan error, 1)
			go func() { stopped <- cmd.Wait() }()
			defer func() {
				cmd.Process.Signal(os.Interrupt)
				<-stopped
			}()
			banner := waitFor(t, stdout, "Ctrl-C stops everything.")
			copyOut := fmt.Sprintf("docker compose exec -T xaa-idp %s ca --state-dir %s > state/ca.pem", shellQuote(xaaIDPBinary(t)), shellQuote(tc.stateDir))
			if got := strings.Contains(banner, copyOut); got != tc.container {
				t.Errorf("the banner says how to copy the CA out of a container: %v, want %v (%q):\n%s", got, tc.container, copyOut, banner)
			}
			if !strings.Contains(banner, "\nTry: ") {
				t.Errorf("the banner suggests no command:\n%s", banner)
			}
		})
	}
}
