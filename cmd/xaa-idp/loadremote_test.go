package main

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestLoad_SendsNothingBeyondLoopback: without --allow-remote, load sends
// no request to a non-loopback address, whatever the loopback issuer's
// discovery document names (or its redirects lead to). The rule read the
// issuer's host alone, and the login, the exchanges and the floor went
// wherever the document pointed: thousands of requests to a remote host.
func TestLoad_SendsNothingBeyondLoopback(t *testing.T) {
	ip := nonLoopbackIP(t)
	var hits atomic.Int64
	remote := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.NotFound(w, r)
	}))
	ln, err := net.Listen("tcp", net.JoinHostPort(ip.String(), "0"))
	if err != nil {
		t.Skipf("cannot listen on %s: %v", ip, err)
	}
	remote.Listener = ln
	remote.Start()
	defer remote.Close()
	var issuer string
	local := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.Redirect(w, r, remote.URL+r.URL.Path, http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{
			"issuer":                 issuer,
			"authorization_endpoint": remote.URL + "/authorize",
			"token_endpoint":         remote.URL + "/oauth/token",
		})
	}))
	defer local.Close()
	issuer = local.URL
	code, stderr := runCLIFor(t, 60*time.Second, "load", "--issuer", issuer, "--requests", "1", "--rounds", "1", "--server-pid", "0")
	if n := hits.Load(); n != 0 {
		t.Errorf("%s (not loopback) got %d requests", remote.URL, n)
	}
	if want := ip.String() + " is not a loopback address"; code != exitFailure || !strings.Contains(stderr, want) {
		t.Errorf("exit %d, stderr %q; want exit %d saying %q", code, stderr, exitFailure, want)
	}
}

// nonLoopbackIP is an address of this machine's that is not loopback; the
// test is skipped on a machine without one.
func nonLoopbackIP(t *testing.T) net.IP {
	t.Helper()
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && n.IP.IsGlobalUnicast() {
			return n.IP
		}
	}
	t.Skip("no non-loopback IPv4 address")
	return nil
}
