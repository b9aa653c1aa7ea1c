package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/xaa-idp/xaa-idp/idptest"
)

// TestOnboarding_FollowsNoRedirect: the console's run, made inside the
// IdP's process, followed redirects: an MCP server (or anything it
// reaches) answering 307 made the IdP send the request, its body and
// Authorization header included, wherever the Location said. It follows
// none, as the CLI's clients follow none for their tokens, and its trace
// says the redirect was not followed, naming where it led.
func TestOnboarding_FollowsNoRedirect(t *testing.T) {
	var elsewhere atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		http.NotFound(w, r)
	}))
	t.Cleanup(target.Close)
	redir := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redir.Close)
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
  - id: redir
    name: Redirecting
    issuer: %[1]s
    resources: [%[1]s/mcp]
    scopes: [a.read]
    clients: {mcp-client: mcp-client-at-redir}
    access:
      - groups: [eng]
        scopes: [a.read]
`, redir.URL)
	srv := idptest.New(t, idptest.WithConfigYAML(yaml))
	p := &product{URL: srv.Issuer(), IdP: srv.IdP()}
	b := p.browser(t)
	_, page := b.signIn("alice", "alice")
	resp, body := b.post("/admin/onboarding", url.Values{"csrf": {csrf(t, page)}, "user": {"alice"}, "client": {"mcp-client"}, "all": {"1"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d\n%s", resp.StatusCode, body)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the run followed the MCP server's redirect: %d requests reached %s", n, target.URL)
	}
	if !strings.Contains(body, "redirect to "+target.URL+"/mcp not followed") {
		t.Errorf("the trace does not say the redirect was not followed:\n%s", body)
	}
}
