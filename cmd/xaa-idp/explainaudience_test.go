package main

import (
	"strings"
	"testing"
)

// TestExplain_UnknownAudienceListsTheServers: explain takes a server's id
// for --audience, and a mistyped id was answered with the decision alone
// ("not the issuer or an alias of any MCP server"): the servers it could
// name are now said on stderr, with the decision still on stdout.
func TestExplain_UnknownAudienceListsTheServers(t *testing.T) {
	code, stdout, stderr := runCLI(t, "explain", "--user", "bob", "--client", "mcp-client", "--audience", "trakcer")
	want := `xaa-idp explain: --audience "trakcer" names no MCP server; their ids: tracker, wiki, design, crm (or give an issuer or alias)`
	if code != exitOK || !strings.Contains(stdout, "decision: refused (invalid_target)") || !strings.Contains(stderr, want) {
		t.Errorf("exit %d\nstdout %s\nstderr %s\nwant on stderr %q", code, stdout, stderr, want)
	}
	if _, _, stderr := runCLI(t, "explain", "--user", "bob", "--client", "mcp-client", "--audience", "tracker"); stderr != "" {
		t.Errorf("a known id: stderr %q", stderr)
	}
}
