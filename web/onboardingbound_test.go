package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/idptest"
)

// TestOnboarding_KeptResultIsBounded: an MCP server that answers with a
// long error_description (here 512 KiB; the trace reads up to 1 MiB of
// each answer) does not make the run's result, kept for an hour for its
// page, as long: what each request got back, and why a server was
// refused, are kept cut to a few KiB, saying so. Until 2026-12-06 the
// result kept every byte, for each request, in up to 256 results held
// at once, and its page showed them all.
func TestOnboarding_KeptResultIsBounded(t *testing.T) {
	long := strings.Repeat("x", 512<<10)
	mcp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error": "invalid_request", "error_description": %q}`, long)
	}))
	t.Cleanup(mcp.Close)
	resp, body := onboardAtOneServer(t, "wordy", "Wordy", mcp.URL)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<h3><bdi>Wordy</bdi>: refused</h3>") {
		t.Fatalf("the run's result: %d\n%.4000s", resp.StatusCode, body)
	}
	if !strings.Contains(body, "invalid_request: xxxx") || !strings.Contains(body, "truncated") {
		t.Errorf("the result does not show the start of what the server said, and that the rest was cut:\n%.4000s", body)
	}
	if len(body) > 128<<10 {
		t.Errorf("the result's page is %d KiB for an answer of %d KiB: what it keeps is not bounded", len(body)>>10, len(long)>>10)
	}
}

// onboardAtOneServer serves a configuration whose one MCP server, id, is
// at mcpURL (its issuer and resource), signs in as alice, an admin, and
// runs the console's onboarding of alice with mcp-client: the run's answer.
func onboardAtOneServer(t *testing.T, id, name, mcpURL string) (*http.Response, string) {
	t.Helper()
	yaml := fmt.Sprintf(`
groups:
  - name: eng
users:
  - {username: alice, password: alice, groups: [eng], admin: true}
clients:
  - client_id: mcp-client
    client_secret: mcp-secret
    redirect_uris: [http://127.0.0.1/callback]
    token_exchange: true
mcp_servers:
  - id: %[2]s
    name: %[3]s
    issuer: %[1]s
    resources: [%[1]s/mcp]
    scopes: [a.read]
    clients: {mcp-client: mcp-client-at-%[2]s}
    access:
      - groups: [eng]
        scopes: [a.read]
`, mcpURL, id, name)
	srv := idptest.New(t, idptest.WithConfigYAML(yaml))
	p := &product{URL: srv.Issuer(), IdP: srv.IdP()}
	b := p.browser(t)
	_, page := b.signIn("alice", "alice")
	return b.post("/admin/onboarding", url.Values{"csrf": {csrf(t, page)}, "user": {"alice"}, "client": {"mcp-client"}, "all": {"1"}})
}
