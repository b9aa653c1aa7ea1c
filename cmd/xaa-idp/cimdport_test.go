package main

import (
	"os"
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

// TestConnect_AFlagWithoutTheFlagItServesIsBadUsage: --interval is how
// often --watch calls whoami, --cimd-port where --cimd serves its
// document; without those they did nothing, silently, and the user who
// meant to watch or be a CIMD client got a one-off connect or a
// --client-id login instead. Bad usage (exit 2), in one line naming both
// flags, from the command line. From a variable it is ignored: a job sets
// one for all its commands. Nothing listens on the issuer.
func TestConnect_AFlagWithoutTheFlagItServesIsBadUsage(t *testing.T) {
	for _, c := range []struct {
		env   []string
		flags []string
		want  string
	}{
		{nil, []string{"--interval", "5s"}, "--interval is only for --watch"},
		{nil, []string{"--watch=false", "--interval", "5s"}, "--interval is only for --watch"},
		{nil, []string{"--cimd-port", "8500"}, "--cimd-port is only for --cimd"},
	} {
		if c.env != nil {
			t.Setenv(c.env[0], c.env[1])
		}
		args := append([]string{"connect", "--issuer", "http://127.0.0.1:1", "--client-id", "c", "--username", "u", "--password", "p"}, c.flags...)
		code, out, stderr := runCLI(t, args...)
		if code != exitUsage || out != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v %v: exit %d, stdout %q, stderr %q; want exit %d and one line saying %q", c.env, args[1:], code, out, stderr, exitUsage, c.want)
		}
		if c.env != nil {
			os.Unsetenv(c.env[0])
		}
	}
	for _, env := range [][2]string{{"XAA_IDP_CIMD_PORT", "8500"}, {"XAA_IDP_INTERVAL", "5s"}} {
		t.Setenv(env[0], env[1])
		code, _, stderr := runCLI(t, "connect", "--issuer", "http://127.0.0.1:1", "--client-id", "c", "--username", "u", "--password", "p")
		if code == exitUsage || strings.Contains(stderr, "is only for") {
			t.Errorf("%s=%s: exit %d, stderr %q; a variable without its partner flag should be ignored", env[0], env[1], code, stderr)
		}
		os.Unsetenv(env[0])
	}
}
