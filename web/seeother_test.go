package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
)

// auditExchangesOf selects user's token exchanges.
func auditExchangesOf(user string) audit.Filter {
	return audit.Filter{Type: audit.TypeTokenExchange, User: user, Limit: audit.MaxQueryLimit}
}

// TestConsolePOSTs_AnswerSeeOther: every form of the console that changes
// something answers with 303 See Other to a page that shows what it did
// (Post/Redirect/Get), so that Reload and Back never send it again.
func TestConsolePOSTs_AnswerSeeOther(t *testing.T) {
	p, _ := startWithFile(t)
	b := p.browser(t)
	_, page := b.signIn("alice", "alice")
	token := csrf(t, page)
	nr := b.noRedirects()
	seeOther := func(what, path string, form url.Values, to string) {
		t.Helper()
		form.Set("csrf", token)
		resp, body := nr.post(path, form)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != to {
			t.Errorf("%s: %d to %q, want 303 to %s\n%s", what, resp.StatusCode, resp.Header.Get("Location"), to, body)
		}
	}
	_, _, etag := openServer(t, b, "tracker")
	seeOther("saving the access list", "/admin/servers/tracker/access", assignSales(token, etag), "/admin/servers/tracker")
	_, _, etag = openServer(t, b, "tracker")
	seeOther("saving the deny list", "/admin/servers/tracker/deny", url.Values{"etag": {etag}, "n": {"1"}, "d0.users": {"eve"}}, "/admin/servers/tracker")
	id := requestAccess(t, p)
	seeOther("denying a request", "/admin/access-requests/"+id+"/deny", url.Values{"back": {"/admin/"}}, "/admin/")
	id = requestAccess(t, p)
	seeOther("approving a request", "/admin/access-requests/"+id+"/approve", url.Values{"back": {"/admin/"}, "scopes": {"issues.read"}}, "/admin/")

	resp, body := nr.post("/admin/signout", url.Values{"csrf": {token}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("signing out: %d\n%s", resp.StatusCode, body)
	}
}

// TestOnboarding_RunAnswersSeeOtherToItsResult: a run answers with 303
// to its result's own address, which shows the result as often as it is
// opened without running again, and to the session that ran it only.
func TestOnboarding_RunAnswersSeeOtherToItsResult(t *testing.T) {
	srv, p := startDemo(t) // the demo company, its MCP servers running
	b := p.browser(t)
	_, page := b.signIn("alice", "alice")
	resp, body := b.noRedirects().post("/admin/onboarding", url.Values{"csrf": {csrf(t, page)}, "user": {"bob"}, "client": {"mcp-client"}, "password": {"bob"}})
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/onboarding?run=") {
		t.Fatalf("the run answered %d to %q, want 303 to its result\n%s", resp.StatusCode, loc, body)
	}
	exchanges := len(srv.Audit(auditExchangesOf("bob")))
	for range 2 {
		resp, body = b.get(loc)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<h3><bdi>Wiki</bdi>: connected</h3>") {
			t.Fatalf("the result's page: %d\n%s", resp.StatusCode, body)
		}
	}
	if n := len(srv.Audit(auditExchangesOf("bob"))); n != exchanges {
		t.Errorf("opening the result again ran it again: %d exchanges, were %d", n, exchanges)
	}

	// Another admin's session does not see it, nor does an unknown id:
	// the page says the result is not kept, and runs nothing.
	other := p.browser(t)
	other.signIn("alice", "alice")
	for _, c := range []struct {
		b   *browser
		loc string
	}{{other, loc}, {b, "/admin/onboarding?run=unknown"}} {
		resp, body = c.b.get(c.loc)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "no longer kept") || strings.Contains(body, "onboarding-run") {
			t.Errorf("%s in another session or unknown: %d\n%s", c.loc, resp.StatusCode, body)
		}
	}
	if n := len(srv.Audit(auditExchangesOf("bob"))); n != exchanges {
		t.Errorf("opening a result not kept ran a run: %d exchanges, were %d", n, exchanges)
	}
}
