package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestOnboarding_ResultAfterARestartSaysItIsNotKept: a run's result is
// kept in memory for the session that ran it, and a restart signs every
// session out (README, "Limits and throttles"), so its address, opened after a restart
// and a new sign-in, shows nothing; the page says that a restart is why,
// where until 2026-12-07 it said only "kept for an hour", which an admin
// who ran it minutes before could not make sense of. A restart here is a
// new IdP, with nothing of the first one's memory.
func TestOnboarding_ResultAfterARestartSaysItIsNotKept(t *testing.T) {
	_, before := startDemo(t)
	b := before.browser(t)
	_, page := b.signIn("alice", "alice")
	resp, body := b.noRedirects().post("/admin/onboarding", url.Values{"csrf": {csrf(t, page)}, "user": {"bob"}, "client": {"mcp-client"}, "password": {"bob"}})
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/onboarding?run=") {
		t.Fatalf("the run answered %d to %q, want 303 to its result\n%s", resp.StatusCode, loc, body)
	}

	_, after := startDemo(t)
	a := after.browser(t)
	a.signIn("alice", "alice")
	resp, body = a.get(loc)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "not across a restart") || strings.Contains(body, "onboarding-run") {
		t.Errorf("the run's result after a restart: %d, want 404 saying a restart does not keep it\n%s", resp.StatusCode, body)
	}
}
