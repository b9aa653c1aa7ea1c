package main

import (
	"strings"
	"testing"
)

// A negative login age is no login age: bad usage, from the command line
// or from XAA_IDP_AUTH_AGE.
func TestExplain_NegativeAuthAgeIsBadUsage(t *testing.T) {
	explain := []string{"explain", "--user", "alice", "--client", "mcp-client", "--audience", "crm"}
	code, stdout, stderr := runBinary(t, append(explain, "--auth-age", "-5m")...)
	if code != exitUsage || stdout != "" {
		t.Errorf("explain --auth-age -5m: exit %d, stdout %q; want exit 2", code, stdout)
	}
	if !strings.Contains(stderr, `--auth-age "-5m0s": `) || !strings.Contains(stderr, "such as 1h") {
		t.Errorf("explain --auth-age -5m: stderr %q does not say what --auth-age takes", stderr)
	}
	if code, _, stderr := runBinary(t, append(explain, "--auth-age", "0s")...); code != exitOK {
		t.Errorf("explain --auth-age 0s: exit %d: %s", code, stderr)
	}
	t.Setenv("XAA_IDP_AUTH_AGE", "-5m")
	code, _, stderr = runBinary(t, explain...)
	if code != exitUsage || !strings.Contains(stderr, `XAA_IDP_AUTH_AGE="-5m0s" (--auth-age): `) {
		t.Errorf("XAA_IDP_AUTH_AGE=-5m: exit %d, stderr %q; want exit 2 naming the variable", code, stderr)
	}
}
