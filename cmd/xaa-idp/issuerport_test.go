package main

import (
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// A newcomer copies the README's configuration, whose `issuer:` is
// http://127.0.0.1:8080, and starts `serve --config FILE --addr
// 127.0.0.1:0` as the CI section does: serve prints that issuer, where
// nothing of it listens (or another IdP does), and clients fail with an
// issuer mismatch or talk to the wrong IdP. The log says so at start, and
// which --issuer to give; an issuer of another host (behind a proxy) or
// one on the port bound gets no warning.
func TestServe_LoopbackIssuerOnAnotherPortIsSaid(t *testing.T) {
	// A loopback port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	elsewhere := "http://" + ln.Addr().String()
	ln.Close()

	file := filepath.Join(t.TempDir(), "idp.yaml")
	demo, err := os.ReadFile("../../fixtures/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, append([]byte("issuer: "+elsewhere+"\n"), demo...), 0o600); err != nil {
		t.Fatal(err)
	}
	issuer, stop := serveWithLogs(t, "--config", file)
	if issuer != elsewhere {
		t.Fatalf("serve printed %q, want the configuration's issuer %s", issuer, elsewhere)
	}
	// Nothing answers at the issuer serve printed: the defect a client meets.
	if resp, err := http.Get(issuer + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatalf("something answers at %s: pick another port", issuer)
	}
	logs := stop()
	u, _ := url.Parse(elsewhere)
	if !strings.Contains(logs, "the configuration's issuer is "+elsewhere) || !strings.Contains(logs, "listens on 127.0.0.1:") ||
		!strings.Contains(logs, "port "+u.Port()) || !strings.Contains(logs, "--issuer http://127.0.0.1:") {
		t.Errorf("the log does not say that the issuer names another port than the one bound, and which --issuer to give:\n%s", logs)
	}

	for _, args := range [][]string{
		nil,                                     // the default issuer: the address bound
		{"--issuer", "https://idp.example.com"}, // behind a proxy
	} {
		_, stop := serveWithLogs(t, args...)
		if logs := stop(); strings.Contains(logs, "listens on") {
			t.Errorf("serve %v: warned of another port:\n%s", args, logs)
		}
	}

	// --issuer on the port bound: no warning.
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	_, stop = serveWithLogs(t, "--addr", "127.0.0.1:"+port, "--issuer", "http://localhost:"+port)
	if logs := stop(); strings.Contains(logs, "listens on") {
		t.Errorf("--issuer on the port bound: warned of another port:\n%s", logs)
	}
}
