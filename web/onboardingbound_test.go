package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/xaa-idp/xaa-idp/idptest"
	"github.com/xaa-idp/xaa-idp/resource/authserver"
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
// Each of started is called with the IdP's issuer before the run.
func onboardAtOneServer(t *testing.T, id, name, mcpURL string, started ...func(issuer string)) (*http.Response, string) {
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
	for _, f := range started {
		f(srv.Issuer())
	}
	p := &product{URL: srv.Issuer(), IdP: srv.IdP()}
	b := p.browser(t)
	_, page := b.signIn("alice", "alice")
	return b.post("/admin/onboarding", url.Values{"csrf": {csrf(t, page)}, "user": {"alice"}, "client": {"mcp-client"}, "all": {"1"}})
}

// TestOnboarding_KeptWhoamiAndScopesAreBounded: an MCP server's whoami
// answer, and the scopes it lists, were kept whole in the run's result
// for an hour, in up to 256 results at once, and shown whole on its
// page: here 512 KiB of whoami and 20,000 scopes. The whoami text is kept
// cut to 4 KiB as the other texts are, saying so, and the scopes up to
// 64 of them in 4 KiB, saying how many more there were.
func TestOnboarding_KeptWhoamiAndScopesAreBounded(t *testing.T) {
	scopes := make([]any, 20000)
	for i := range scopes {
		scopes[i] = fmt.Sprintf("scope.%05d", i)
	}
	m := mcp.NewServer(&mcp.Implementation{Name: "wordy", Version: "1"}, nil)
	mcp.AddTool(m, &mcp.Tool{Name: "whoami"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, map[string]any, error) {
		return nil, map[string]any{"sub": "u-alice", "scopes": scopes, "note": strings.Repeat("y", 512<<10)}, nil
	})
	// The MCP server and its authorization server (which trusts the IdP
	// onboardAtOneServer starts) share a host, the configuration's issuer.
	var as atomic.Pointer[authserver.Server]
	mux := http.NewServeMux()
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { as.Load().ServeHTTP(w, r) }))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	mcpURL := srv.URL + "/mcp"
	verify := func(ctx context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
		at, err := as.Load().VerifyAccessToken(ctx, token, mcpURL)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", auth.ErrInvalidToken, err)
		}
		return &auth.TokenInfo{UserID: at.Subject, Scopes: at.Scopes, Expiration: at.Expiry}, nil
	}
	prm := "/.well-known/oauth-protected-resource/mcp"
	mux.Handle(prm, auth.ProtectedResourceMetadataHandler(&oauthex.ProtectedResourceMetadata{Resource: mcpURL, AuthorizationServers: []string{srv.URL}}))
	mux.Handle("/mcp", auth.RequireBearerToken(verify, &auth.RequireBearerTokenOptions{ResourceMetadataURL: srv.URL + prm})(
		mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return m }, nil)))

	resp, page := onboardAtOneServer(t, "wordy", "Wordy", srv.URL, func(issuer string) {
		a, err := authserver.New(authserver.Config{Issuer: srv.URL, IdPIssuer: issuer, Resources: []string{mcpURL},
			Scopes: []string{"a.read"}, Clients: map[string]string{"mcp-client-at-wordy": "mcp-secret"}})
		if err != nil {
			t.Fatal(err)
		}
		as.Store(a)
	})
	_, body, _ := strings.Cut(page, `<div class="decision`)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<h3><bdi>Wordy</bdi>: connected</h3>") {
		t.Fatalf("the run's result: %d\n%.4000s", resp.StatusCode, body)
	}
	if !strings.Contains(body, "scope.00000") || !strings.Contains(body, "truncated") || !strings.Contains(body, "yyyy") {
		t.Errorf("the result does not show the start of whoami's answer and its scopes, and that the rest was cut:\n%.4000s", body)
	}
	if strings.Contains(body, "scope.19999") || !strings.Contains(body, "and 19936 more") {
		t.Errorf("the result shows every scope, or does not say how many more there were:\n%.8000s", body)
	}
	if len(page) > 128<<10 {
		t.Errorf("the result's page is %d KiB for a whoami of 512 KiB and %d scopes: what it keeps is not bounded", len(page)>>10, len(scopes))
	}
}

// TestOnboarding_KeptStepURLsAreBounded: the URL of each request a run
// made is kept cut to a few KiB too, as what came back is: an MCP server
// names the URL of its metadata in its 401 (resource_metadata), as long
// as its headers may be, here 512 KiB, and the run asks there. Until
// 2026-12-07 the result kept that URL whole, for an hour, and its page
// showed it whole.
func TestOnboarding_KeptStepURLsAreBounded(t *testing.T) {
	long := "/prm-" + strings.Repeat("u", 512<<10)
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == long {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="`+srv.URL+long+`"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	resp, page := onboardAtOneServer(t, "far", "Far", srv.URL)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "<h3><bdi>Far</bdi>: refused</h3>") {
		t.Fatalf("the run's result: %d\n%.4000s", resp.StatusCode, page)
	}
	if !strings.Contains(page, "/prm-uuuu") {
		t.Errorf("the result does not show the start of the metadata's URL:\n%.4000s", page)
	}
	if len(page) > 128<<10 {
		t.Errorf("the result's page is %d KiB for a URL of %d KiB: the URLs it keeps are not bounded", len(page)>>10, len(long)>>10)
	}
}
