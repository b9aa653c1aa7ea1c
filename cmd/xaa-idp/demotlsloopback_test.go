package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemoTLS_EveryLoopbackAddressServedHTTPS: demo serves an MCP server
// on any loopback address (127.0.0.2, 127.1.2.3), but demo --tls made
// only 127.0.0.1, localhost and [::1] https, and refused the others at
// their line ("write https://127.0.0.2:..."). It serves them all over
// https, as it serves them all without --tls.
func TestDemoTLS_EveryLoopbackAddressServedHTTPS(t *testing.T) {
	// A port the kernel gives on the address, free there for the demo.
	port := func(host string) string {
		ln, err := net.Listen("tcp", host+":0")
		if err != nil {
			t.Skipf("cannot listen on %s: %v", host, err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}
	as, mcp := port("127.0.0.2"), port("127.1.2.3")
	data, err := os.ReadFile("../../fixtures/samples/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "idp.yaml")
	written := strings.NewReplacer("127.0.0.1:9101", as, "127.0.0.1:9201", mcp).Replace(string(data))
	if err := os.WriteFile(cfg, []byte(written), 0o600); err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	_, stdout := startBinary(t, &syncBuffer{}, "demo", "--addr", "127.0.0.1:0", "--tls", "--state-dir", state, "--config", cfg)
	banner := waitFor(t, stdout, "Ctrl-C stops everything.")
	issuer := strings.Fields(banner[strings.Index(banner, "  IdP"):])[1]
	if !strings.Contains(banner, "https://"+as) || !strings.Contains(banner, "https://"+mcp+"/mcp") {
		t.Fatalf("demo --tls: banner without https://%s and https://%s/mcp:\n%s", as, mcp, banner)
	}
	code, out, stderr := runCLI(t, "connect", "--issuer", issuer, "--ca-file", filepath.Join(state, "tls", "ca.pem"), "--client-id", "my-mcp-client", "--client-secret", "change-me", "--username", "dev", "--password", "dev", "--json")
	var results []connectResult
	if err := json.Unmarshal([]byte(out), &results); err != nil || code != 0 || len(results) != 1 || !results[0].Connected || results[0].MCPServer != fmt.Sprintf("https://%s/mcp", mcp) {
		t.Fatalf("connect to demo --tls on 127.0.0.2 and 127.1.2.3: exit %d %v\n%s%s", code, err, out, stderr)
	}
	if now, _ := os.ReadFile(cfg); string(now) != written {
		t.Errorf("demo --tls rewrote the file:\n%s", now)
	}
}
