package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/idptest"
)

func TestOnboarding_WatchAZeroTouchRun(t *testing.T) {
	srv := idptest.New(t) // the demo company, with its MCP servers below
	srv.StartDemoServers()
	p := &product{URL: srv.Issuer(), IdP: srv.IdP()}
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
		m := regexp.MustCompile(`(?s)<h3>` + name + `: (connected|refused)</h3>.*?</dl>`).FindString(body)
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
