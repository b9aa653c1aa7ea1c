package web_test

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestConsole_AuditOlderWalksOneWindow: a window typed as durations back
// from now (From 3s, To 0s) is the window of the page it was typed on, and
// the Older link names it by its times, so that paging back reaches the
// window's oldest events however long the reader stays on each page. Until
// 2026-12-06 the link kept From 3s as typed, each page counted it back
// from its own now, and the oldest events of the window were never shown.
func TestConsole_AuditOlderWalksOneWindow(t *testing.T) {
	p := start(t)
	admin := func(method, path, body string) []byte { return adminOK(t, p, method, path, body) }
	clock := func(at string) { admin(http.MethodPut, "/admin/api/clock", `{"frozen": true, "time": "`+at+`"}`) }
	// Three failed sign-ins of bob, one a second.
	for _, at := range []string{"2026-11-25T18:00:00.000Z", "2026-11-25T18:00:01.000Z", "2026-11-25T18:00:02.000Z"} {
		clock(at)
		p.browser(t).signIn("bob", "wrong")
	}
	var events []struct{ ID string }
	if err := json.Unmarshal(admin(http.MethodGet, "/admin/api/audit?type=login&outcome=denied&user=bob", ""), &events); err != nil || len(events) != 3 {
		t.Fatalf("the admin API has %d denied sign-ins of bob (%v), want 3", len(events), err)
	}
	b := p.browser(t)
	b.signIn("alice", "alice")
	older := regexp.MustCompile(`<a href="([^"]*)" rel="next">Older`)
	path := "/admin/audit?type=login&outcome=denied&user=bob&since=3s&until=0s&limit=1"
	// The first page at 18:00:03, each older one a second later.
	for i, now := range []string{"2026-11-25T18:00:03.000Z", "2026-11-25T18:00:04.000Z", "2026-11-25T18:00:05.000Z"} {
		if path == "" {
			t.Fatalf("page %d: the page before it had no Older link", i+1)
		}
		clock(now)
		resp, page := b.get(path)
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="ev-`+events[i].ID+`"`) {
			t.Fatalf("page %d (%s): %d, without the event %s", i+1, path, resp.StatusCode, events[i].ID)
		}
		path = ""
		if m := older.FindStringSubmatch(page); m != nil {
			path = html.UnescapeString(m[1])
			q, err := url.ParseQuery(path[strings.Index(path, "?")+1:])
			if err != nil || q.Get("since") != "2026-11-25T18:00:00Z" || q.Get("until") != "2026-11-25T18:00:03Z" {
				t.Errorf("page %d: Older links %s; want From and To as the times the first page had them", i+1, path)
			}
		}
	}
	if path != "" {
		t.Errorf("the window's oldest page links to %s, though no older event is in the window", path)
	}
}
