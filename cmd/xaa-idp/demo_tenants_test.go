package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tenantsConfig writes fixtures/samples/tenants.yaml with its shared MCP
// server's authorization server and MCP server on free ports.
func tenantsConfig(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../../fixtures/samples/tenants.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer(
		"http://127.0.0.1:9101", fmt.Sprintf("http://127.0.0.1:%d", freePort(t)),
		"http://127.0.0.1:9201", fmt.Sprintf("http://127.0.0.1:%d", freePort(t)),
	).Replace(string(data))
	file := filepath.Join(t.TempDir(), "tenants.yaml")
	if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestDemo_TenantsShareOneMCPServer: `xaa-idp demo` with the tenants
// sample serves one authorization server for the MCP server the four
// tenants list, trusting each of them; connect through each tenant's
// issuer reaches it as that tenant's user (docs/configuration.md, "Tenants").
func TestDemo_TenantsShareOneMCPServer(t *testing.T) {
	first, stdout := startBinary(t, &syncBuffer{}, "demo", "--addr", "127.0.0.1:0", "--config", tenantsConfig(t))
	if first != "xaa-idp demo: 4 tenants and 1 MCP server" {
		t.Errorf("banner starts %q", first)
	}
	banner := waitFor(t, stdout, "Ctrl-C stops everything.")
	issuers := map[string]string{}
	for _, line := range strings.Split(banner, "\n") {
		if f := strings.Fields(line); len(f) == 4 && strings.HasPrefix(f[2], "http://") && strings.HasSuffix(f[3], "/admin/") {
			issuers[f[0]] = f[2]
		}
	}
	tests := []struct {
		tenant, client, secret, user string
		wantSub, wantScopes          string
	}{
		{"acme", "desktop", "acme-desktop-secret", "alice", "u-alice", "notes.read notes.write"},
		{"okta", "0oa-desktop", "okta-desktop-secret", "alice", "00u-okta-alice", "notes.read"},
		{"anthropic-acme", "claude", "claude-secret", "bob", "u-bob", "notes.read notes.write"},
		{"c1", "agent", "c1-agent-secret", "dana", "2kQ7XbV9mRzT1eLc0wHnY4sPdJa", "notes.read"},
	}
	for _, tt := range tests {
		t.Run(tt.tenant, func(t *testing.T) {
			issuer := issuers[tt.tenant]
			if issuer == "" {
				t.Fatalf("the banner lists no issuer for tenant %s:\n%s", tt.tenant, banner)
			}
			if want := "--issuer " + issuer + " --client-id " + tt.client; !strings.Contains(banner, want) {
				t.Errorf("the banner suggests no connect with %q", want)
			}
			code, out, stderr := runCLI(t, "connect", "--issuer", issuer, "--client-id", tt.client, "--client-secret", tt.secret,
				"--username", tt.user, "--password", tt.user, "--json")
			var results []connectResult
			if err := json.Unmarshal([]byte(out), &results); err != nil || code != 0 {
				t.Fatalf("connect --json: exit %d, %v\n%s%s", code, err, out, stderr)
			}
			if len(results) != 1 || !results[0].Connected {
				t.Fatalf("connect --json = %+v", results)
			}
			who := results[0].WhoAmI
			if who["sub"] != tt.wantSub || who["username"] != tt.user || who["idp_issuer"] != issuer {
				t.Errorf("whoami = %v, want sub %s, username %s, idp_issuer %s", who, tt.wantSub, tt.user, issuer)
			}
			if got := strings.Join(results[0].Scopes, " "); got != tt.wantScopes {
				t.Errorf("scopes %q, want %q", got, tt.wantScopes)
			}
		})
	}
}

// TestExplain_Tenant: with tenants, explain needs --tenant and shows that
// tenant's policy and ID-JAG knobs; without, --tenant is refused.
func TestExplain_Tenant(t *testing.T) {
	const sample = "../../fixtures/samples/tenants.yaml"
	base := []string{"explain", "--user", "alice", "--audience", "notes"}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string // in stdout, or stderr for a usage error
	}{
		{"okta", []string{"--config", sample, "--client", "0oa-desktop", "--tenant", "okta"}, exitOK,
			"persona:  okta\nid_jag:   resource_claim=false aud=string email=true tenant_claim=false signing_alg=RS256\n"},
		{"c1", []string{"--config", sample, "--user", "dana", "--client", "agent", "--tenant", "c1"}, exitOK,
			"persona:  conductorone\nid_jag:   resource_claim=false aud=string email=true tenant_claim=false signing_alg=ES256\n"},
		{"acme", []string{"--config", sample, "--client", "desktop", "--tenant", "acme"}, exitOK,
			"scopes:   notes.read notes.write\n"},
		{"a client of another tenant", []string{"--config", sample, "--client", "desktop", "--tenant", "okta"}, exitOK,
			"decision: refused (invalid_client)"},
		{"no --tenant", []string{"--config", sample, "--client", "desktop"}, exitUsage,
			"add --tenant with one of acme, okta, anthropic-acme, c1"},
		{"unknown tenant", []string{"--config", sample, "--client", "desktop", "--tenant", "nope"}, exitUsage,
			"no such tenant; the tenants are acme, okta, anthropic-acme, c1"},
		{"no tenants", []string{"--client", "mcp-client", "--tenant", "acme"}, exitUsage,
			"the configuration has no tenants:; leave --tenant out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := runCLI(t, append(base, tt.args...)...)
			if code != tt.wantCode || !strings.Contains(out+stderr, tt.want) {
				t.Errorf("exit %d, want %d and %q in:\n%s%s", code, tt.wantCode, tt.want, out, stderr)
			}
		})
	}
}

