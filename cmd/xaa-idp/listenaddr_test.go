package main

import (
	"strings"
	"testing"
)

// An address that cannot be one (a name that does not resolve, a dotted
// quad that is no IP address, a host:port given as --bind) is bad usage,
// named by its flag with what it takes, before anything listens; not a DNS
// error's exit 1.
func TestListenAddress_UnusableIsBadUsageNamingTheFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"demo", "--addr", "127.0.0.1:0", "--bind", "nonsense"}, `--bind "nonsense": `},
		{[]string{"demo", "--addr", "127.0.0.1:0", "--bind", "999.1.1.1"}, `--bind "999.1.1.1": `},
		{[]string{"demo", "--addr", "127.0.0.1:0", "--bind", "127.0.0.1:80"}, `--bind "127.0.0.1:80": `},
		{[]string{"serve", "--addr", "nonsense:0"}, `--addr "nonsense:0": `},
		{[]string{"serve", "--addr", "999.1.1.1:0"}, `--addr "999.1.1.1:0": `},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := runBinary(t, tc.args...)
			if code != exitUsage || stdout != "" {
				t.Errorf("%v: exit %d, stdout %q; want exit 2", tc.args, code, stdout)
			}
			if !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "IP address") {
				t.Errorf("%v: stderr %q lacks %q and what the flag takes (an IP address)", tc.args, stderr, tc.want)
			}
			if strings.Contains(stderr, "listen tcp") || strings.Contains(stderr, "level=INFO") {
				t.Errorf("%v: stderr %q: refused after starting, by the listener", tc.args, stderr)
			}
		})
	}
	// A name that resolves is still an address.
	var logs syncBuffer
	if line, _ := startBinary(t, &logs, "serve", "--addr", "localhost:0"); !strings.HasPrefix(line, "http://127.0.0.1:") && !strings.HasPrefix(line, "http://[::1]:") {
		t.Errorf("serve --addr localhost:0: issuer %q\n%s", line, logs.String())
	}
}
