package main

import (
	"os"
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
