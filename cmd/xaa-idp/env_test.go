package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// An XAA_IDP_* variable whose value its flag cannot take is bad usage
// (exit 2) with a message that names the variable, the value, the flag
// and what it takes, as a CI job's log must say what to fix.
func TestEnv_BadValueSaysVariableValueFlagAndForm(t *testing.T) {
	for _, tc := range []struct {
		env, value string
		args       []string
		want       []string
	}{
		{"XAA_IDP_TIMEOUT", "xyz", []string{"login", "--client-id", "c", "--username", "u", "--password", "p"},
			[]string{`XAA_IDP_TIMEOUT="xyz"`, "--timeout", "a duration such as 30s"}},
		{"XAA_IDP_CLOCK_FROZEN", "maybe", []string{"serve", "--addr", "127.0.0.1:0"},
			[]string{`XAA_IDP_CLOCK_FROZEN="maybe"`, "--clock-frozen", "true or false"}},
		{"XAA_IDP_ALL", "2", []string{"connect", "--client-id", "c", "--username", "u", "--password", "p"},
			[]string{`XAA_IDP_ALL="2"`, "--all", "true or false"}},
	} {
		t.Run(tc.env, func(t *testing.T) {
			t.Setenv(tc.env, tc.value)
			code, stdout, stderr := runBinary(t, tc.args...)
			if code != exitUsage || stdout != "" {
				t.Errorf("%s=%s: exit %d, stdout %q; want exit 2", tc.env, tc.value, code, stdout)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("%s=%s: stderr %q lacks %q", tc.env, tc.value, stderr, w)
				}
			}
		})
	}
}

// A flag given on the command line overrides its XAA_IDP_* variable, the
// repeatable ones (--scope, --mcp) too: a job that sets XAA_IDP_SCOPE for
// every step and --scope for one gets that step's scopes, not both.
func TestEnv_CommandLineListReplacesTheVariable(t *testing.T) {
	issuer := startServe(t)
	t.Setenv("XAA_IDP_ISSUER", issuer)
	t.Setenv("XAA_IDP_SCOPE", "openid email groups")
	login := func(args ...string) string {
		t.Helper()
		code, out, stderr := runBinary(t, append([]string{"login", "--client-id", "mcp-client", "--client-secret", "mcp-secret", "--username", "alice", "--password", "alice"}, args...)...)
		if code != 0 {
			t.Fatalf("login %v: exit %d: %s", args, code, stderr)
		}
		var resp struct {
			Scope string `json:"scope"`
		}
		if err := json.Unmarshal([]byte(out), &resp); err != nil {
			t.Fatalf("login %v: %v: %s", args, err, out)
		}
		return resp.Scope
	}
	if got := login(); got != "openid email groups" {
		t.Errorf("XAA_IDP_SCOPE alone: scope %q, want %q", got, "openid email groups")
	}
	if got := login("--scope", "openid", "--scope", "profile"); got != "openid profile" {
		t.Errorf("XAA_IDP_SCOPE and --scope openid --scope profile: scope %q, want %q (the command line's)", got, "openid profile")
	}
}
