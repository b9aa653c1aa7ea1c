package main

import (
	"net/url"
	"strings"
	"testing"
)

// `serve --addr localhost:P` serves the issuer of the address the name
// resolved to (http://127.0.0.1:P, as the contract's "as actually bound"
// says), and a newcomer who then gives clients http://localhost:P gets an
// issuer mismatch from the MCP SDKs. The log says which URL clients must
// use and how to have the name instead.
func TestServe_AddrByNameSaysWhichIssuer(t *testing.T) {
	issuer, stop := serveWithLogs(t, "--addr", "localhost:0")
	logs := stop()
	u, err := url.Parse(issuer)
	if err != nil || u.Hostname() == "localhost" {
		t.Fatalf("issuer %q, want the address bound", issuer)
	}
	if want := "--issuer http://localhost:" + u.Port(); !strings.Contains(logs, want) || !strings.Contains(logs, issuer) {
		t.Errorf("logs do not say the issuer is %s and how to use the name (%s):\n%s", issuer, want, logs)
	}

	_, stop = serveWithLogs(t)
	if logs := stop(); strings.Contains(logs, "--issuer http://") {
		t.Errorf("an IP address in --addr got the hint too:\n%s", logs)
	}
}
