package main

import (
	"strings"
	"testing"
)

// TestParse_BoolFlagValueAfterASpace: a true/false flag takes its value
// after "=" only, so "--tls false" leaves "false" an argument, and the
// command said "unexpected argument "false"" without why. It says how
// to write it. Exit 2, before anything starts.
func TestParse_BoolFlagValueAfterASpace(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--tls", "false", "--addr", "127.0.0.1:0"},
		{"exchange", "--decode", "true", "--client-id", "c"},
		{"connect", "-all", "false"},
	} {
		code, out, stderr := runCLI(t, args...)
		flagName := strings.TrimLeft(args[1], "-")
		want := `unexpected argument "` + args[2] + `"; a true/false flag takes its value after =: --` + flagName + "=" + args[2]
		if code != exitUsage || out != "" || !strings.Contains(stderr, want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d saying %q", args, code, out, stderr, exitUsage, want)
		}
	}
	// Not every stray word after a boolean flag is its value.
	if _, _, stderr := runCLI(t, "serve", "--tls", "extra"); strings.Contains(stderr, "true/false") {
		t.Errorf("serve --tls extra: %q", stderr)
	}
}
