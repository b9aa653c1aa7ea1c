package main

import (
	"strings"
	"testing"
)

// TestLoad_BoundNamesTheFlagAndItsVariable: a --requests, --concurrency,
// --rounds or --server-pid that cannot make a run is bad usage naming
// that one flag, its value and its range, and the XAA_IDP_* variable when
// the value came from it. load said "--requests, --concurrency and
// --rounds must be at least 1" whichever it was, never the variable, and
// ran with a negative --server-pid, to say "open /proc/-5/stat".
func TestLoad_BoundNamesTheFlagAndItsVariable(t *testing.T) {
	nobody := "http://127.0.0.1:1"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--concurrency", "0"}, `--concurrency "0": want a whole number from 1 to 1000`},
		{[]string{"--requests", "-3"}, `--requests "-3": want a whole number from 1 to 1000000`},
		{[]string{"--rounds", "0"}, `--rounds "0": want a whole number from 1`},
		{[]string{"--concurrency", "1001"}, `--concurrency "1001": want a whole number from 1 to 1000`},
		{[]string{"--server-pid", "-5"}, `--server-pid "-5": want a process id, or 0 for the process listening on the issuer's port`},
	} {
		code, out, stderr := runCLI(t, append([]string{"load", "--issuer", nobody}, c.args...)...)
		if code != exitUsage || out != "" || !strings.Contains(stderr, c.want) {
			t.Errorf("load %v: exit %d, stdout %q, stderr %q; want exit %d saying %q", c.args, code, out, stderr, exitUsage, c.want)
		}
	}
	t.Setenv("XAA_IDP_CONCURRENCY", "-1")
	code, _, stderr := runCLI(t, "load", "--issuer", nobody)
	if want := `XAA_IDP_CONCURRENCY="-1" (--concurrency): want a whole number from 1 to 1000`; code != exitUsage || !strings.Contains(stderr, want) {
		t.Errorf("XAA_IDP_CONCURRENCY=-1: exit %d, stderr %q; want exit %d saying %q", code, stderr, exitUsage, want)
	}
}
