package main

import (
	"strings"
	"testing"
)

// TestConnect_CIMDPortOutOfRange: a --cimd-port that is no TCP port is bad
// usage (exit 2), said with the flag, as every other refused flag value;
// it was a runtime failure (exit 1) from the listener, "listen tcp:
// address 70000: invalid port". Without --cimd too, as the README's exit
// codes say: it was ignored, and the login went ahead (exit 1, "nothing
// answers"). Nothing listens on the issuer.
func TestConnect_CIMDPortOutOfRange(t *testing.T) {
	for _, port := range []string{"70000", "-1", "65536"} {
		for _, who := range [][]string{{"--cimd"}, {"--client-id", "mcp-client"}} {
			args := append(append([]string{"connect", "--issuer", "http://127.0.0.1:1"}, who...), "--cimd-port", port, "--username", "u", "--password", "p")
			code, out, stderr := runCLI(t, args...)
			want := `--cimd-port "` + port + `": want a TCP port from 0 to 65535`
			if code != exitUsage || out != "" || !strings.Contains(stderr, want) {
				t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d saying %q", args[1:], code, out, stderr, exitUsage, want)
			}
		}
	}
}
