package demo_test

import (
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/demo"
	"github.com/xaa-idp/xaa-idp/fixtures"
	"github.com/xaa-idp/xaa-idp/policy"
)

const (
	idpIssuer = "http://127.0.0.1:8080"
	idpJWKS   = idpIssuer + "/keys"
)

func demoConfig(t *testing.T) *policy.Config {
	t.Helper()
	cfg, err := policy.Parse(fixtures.Demo, fixtures.DemoFile)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestStack_OneAuthServerAndOneMCPServerPerServer checks that every MCP
// server of the demo configuration gets its authorization server at its
// issuer and its MCP server at its first resource.
func TestStack_OneAuthServerAndOneMCPServerPerServer(t *testing.T) {
	cfg := demoConfig(t)
	stack, err := demo.Stack(cfg, idpIssuer, idpJWKS)
	if err != nil {
		t.Fatal(err)
	}
	type want struct{ url, addr string }
	got := map[string]want{}
	for _, svc := range stack {
		if svc.Handler == nil {
			t.Errorf("%s %s has no handler", svc.Server, svc.Role)
		}
		got[svc.Server+" "+svc.Role] = want{svc.URL, svc.Addr}
	}
	if len(stack) != 2*len(cfg.MCPServers) {
		t.Errorf("%d services for %d MCP servers", len(stack), len(cfg.MCPServers))
	}
	tests := []struct {
		service string
		want    want
	}{
		{"tracker authorization server", want{"http://127.0.0.1:8101", "127.0.0.1:8101"}},
		{"tracker MCP server", want{"http://127.0.0.1:8201/mcp", "127.0.0.1:8201"}},
		{"crm authorization server", want{"http://127.0.0.1:8104", "127.0.0.1:8104"}},
		{"crm MCP server", want{"http://127.0.0.1:8204/mcp", "127.0.0.1:8204"}},
	}
	for _, tt := range tests {
		if got[tt.service] != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.service, got[tt.service], tt.want)
		}
	}
}

// TestStack_RefusesTwoServicesOnOneAddress: the demo listens on the
// address each URL names, so two URLs on one host:port cannot both work.
func TestStack_RefusesTwoServicesOnOneAddress(t *testing.T) {
	cfg := demoConfig(t)
	cfg.MCPServers[1].Issuer = cfg.MCPServers[0].Issuer
	_, err := demo.Stack(cfg, idpIssuer, idpJWKS)
	if err == nil || !strings.Contains(err.Error(), "give each its own port") {
		t.Fatalf("err = %v, want a port conflict", err)
	}
}
