package main

import (
	"strings"
	"testing"
)

// TestParse_UnknownFlagAndMissingValueSaidAsTheOthers: the flag package's
// own "flag provided but not defined: -bogus" and "flag needs an argument:
// -addr" named neither the command nor what to do; they are said as the
// other usage errors are, with the flag written as the README writes it,
// then the command's flags (on stderr, exit 2).
func TestParse_UnknownFlagAndMissingValueSaidAsTheOthers(t *testing.T) {
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"serve", "--adr", "127.0.0.1:0"}, "xaa-idp serve: unknown flag --adr; the flags of xaa-idp serve follow\nUsage of xaa-idp serve:"},
		{[]string{"serve", "--addr"}, "xaa-idp serve: --addr needs a value: --addr VALUE or --addr=VALUE\nUsage of xaa-idp serve:"},
	} {
		code, out, stderr := runCLI(t, c.args...)
		if code != exitUsage || out != "" || !strings.HasPrefix(stderr, c.says+"\n") || !strings.Contains(stderr, "  -issuer string") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d starting %q, then the flags", c.args, code, out, stderr, exitUsage, c.says)
		}
	}
}
