package web_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
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
	resp, body := onboardAtOneServer(t, "redir", "Redirecting", redir.URL)
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
