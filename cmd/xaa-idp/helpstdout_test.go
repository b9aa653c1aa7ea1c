package main

import (
	"strings"
	"testing"
)

// TestHelp_CommandHelpOnStdout: a command's help, asked for with -h,
// --help or help COMMAND, is the command's output (exit 0), on stdout as
// 'xaa-idp --help' and 'keys -h' print theirs, so that
// 'xaa-idp login --help | grep scope' finds the flag; it went to stderr.
// A usage error still prints the usage on stderr.
func TestHelp_CommandHelpOnStdout(t *testing.T) {
	for _, c := range commands() {
		if c.name == "help" {
			continue
		}
		for _, args := range [][]string{{c.name, "-h"}, {c.name, "--help"}, {"help", c.name}} {
			code, out, stderr := runCLI(t, args...)
			if code != exitOK || stderr != "" || !strings.Contains(out, "xaa-idp "+c.name) {
				t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 0 and the help on stdout alone", args, code, out, stderr)
			}
		}
	}
	code, out, stderr := runCLI(t, "login", "--no-such-flag")
	if code != exitUsage || out != "" || !strings.Contains(stderr, "-client-id") {
		t.Errorf("login --no-such-flag: exit %d, stdout %q, stderr %q; want exit %d and the usage on stderr", code, out, stderr, exitUsage)
	}
}

// TestHelp_ShownDespiteABadVariable: -h prints the help (exit 0) even when
// an XAA_IDP_* variable holds a value its flag cannot take, which the
// help exists to explain; it was the variable's usage error (exit 2) and
// no help. Without -h the variable is still bad usage.
func TestHelp_ShownDespiteABadVariable(t *testing.T) {
	t.Setenv("XAA_IDP_TIMEOUT", "xyz")
	code, out, stderr := runCLI(t, "login", "-h")
	if code != exitOK || stderr != "" || !strings.Contains(out, "-timeout") {
		t.Errorf("XAA_IDP_TIMEOUT=xyz login -h: exit %d, stdout %q, stderr %q; want exit 0 and the help on stdout", code, out, stderr)
	}
	code, _, stderr = runCLI(t, "login", "--client-id", "c")
	if code != exitUsage || !strings.Contains(stderr, `XAA_IDP_TIMEOUT="xyz" (--timeout)`) {
		t.Errorf("XAA_IDP_TIMEOUT=xyz login: exit %d, stderr %q; want exit %d naming the variable", code, stderr, exitUsage)
	}
}
