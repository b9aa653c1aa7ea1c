package main

import (
	"strings"
	"testing"
)

// TestServe_ClockOutOfRangeIsRefused: a --clock the IdP cannot run at (a
// running clock is the wall clock plus an offset, a time.Duration of at
// most 292 years; access entries' expires stop at 2261) is a usage error
// that says the range, not a clock that silently reads another year
// (0000-01-01 read 1734, 9999-01-01 read 2319). The real binary, as a
// user meets it.
func TestServe_ClockOutOfRangeIsRefused(t *testing.T) {
	for _, at := range []string{"0000-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "2262-01-01T00:00:00Z", "9999-01-01T00:00:00Z"} {
		for _, frozen := range []bool{false, true} {
			args := []string{"serve", "--addr", "127.0.0.1:0", "--clock", at}
			if frozen {
				args = append(args, "--clock-frozen")
			}
			code, out, stderr := runBriefly(t, args...)
			if code != exitUsage || !strings.Contains(stderr, "--clock") || !strings.Contains(stderr, "1970") || !strings.Contains(stderr, "2261") {
				t.Errorf("serve --clock %s (frozen %v): exit %d, stdout %q, stderr %q; want exit %d naming the range", at, frozen, code, out, stderr, exitUsage)
			}
		}
	}
}
