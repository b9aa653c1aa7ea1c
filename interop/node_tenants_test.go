package interop_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTypeScriptClient_Tenants runs the TypeScript client
// (interop/node/tenants.mjs) against each tenant, one per persona
// (docs/personas.md), of one `xaa-idp demo --config
// fixtures/samples/tenants.yaml` (its notes MCP server moved to free
// ports): each tenant's issuer has a path, its own keys and its own
// claim shape, and the client's discovery must find each one; its
// CrossAppAccessProvider must reach the notes MCP server through it and
// call whoami, and exchangeJwtAuthGrant must redeem its ID-JAGs.
func TestTypeScriptClient_Tenants(t *testing.T) {
	requireTypeScriptClient(t)
	bin := xaaIDPBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	data, err := os.ReadFile("../fixtures/samples/tenants.yaml")
	if err != nil {
		t.Fatal(err)
	}
	notesAS := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	notesMCP := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	moved := strings.NewReplacer("http://127.0.0.1:9101", notesAS, "http://127.0.0.1:9201", notesMCP).Replace(string(data))
	base := startDemoConfig(t, ctx, bin, moved, notesMCP+"/.well-known/oauth-protected-resource/mcp")

	for _, tc := range []struct {
		persona string
		env     []string
	}{
		{"generic", []string{"XAA_IDP_ISSUER=" + base + "/t/acme", "XAA_IDP_CLIENT_ID=desktop", "XAA_IDP_CLIENT_SECRET=acme-desktop-secret",
			"XAA_IDP_USER=alice", "XAA_IDP_TENANT=acme", "XAA_IDP_EMAIL=", "XAA_IDP_RESOURCE=1", "XAA_IDP_ALG=ES256",
			"XAA_IDP_SUB=u-alice", "XAA_IDP_NOTES_CLIENT=acme-desktop", "XAA_IDP_SCOPES=notes.read notes.write"}},
		{"okta", []string{"XAA_IDP_ISSUER=" + base + "/t/okta", "XAA_IDP_CLIENT_ID=0oa-desktop", "XAA_IDP_CLIENT_SECRET=okta-desktop-secret",
			"XAA_IDP_USER=alice", "XAA_IDP_TENANT=", "XAA_IDP_EMAIL=" + sampleEmail(t, "okta"), "XAA_IDP_RESOURCE=0", "XAA_IDP_ALG=RS256",
			"XAA_IDP_SUB=00u-okta-alice", "XAA_IDP_NOTES_CLIENT=okta-desktop", "XAA_IDP_SCOPES=notes.read"}},
		{"claude", []string{"XAA_IDP_ISSUER=" + base + "/issuers/acme", "XAA_IDP_CLIENT_ID=claude", "XAA_IDP_CLIENT_SECRET=claude-secret",
			"XAA_IDP_USER=bob", "XAA_IDP_TENANT=anthropic-acme", "XAA_IDP_EMAIL=" + sampleEmail(t, "anthropic-acme"), "XAA_IDP_RESOURCE=1", "XAA_IDP_ALG=ES256",
			"XAA_IDP_SUB=u-bob", "XAA_IDP_NOTES_CLIENT=claude-at-notes", "XAA_IDP_SCOPES=notes.read notes.write"}},
		{"conductorone", []string{"XAA_IDP_ISSUER=" + base + "/t/c1", "XAA_IDP_CLIENT_ID=agent", "XAA_IDP_CLIENT_SECRET=c1-agent-secret",
			"XAA_IDP_USER=dana", "XAA_IDP_TENANT=", "XAA_IDP_EMAIL=" + sampleEmail(t, "c1"), "XAA_IDP_RESOURCE=0", "XAA_IDP_ALG=ES256",
			"XAA_IDP_SUB=2kQ7XbV9mRzT1eLc0wHnY4sPdJa", "XAA_IDP_NOTES_CLIENT=agent-client-at-notes", "XAA_IDP_SCOPES=notes.read"}},
	} {
		t.Run(tc.persona, func(t *testing.T) {
			env := append(tc.env, "XAA_IDP_NOTES_AS="+notesAS, "XAA_IDP_NOTES_RESOURCE="+notesMCP+"/mcp")
			if err := runNodeTest(t, ctx, "tenants.mjs", env...); err != nil {
				t.Fatalf("the TypeScript client failed against the %s tenant: %v", tc.persona, err)
			}
		})
	}
}

// startDemoConfig runs `xaa-idp demo --config` with the configuration
// text, the IdP on a free port, until the test ends, and returns the
// IdP's base URL once ready answers 200.
func startDemoConfig(t *testing.T, ctx context.Context, bin, config, ready string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	startServe(t, ctx, bin, "demo", "--config", file, "--addr", strings.TrimPrefix(base, "http://"))
	waitHTTP(t, ctx, ready)
	return base
}

// waitHTTP waits until url answers 200.
func waitHTTP(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	waitHTTPVia(t, ctx, http.DefaultClient, url)
}

// sampleEmail reads the email of the first user of tenant id in the
// sample, so that the test follows the file.
func sampleEmail(t *testing.T, id string) string {
	t.Helper()
	data, err := os.ReadFile("../fixtures/samples/tenants.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	i := strings.Index(s, "id: "+id+"\n")
	if i < 0 {
		t.Fatalf("the sample has no tenant %s", id)
	}
	s = s[i:]
	j := strings.Index(s, "email:")
	if j < 0 {
		t.Fatalf("%s's users have no email in the sample", id)
	}
	return strings.Fields(s[j+len("email:"):])[0]
}
