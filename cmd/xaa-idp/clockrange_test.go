package main

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestServe_ClockOutOfRangeIsRefused: a --clock the IdP cannot run at (a
// running clock is the wall clock plus an offset, a time.Duration of at
// most 292 years; access entries' expires stop at 2261) is a usage error
// that says the range, not a clock that silently reads another year
// (0000-01-01 read 1734, 9999-01-01 read 2319). The real binary, as a
// user meets it.
func TestServe_ClockOutOfRangeIsRefused(t *testing.T) {
	bin := xaaIDPBinary(t)
	for _, at := range []string{"0000-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "2262-01-01T00:00:00Z", "9999-01-01T00:00:00Z"} {
		for _, frozen := range []bool{false, true} {
			args := []string{"serve", "--addr", "127.0.0.1:0", "--clock", at}
			if frozen {
				args = append(args, "--clock-frozen")
			}
			out, code, stderr := runBinaryBriefly(t, bin, 5*time.Second, args...)
			if code != exitUsage || !strings.Contains(stderr, "--clock") || !strings.Contains(stderr, "1970") || !strings.Contains(stderr, "2261") {
				t.Errorf("serve --clock %s (frozen %v): exit %d, stdout %q, stderr %q; want exit %d naming the range", at, frozen, code, out, stderr, exitUsage)
			}
		}
	}
}

// runBinaryBriefly runs the real binary for at most d; a command still
// running then is killed and reported with exit code -1.
func runBinaryBriefly(t *testing.T, bin string, d time.Duration, args ...string) (stdout string, code int, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		return out.String(), -1, errb.String()
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), ee.ExitCode(), errb.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), 0, errb.String()
}
