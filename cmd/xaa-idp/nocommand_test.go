package main

import (
	"strings"
	"testing"
)

// TestNoCommand_ServesTheEmbeddedDemo holds section 2 of the contract:
// `go run ./cmd/xaa-idp` (the binary without a command) is serve with the
// embedded demo configuration, and serve's --addr defaults to
// 127.0.0.1:8080 (read from its help: the port itself is not the test's).
func TestNoCommand_ServesTheEmbeddedDemo(t *testing.T) {
	stderr := &syncBuffer{}
	issuer, _ := startBinary(t, stderr, "--addr", "127.0.0.1:0")
	if !strings.HasPrefix(issuer, "http://127.0.0.1:") {
		t.Fatalf("xaa-idp --addr 127.0.0.1:0 printed %q, want the issuer", issuer)
	}
	waitFor(t, stderr, "serving the embedded demo configuration")
	// The demo's alice and its client log in.
	if tokens := loginAlice(t, issuer); tokens["id_token"] == nil {
		t.Errorf("login of the demo's alice: %v", tokens)
	}

	code, out, _ := runBinary(t, "serve", "-h")
	if code != exitOK || !strings.Contains(out, `(default "127.0.0.1:8080")`) {
		t.Errorf("serve -h: exit %d, no --addr default 127.0.0.1:8080:\n%s", code, out)
	}
}