// TestDemo_ClaudeClientIDIsItsMetadataDocumentURL: Claude's ID-JAGs carry
// as client_id its Client ID Metadata Document URL
// (https://claude.ai/oauth/mcp-oauth-client-metadata). A claude tenant
// that maps its confidential client to that URL at an MCP server gets the
// client registered there under the URL with its secret at the IdP
// (docs/http.md, "Demo authorization servers"), and connect works offline: the demo authorization
// server authenticates it by that secret instead of fetching the URL.
func TestDemo_ClaudeClientIDIsItsMetadataDocumentURL(t *testing.T) {
	const claudeClientID = "https://claude.ai/oauth/mcp-oauth-client-metadata"
	as, mcp := fmt.Sprintf("http://127.0.0.1:%d", freePort(t)), fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	file := filepath.Join(t.TempDir(), "claude.yaml")
	yaml := `tenants:
  - id: anthropic-acme
    persona: claude
    path: /issuers/acme
    users: [{username: bob, password: bob, email: bob@acme.example}]
    clients:
      - {client_id: claude, client_secret: claude-secret, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}
    mcp_servers:
      - id: notes
        issuer: ` + as + `
        resources: [` + mcp + `/mcp]
        scopes: [notes.read]
        subject: email
        clients: {claude: "` + claudeClientID + `"}
        access: [{users: [bob], scopes: [notes.read]}]
`
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stdout := startBinary(t, &syncBuffer{}, "demo", "--addr", "127.0.0.1:0", "--config", file)
	banner := waitFor(t, stdout, "Ctrl-C stops everything.")
	issuer := ""
	for _, line := range strings.Split(banner, "\n") {
		if f := strings.Fields(line); len(f) == 4 && f[0] == "anthropic-acme" {
			issuer = f[2]
		}
	}
	if issuer == "" {
		t.Fatalf("the banner lists no issuer for the tenant:\n%s", banner)
	}
	code, out, stderr := runCLI(t, "connect", "--issuer", issuer, "--client-id", "claude", "--client-secret", "claude-secret",
		"--username", "bob", "--password", "bob", "--json")
	var results []connectResult
	if err := json.Unmarshal([]byte(out), &results); err != nil || code != 0 || len(results) != 1 || !results[0].Connected {
		t.Fatalf("connect --json: exit %d, %v, %+v\n%s%s", code, err, results, out, stderr)
	}
	if who := results[0].WhoAmI; who["username"] != "bob" || who["client_id"] != claudeClientID {
		t.Errorf("whoami = %v, want bob through client %s", who, claudeClientID)
	}
}
