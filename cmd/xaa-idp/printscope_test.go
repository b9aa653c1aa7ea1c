package main

import (
	"strings"
	"testing"
)

// TestLogin_PrintMissingTokenNamesItsScope: --print of a token that the
// granted scopes leave out says which scope brings it. Without openid
// there is no ID token, and login said "refresh_token needs the
// offline_access scope" for --print id_token too.
func TestLogin_PrintMissingTokenNamesItsScope(t *testing.T) {
	issuer := startServe(t)
	base := []string{"login", "--issuer", issuer, "--client-id", "mcp-client", "--client-secret", "mcp-secret", "--username", "alice", "--password", "alice"}
	for _, c := range []struct {
		scope, print, want, not string
	}{
		{"profile", "id_token", "no id_token (id_token needs the openid scope)", "offline_access"},
		{"openid", "refresh_token", "no refresh_token (refresh_token needs the offline_access scope)", "openid scope"},
	} {
		code, out, stderr := runCLI(t, append(base, "--scope", c.scope, "--print", c.print)...)
		if code != exitFailure || out != "" || !strings.Contains(stderr, c.want) || strings.Contains(stderr, c.not) {
			t.Errorf("--scope %s --print %s: exit %d, stdout %q, stderr %q; want exit %d saying %q", c.scope, c.print, code, out, stderr, exitFailure, c.want)
		}
	}
}
