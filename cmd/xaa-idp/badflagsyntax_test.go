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

// TestParse_UnexpectedArgumentNamesTheCommand: a word that is no flag's
// value ("xaa-idp login extra", a value after a flag that took its own)
// was said as "xaa-idp: unexpected argument", the one usage error that
// named no command: a script's log of several commands did not say which
// one stopped. Nothing on stdout, exit 2.
func TestParse_UnexpectedArgumentNamesTheCommand(t *testing.T) {
	for _, args := range [][]string{
		{"check", "extra"},
		{"version", "extra"},
		{"healthcheck", "extra"},
		{"login", "--client-id", "c", "extra"},
		{"keys", "list", "extra"},
		{"connect", "--json", "extra"},
	} {
		code, stdout, stderr := runCLI(t, args...)
		name := args[0]
		if name == "keys" {
			name += " " + args[1]
		}
		want := "xaa-idp " + name + `: unexpected argument "extra"`
		if code != exitUsage || stdout != "" || !strings.HasPrefix(stderr, want) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and %q", args, code, stdout, stderr, want)
		}
	}
}
