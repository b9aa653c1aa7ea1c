package main

import (
	"testing"
)

// TestVersion_FlagFormPrintsTheVersion: 'xaa-idp --version' (and
// -version), the first thing many newcomers type, printed "flag provided
// but not defined: -version" and serve's flags, exit 2: the flags without
// a command are serve's. It prints what 'xaa-idp version' prints, exit 0,
// as --help prints what 'help' does.
func TestVersion_FlagFormPrintsTheVersion(t *testing.T) {
	_, want, _ := runCLI(t, "version")
	for _, flag := range []string{"--version", "-version"} {
		code, out, stderr := runCLI(t, flag)
		if code != exitOK || out != want || stderr != "" {
			t.Errorf("xaa-idp %s: exit %d, stdout %q, stderr %q; want exit 0 and %q", flag, code, out, stderr, want)
		}
	}
}
