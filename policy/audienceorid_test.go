package policy_test

import (
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestExplainAudience: explain's audience (the CLI's, the admin API's and
// exchange --config's) is an issuer or alias, which names itself, or an MCP
// server's id that is not also an audience, which names the server's
// issuer; anything else is kept, and reported as naming no server when
// the configuration has servers (a mistyped id).
func TestExplainAudience(t *testing.T) {
	cfg, err := policy.Parse([]byte(`
users: [{username: alice, password: alice-pw, admin: true}]
clients: [{client_id: c, client_secret: s, redirect_uris: ["http://127.0.0.1/cb"], token_exchange: true}]
mcp_servers:
  - id: files
    issuer: https://as.files.example
    aliases: [https://files.example/alias]
    resources: [https://mcp.files.example/mcp]
    clients: {c: c-at-files}
  - id: other
    issuer: https://as.other.example
    resources: [https://mcp.other.example/mcp]
    clients: {c: c-at-other}
`), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		aud, want, server string
		unknown           bool
	}{
		{"files", "https://as.files.example", "files", false},
		{"https://as.files.example", "https://as.files.example", "", false},
		{"other", "https://as.other.example", "other", false},
		{"https://files.example/alias", "https://files.example/alias", "", false},
		{"https://AS.other.example/", "https://AS.other.example/", "", false},
		{"filez", "filez", "", true},
		{"", "", "", true},
	} {
		aud, s, unknown := cfg.ExplainAudience(c.aud)
		id := ""
		if s != nil {
			id = s.ID
		}
		if aud != c.want || id != c.server || unknown != c.unknown {
			t.Errorf("ExplainAudience(%q) = %q, server %q, unknown %v; want %q, %q, %v", c.aud, aud, id, unknown, c.want, c.server, c.unknown)
		}
	}
	empty, err := policy.Parse([]byte("users: [{username: alice, password: alice-pw, admin: true}]\n"), "e.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if aud, s, unknown := empty.ExplainAudience("files"); aud != "files" || s != nil || unknown {
		t.Errorf("without servers: %q %v %v; an id is not called mistyped where there is none", aud, s, unknown)
	}
}
