package main

import (
	"strings"
	"testing"
)

// TestParse_DirectoryArgumentNamesStateDir: "xaa-idp ca ./state" (the
// directory written as an argument, as "check FILE" writes a file) said
// only "unexpected argument"; as for a configuration file, it says which
// flag takes it. Exit 2.
func TestParse_DirectoryArgumentNamesStateDir(t *testing.T) {
	dir := t.TempDir()
	for _, cmd := range []string{"ca", "serve", "demo"} {
		code, out, stderr := runCLI(t, cmd, dir)
		want := "unexpected argument \"" + dir + "\"; to name the state directory, write --state-dir " + dir
		if code != exitUsage || out != "" || !strings.Contains(stderr, want) {
			t.Errorf("%s DIR: exit %d, stdout %q, stderr %q; want exit %d saying %q", cmd, code, out, stderr, exitUsage, want)
		}
	}
}
