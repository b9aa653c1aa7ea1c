package main

import (
	"strings"
	"testing"
)

// A value a flag cannot take on the command line is bad usage (exit 2)
// with a message that names the flag, the value and what the flag takes,
// as the same value in its XAA_IDP_* variable does: the flag package's
// own message for a duration, a boolean or a number is a bare "parse
// error". The flag's usage follows, as before.
func TestFlags_BadCommandLineValueSaysWhatTheFlagTakes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"explain", "--user", "alice", "--client", "mcp-client", "--audience", "crm", "--auth-age", "xyz"},
			[]string{`--auth-age "xyz"`, "want a duration such as 30s", "Usage of xaa-idp explain"}},
		{[]string{"login", "--client-id", "c", "--username", "u", "--password", "p", "--timeout=soon"},
			[]string{`--timeout "soon"`, "want a duration such as 30s"}},
		{[]string{"serve", "--addr", "127.0.0.1:0", "--tls=maybe"},
			[]string{`--tls "maybe"`, "want true or false"}},
		{[]string{"load", "--requests", "many"},
			[]string{`--requests "many"`, "want a whole number"}},
		// A whole number, but not one the flag can hold: not told it is
		// not a whole number.
		{[]string{"load", "--requests", "99999999999999999999"},
			[]string{`--requests "99999999999999999999"`, "out of range", "9223372036854775807"}},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			code, stdout, stderr := runBinary(t, tc.args...)
			if code != exitUsage || stdout != "" {
				t.Errorf("%v: exit %d, stdout %q; want exit 2", tc.args, code, stdout)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("%v: stderr %q lacks %q", tc.args, stderr, w)
				}
			}
			if strings.Contains(stderr, "parse error") {
				t.Errorf("%v: stderr %q still says only \"parse error\"", tc.args, stderr)
			}
		})
	}
}
