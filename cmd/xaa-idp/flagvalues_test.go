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
		// not a whole number, nor int64's range, but the flag's, as for
		// a value the command refuses after parsing.
		{[]string{"load", "--requests", "99999999999999999999"},
			[]string{`--requests "99999999999999999999"`, "out of range: want a whole number from 1 to 1000000"}},
		{[]string{"load", "--concurrency", "99999999999999999999"},
			[]string{`--concurrency "99999999999999999999"`, "out of range: want a whole number from 1 to 1000"}},
		{[]string{"load", "--rounds", "-99999999999999999999"},
			[]string{`--rounds "-99999999999999999999"`, "out of range: want a whole number from 1 up"}},
		{[]string{"load", "--server-pid", "99999999999999999999"},
			[]string{`--server-pid "99999999999999999999"`, "out of range: want a process id"}},
		{[]string{"load", "--requests", "1e3"},
			[]string{`--requests "1e3"`, "want a whole number from 1 to 1000000"}},
		{[]string{"connect", "--cimd", "--cimd-port", "99999999999999999999"},
			[]string{`--cimd-port "99999999999999999999"`, "out of range: want a TCP port from 0 to 65535"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
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
