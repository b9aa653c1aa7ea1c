package main

import (
	"strings"
	"testing"
)

// A value the command refuses once read names the source the user set:
// the variable (and its flag) when it came from XAA_IDP_*, the flag when
// it came from the command line, which overrides the variable.
func TestEnv_RefusedValueNamesTheVariableItCameFrom(t *testing.T) {
	for _, tc := range []struct {
		env, value string
		args       []string
		want       string
	}{
		{"XAA_IDP_ADDR", "bad", []string{"serve"}, `XAA_IDP_ADDR="bad" (--addr): `},
		{"XAA_IDP_LOG_FORMAT", "xml", []string{"serve", "--addr", "127.0.0.1:0"}, `XAA_IDP_LOG_FORMAT="xml" (--log-format): `},
		{"XAA_IDP_CLOCK", "yesterday", []string{"serve", "--addr", "127.0.0.1:0"}, `XAA_IDP_CLOCK="yesterday" (--clock): `},
		{"XAA_IDP_ISSUER", "ftp://x", []string{"login", "--client-id", "c", "--username", "u", "--password", "p"}, `XAA_IDP_ISSUER="ftp://x" (--issuer) `},
	} {
		t.Run(tc.env, func(t *testing.T) {
			t.Setenv(tc.env, tc.value)
			code, stdout, stderr := runBinary(t, tc.args...)
			if code != exitUsage || stdout != "" {
				t.Errorf("%s=%s: exit %d, stdout %q; want exit 2", tc.env, tc.value, code, stdout)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("%s=%s: stderr %q lacks %q", tc.env, tc.value, stderr, tc.want)
			}
		})
	}
	// The command line's value is the command line's to name.
	t.Setenv("XAA_IDP_ADDR", "127.0.0.1:0")
	code, _, stderr := runBinary(t, "serve", "--addr", "bad")
	if code != exitUsage || !strings.Contains(stderr, `xaa-idp: --addr "bad": `) || strings.Contains(stderr, "XAA_IDP_ADDR") {
		t.Errorf("XAA_IDP_ADDR set, --addr bad: exit %d, stderr %q; want exit 2 naming --addr \"bad\" alone", code, stderr)
	}
}

// A flag's help is the same whether or not its variable is set: the
// variable's value does not turn "-addr string" into "-addr value".
func TestEnv_HelpUnchangedByVariables(t *testing.T) {
	help := func(args ...string) string {
		t.Helper()
		code, stdout, stderr := runBinary(t, args...)
		if code != exitOK {
			t.Errorf("%v: exit %d", args, code)
		}
		return stdout + stderr
	}
	want, wantH := help("help", "serve"), help("serve", "-h")
	t.Setenv("XAA_IDP_ADDR", "127.0.0.1:0")
	t.Setenv("XAA_IDP_TLS", "true")
	t.Setenv("XAA_IDP_CLOCK_FROZEN", "true")
	if got := help("help", "serve"); got != want {
		t.Errorf("help serve with XAA_IDP_* set:\n%s\nwant\n%s", got, want)
	}
	if got := help("serve", "-h"); got != wantH {
		t.Errorf("serve -h with XAA_IDP_* set:\n%s\nwant\n%s", got, wantH)
	}
}
