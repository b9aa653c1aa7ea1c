package main

import (
	"fmt"
	"strings"
	"testing"
)

// TestDemo_ServerOnTheIdPsPort: a newcomer's MCP server (or its
// authorization server) on the port of the IdP's --addr, 8080 say, was
// refused as a port another program holds ("is another xaa-idp running?",
// exit 1) when this very process held it. It is a configuration that
// cannot run, as two MCP servers on one port are: exit 2, naming the file
// and line and the IdP's --addr.
func TestDemo_ServerOnTheIdPsPort(t *testing.T) {
	idpPort := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", idpPort)
	for name, cfg := range map[string]struct {
		file string
		line int
		role string
	}{
		"MCP server":           {minimalConfig(t, "http", freePort(t), idpPort), 25, "notes MCP server"},
		"authorization server": {minimalConfig(t, "http", idpPort, freePort(t)), 24, "notes authorization server"},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := runBinary(t, "demo", "--addr", addr, "--config", cfg.file)
			want := fmt.Sprintf("%s:%d: %s wants %s, where the IdP listens (--addr %s)", cfg.file, cfg.line, cfg.role, addr, addr)
			if code != exitUsage || !strings.Contains(stderr, want) || strings.Contains(stderr, "another xaa-idp") {
				t.Errorf("demo: exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr, exitUsage, want)
			}
		})
	}
}
