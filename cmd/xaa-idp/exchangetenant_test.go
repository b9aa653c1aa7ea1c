package main

import (
	"strings"
	"testing"
)

// TestExchange_ConfigWithTenantsNamesTheServerOfTheIssuersTenant: exchange
// --config names an MCP server by its id (README, "Commands"), but with a
// file of tenants: the id was sent as the audience unchanged, and the IdP's
// "unknown audience 'notes'" came without the list of ids or any hint,
// though the file names the server. The tenant is the one whose issuer
// --issuer is; an --issuer of no tenant of the file is bad usage, naming
// the tenants' paths.
func TestExchange_ConfigWithTenantsNamesTheServerOfTheIssuersTenant(t *testing.T) {
	const file = "../../fixtures/samples/tenants.yaml"
	issuer := startServe(t, "--config", file) // the first tenant's, acme: <base>/t/acme
	_, idToken, _ := runCLI(t, "login", "--issuer", issuer, "--client-id", "desktop", "--client-secret", "acme-desktop-secret", "--username", "alice", "--password", "alice", "--print", "id_token")
	args := []string{"exchange", "--client-id", "desktop", "--client-secret", "acme-desktop-secret", "--id-token", strings.TrimSpace(idToken), "--config", file, "--decode"}

	code, out, stderr := runCLI(t, append(args, "--issuer", issuer, "--audience", "notes")...)
	if code != exitOK || !strings.Contains(out, `"aud": "http://127.0.0.1:9101"`) || !strings.Contains(out, `"resource": "http://127.0.0.1:9201/mcp"`) {
		t.Errorf("exchange --audience notes --config %s at acme: exit %d, stdout %s, stderr %q; want the ID-JAG for notes' issuer and resource", file, code, out, stderr)
	}

	code, out, stderr = runCLI(t, append(args, "--issuer", issuer, "--audience", "nots")...)
	want := `xaa-idp exchange: --audience "nots" names no MCP server of ` + file + ` (tenant acme); their ids: notes`
	if code != exitFailure || !strings.Contains(out, "invalid_target") || !strings.Contains(stderr, want) {
		t.Errorf("exchange --audience nots: exit %d, stdout %q, stderr %q; want exit %d saying %q", code, out, stderr, exitFailure, want)
	}

	base := strings.TrimSuffix(issuer, "/t/acme")
	code, _, stderr = runCLI(t, append(args, "--issuer", base+"/t/nobody", "--audience", "notes")...)
	want = `--issuer "` + base + `/t/nobody" is the issuer of no tenant of ` + file + `: give a tenant's, the base URL followed by its path: /t/acme, /t/okta, /issuers/acme, /t/c1`
	if code != exitUsage || !strings.Contains(stderr, want) {
		t.Errorf("exchange --issuer of no tenant: exit %d, stderr %q; want exit %d saying %q", code, stderr, exitUsage, want)
	}
}
