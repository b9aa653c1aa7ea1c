package main

import (
	"strings"
	"testing"
)

// TestConnect_CIMDPortOutOfRange: a --cimd-port that is no TCP port is bad
// usage (exit 2), said with the flag, as every other refused flag value;
// it was a runtime failure (exit 1) from the listener, "listen tcp:
// address 70000: invalid port". Nothing listens on the issuer.
func TestConnect_CIMDPortOutOfRange(t *testing.T) {
	for _, port := range []string{"70000", "-1", "65536"} {
		code, out, stderr := runCLI(t, "connect", "--issuer", "http://127.0.0.1:1", "--cimd", "--cimd-port", port, "--username", "u", "--password", "p")
		want := `--cimd-port "` + port + `": want a TCP port from 0 to 65535`
		if code != exitUsage || out != "" || !strings.Contains(stderr, want) {
			t.Errorf("--cimd-port %s: exit %d, stdout %q, stderr %q; want exit %d saying %q", port, code, out, stderr, exitUsage, want)
		}
	}
}
