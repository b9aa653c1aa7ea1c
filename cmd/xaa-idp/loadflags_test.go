package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// load's numeric flags are bad usage (exit 2, naming the flag) when they
// cannot make a run: a --max-time of zero, which used to spend its whole
// budget before the login and exit 1 with "context deadline exceeded",
// and a --requests or --concurrency so large that the run would allocate
// gigabytes (a latency per request) or start a goroutine per unit before
// sending anything. The issuer is a port nobody listens on, so that a
// flag the command lets through fails at the login (exit 1), not here.
func TestLoad_FlagsThatCannotMakeARunAreBadUsage(t *testing.T) {
	nobody := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--max-time", "0"}, "--max-time"},
		{[]string{"--max-time", "-5s"}, "--max-time"},
		{[]string{"--requests", "2000000000"}, "--requests"},
		{[]string{"--concurrency", "100000000"}, "--concurrency"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := runBinary(t, append([]string{"load", "--issuer", nobody}, tc.args...)...)
			if code != exitUsage || stdout != "" {
				t.Errorf("load %v: exit %d, stdout %q, stderr %q; want exit 2 and nothing on stdout", tc.args, code, stdout, stderr)
			}
			if !strings.Contains(stderr, tc.want) || strings.Contains(stderr, "deadline") {
				t.Errorf("load %v: stderr %q; want it to name %s", tc.args, stderr, tc.want)
			}
		})
	}
	// The bounds themselves are accepted: the run gets as far as the login.
	code, _, stderr := runBinary(t, "load", "--issuer", nobody, "--requests", "1000000", "--concurrency", "1000", "--max-time", "5s")
	if code != 1 || !strings.Contains(stderr, "login") {
		t.Errorf("load at the bounds: exit %d, stderr %q; want exit 1 at the login (no server)", code, stderr)
	}
}

// A --cpuprofile file that cannot be created is a runtime failure (exit
// 1), as an --audit-log or a --state-dir that cannot be is: the flag was
// used right, the file system said no.
func TestServe_CPUProfileThatCannotBeCreatedExits1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "cpu.prof")
	code, stdout, stderr := runBinary(t, "serve", "--addr", "127.0.0.1:0", "--cpuprofile", path)
	if code != exitFailure || stdout != "" || !strings.Contains(stderr, "--cpuprofile") {
		t.Errorf("serve --cpuprofile %s: exit %d, stdout %q, stderr %q; want exit 1 naming --cpuprofile", path, code, stdout, stderr)
	}
}
