package main

import (
	"strings"
	"testing"
)

// TestParse_BadFlagSyntaxNamesTheCommand: "---addr" (or "-=x") got the flag
// package's bare "bad flag syntax: ---addr", unlike every other usage
// error, which names the command and what to write.
func TestParse_BadFlagSyntaxNamesTheCommand(t *testing.T) {
	code, stdout, stderr := runBinary(t, "serve", "---addr", "127.0.0.1:0")
	first, _, _ := strings.Cut(stderr, "\n")
	want := "xaa-idp serve: bad flag syntax: ---addr; write --name VALUE or --name=VALUE"
	if code != exitUsage || stdout != "" || first != want {
		t.Errorf("exit %d, stdout %q, first line of stderr %q; want exit 2 and %q", code, stdout, first, want)
	}
}
