package main

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"syscall"
	"testing"
)

// TestHealthcheck_HTTPSOnASpecificAddress: a container (or a host) whose
// IdP listens over https on one address of its own, XAA_IDP_ADDR with
// its IP (10.1.2.3:8443) or its host name, was unhealthy while serving:
// the server certificate named the issuer's host and the loopback names
// alone, and the health check, which probes where XAA_IDP_ADDR says the
// IdP listens (README, "In a container"), refused the certificate for the
// address it dialled. The certificate now names the host of --addr too,
// with or without an issuer of another name (a service name the clients
// use), so the health check passes on every address the machine has.
func TestHealthcheck_HTTPSOnASpecificAddress(t *testing.T) {
	hosts := ownAddresses(t)
	if runtime.GOOS == "linux" {
		hosts = append(hosts, "127.0.0.2") // loopback, but none of the names every certificate has
	}
	if name, err := os.Hostname(); err == nil {
		if _, err := net.LookupHost(name); err == nil {
			hosts = append(hosts, name)
		}
	}
	state := t.TempDir()
	for _, host := range hosts {
		for _, issuer := range []string{"", "https://idp.example"} {
			t.Run(fmt.Sprintf("%s issuer %q", host, issuer), func(t *testing.T) {
				addr := net.JoinHostPort(host, fmt.Sprint(portInRange(t, host)))
				vars := []string{"XAA_IDP_ADDR=" + addr, "XAA_IDP_TLS=true", "XAA_IDP_STATE_DIR=" + state}
				if issuer != "" {
					vars = append(vars, "XAA_IDP_ISSUER="+issuer)
				}
				env := containerEnv(t, vars...)
				c := startContainer(t, env, nil, "")
				if code, out := runDockerHealthcheck(t, env); code != exitOK {
					t.Errorf("the health check of the IdP serving %s on %s: exit %d, want 0\n%s", c.issuer, addr, code, out)
				}
				c.stop(t, syscall.SIGTERM)
			})
		}
	}
}

// ownAddresses is the machine's IP addresses that a server may listen on
// besides loopback (none on a machine without a network): not link-local
// ones, which need a zone.
func ownAddresses(t *testing.T) []string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	var hosts []string
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok || n.IP.IsLoopback() || n.IP.IsLinkLocalUnicast() || n.IP.IsMulticast() {
			continue
		}
		if ln, err := net.Listen("tcp", net.JoinHostPort(n.IP.String(), "0")); err == nil {
			ln.Close()
			hosts = append(hosts, n.IP.String())
		}
	}
	return hosts
}

// portInRange is a port of the range this file's tests may bind
// (19450-19599) that is free on host now: the health check probes a
// port known before the IdP starts, which port 0 is not.
func portInRange(t *testing.T, host string) int {
	t.Helper()
	for port := 19450; port < 19600; port++ {
		if _, taken := handedOut.LoadOrStore(port, true); taken {
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(host, fmt.Sprint(port)))
		if err != nil {
			continue
		}
		ln.Close()
		return port
	}
	t.Fatalf("no free port between 19450 and 19599 on %s", host)
	return 0
}
