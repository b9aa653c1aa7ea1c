package main

import (
	"net"
	"strings"
	"testing"
)

// TestClientCommands_NothingListening: a newcomer's first client command
// is often run before the IdP (or on another port). Each said only Go's
// `dial tcp 127.0.0.1:PORT: connect: connection refused`; each also says
// that nothing answers there, and what to do: start the IdP, or give the
// URL of the one running with the flag that names it. Exit 1 still.
func TestClientCommands_NothingListening(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	issuer := "http://" + addr
	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{"login", "--issuer", issuer, "--client-id", "c", "--username", "u", "--password", "p"}, "--issuer"},
		{[]string{"exchange", "--issuer", issuer, "--client-id", "c", "--id-token", "x.y.z", "--audience", "https://as.example"}, "--issuer"},
		{[]string{"connect", "--issuer", issuer, "--client-id", "c", "--username", "u", "--password", "p"}, "--issuer"},
		{[]string{"keys", "list", "--issuer", issuer, "--admin-user", "u", "--admin-password", "p"}, "--issuer"},
		{[]string{"load", "--issuer", issuer}, "--issuer"},
		{[]string{"healthcheck", "--url", issuer}, "--url"},
	} {
		code, _, stderr := runCLI(t, c.args...)
		want := "nothing answers at " + addr + ": start the IdP (xaa-idp serve), or give the URL of the one running with " + c.flag
		if code != exitFailure || !strings.Contains(stderr, want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d saying %q", c.args[0], code, stderr, exitFailure, want)
		}
	}
}
