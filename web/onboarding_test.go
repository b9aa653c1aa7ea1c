package web_test

import (
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/connect"
	"github.com/xaa-idp/xaa-idp/fixtures"
	"github.com/xaa-idp/xaa-idp/idptest"
)

func TestOnboarding_WatchAZeroTouchRun(t *testing.T) {
	_, p := startDemo(t) // the demo company, its MCP servers running
	b := p.browser(t)
	_, page := b.signIn("alice", "alice")

	resp, _ := b.post("/admin/onboarding", url.Values{"user": {"bob"}, "client": {"mcp-client"}, "all": {"1"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a run without the CSRF token: %d", resp.StatusCode)
	}
	resp, body := b.post("/admin/onboarding", url.Values{"csrf": {csrf(t, page)}, "user": {"bob"}, "client": {"mcp-client"}, "all": {"1"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d\n%s", resp.StatusCode, body)
	}
	result := func(name string) string {
		m := regexp.MustCompile(`(?s)<h3><bdi>` + name + `</bdi>: (connected|refused)</h3>.*?</dl>`).FindString(body)
		if m == "" {
			t.Fatalf("no result for %s:\n%s", name, body)
		}
		return m
	}
	if r := result("Wiki"); !strings.Contains(r, "connected") || !strings.Contains(r, "wiki.read") {
		t.Errorf("Wiki: %s", r)
	}
	if r := result("Issue Tracker"); !strings.Contains(r, "refused") || !strings.Contains(r, "access_denied") {
		t.Errorf("Issue Tracker: %s", r)
	}
	for _, want := range []string{"Login: ", "token exchange", "requests, step by step"} {
		if !strings.Contains(body, want) {
			t.Errorf("the run lacks %q", want)
		}
	}
}

// TestOnboarding_AsACIMDClient runs the same flow as a Client ID Metadata
// Document client: the console serves the document at the loopback URL the
// configuration names (here a free port, put in place of the demo's 8390)
// and connects with that URL as client_id, registered nowhere.
func TestOnboarding_AsACIMDClient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url8390 := "http://127.0.0.1:8390" + connect.MetadataPath
	free := "http://" + ln.Addr().String() + connect.MetadataPath
	ln.Close()
	srv, p := startDemo(t, idptest.WithConfigYAML(strings.ReplaceAll(string(fixtures.Demo), url8390, free)))
	b := p.browser(t)
	b.signIn("alice", "alice")
	_, page := b.get("/admin/onboarding")
	if !strings.Contains(page, "xaa-idp connect --issuer "+srv.Issuer()+" --client-id ") || strings.Contains(page, "mcp-secret") {
		t.Errorf("the page's terminal command is not derived from the configuration, or shows a secret")
	}
	resp, body := b.post("/admin/onboarding", url.Values{"csrf": {csrf(t, page)}, "user": {"alice"}, "cimd": {"1"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d\n%s", resp.StatusCode, body)
	}
	if !regexp.MustCompile(`(?s)<h3><bdi>Wiki</bdi>: connected</h3>`).MatchString(body) || !strings.Contains(body, "through the CIMD client") {
		t.Errorf("the CIMD run did not connect to the wiki:\n%s", body)
	}
	if !strings.Contains(body, free) {
		t.Errorf("the steps do not show the document's URL %s as the client_id", free)
	}
}
