package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/fixtures"
	"github.com/xaa-idp/xaa-idp/idptest"
)

// TestOnboarding_AClientWithAnotherRedirectURI: the console's run logs in
// with a redirect URI the client has, and its terminal command says which,
// when the client does not have connect's default
// http://127.0.0.1/callback.
func TestOnboarding_AClientWithAnotherRedirectURI(t *testing.T) {
	yaml := strings.Replace(string(fixtures.Demo),
		"    client_secret: mcp-secret\n    redirect_uris: [http://127.0.0.1/callback, http://localhost/callback]",
		"    client_secret: mcp-secret\n    redirect_uris: [http://127.0.0.1/cb]", 1)
	if yaml == string(fixtures.Demo) {
		t.Fatal("the demo configuration's mcp-client changed; update this test")
	}
	_, p := startDemo(t, idptest.WithConfigYAML(yaml))
	b := p.browser(t)
	b.signIn("alice", "alice")
	_, page := b.get("/admin/onboarding")
	if !strings.Contains(page, "--client-id mcp-client --client-secret &lt;secret&gt; --redirect-uri http://127.0.0.1/cb ") {
		t.Errorf("the page's terminal command does not name the client's redirect URI:\n%s", regexp.MustCompile(`xaa-idp connect[^<]*`).FindString(page))
	}
	resp, body := b.post("/admin/onboarding", url.Values{"csrf": {csrf(t, page)}, "user": {"alice"}, "client": {"mcp-client"}, "all": {"1"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d\n%s", resp.StatusCode, body)
	}
	if !regexp.MustCompile(`(?s)<h3><bdi>Wiki</bdi>: connected</h3>`).MatchString(body) {
		t.Errorf("the run did not connect to the wiki:\n%s", body)
	}
}
