package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/xaa-idp/xaa-idp/idpclient"
)

// TestAdminAPI_AuditPagesWalkOneWindow: a window given by durations back
// from now (since=3s&until=0s) is the window of the first page's now, and
// the Link to each next page names it by its times, so that the pages walk
// that window however long a SIEM takes between them. Until 2026-12-06 the
// Link kept since=3s as sent, each page counted it back from its own now,
// and the window's oldest events, those a backfill pages to last, were
// never answered.
func TestAdminAPI_AuditPagesWalkOneWindow(t *testing.T) {
	base, _ := startIdP(t)
	clock := func(at string) {
		t.Helper()
		if resp, body := call(t, http.MethodPut, base+"/admin/api/clock", "alice", "alice-pw", `{"frozen": true, "time": "`+at+`"}`); resp.StatusCode != http.StatusOK {
			t.Fatalf("clock: %d %s", resp.StatusCode, body)
		}
	}
	// Three failed logins of bob, one a second.
	for _, at := range []string{"2026-11-25T18:00:00.000Z", "2026-11-25T18:00:01.000Z", "2026-11-25T18:00:02.000Z"} {
		clock(at)
		if _, err := idpclient.Login(context.Background(), idpclient.LoginOptions{Issuer: base, ClientID: "mcp-client", ClientSecret: "s1",
			Username: "bob", Password: "wrong"}); err == nil {
			t.Fatal("a wrong password was taken")
		}
	}
	link := regexp.MustCompile(`^<([^>]+)>; rel="next"$`)
	var got []string
	path := "/admin/api/audit?type=login&outcome=denied&since=3s&until=0s&limit=1"
	// The first page at 18:00:03, each next one a second later.
	for i, now := range []string{"2026-11-25T18:00:03.000Z", "2026-11-25T18:00:04.000Z", "2026-11-25T18:00:05.000Z"} {
		if path == "" {
			t.Fatalf("page %d: the page before it had no Link, after the events %v", i+1, got)
		}
		clock(now)
		resp, body := get(t, base, path, "alice", "alice-pw")
		var evs []struct{ Time string }
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &evs) != nil {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
		for _, e := range evs {
			got = append(got, e.Time)
		}
		path = ""
		if m := link.FindStringSubmatch(resp.Header.Get("Link")); m != nil {
			path = m[1]
			q, err := url.ParseQuery(path[len("/admin/api/audit?"):])
			if err != nil || q.Get("since") != "2026-11-25T18:00:00Z" || q.Get("until") != "2026-11-25T18:00:03Z" {
				t.Errorf("page %d: Link %s; want since and until as the times the first page had them", i+1, path)
			}
		}
	}
	if want := "[2026-11-25T18:00:02.000Z 2026-11-25T18:00:01.000Z 2026-11-25T18:00:00.000Z]"; fmt.Sprint(got) != want {
		t.Errorf("the pages answered %v, want %s", got, want)
	}
	if path != "" {
		t.Errorf("the last page has a Link to %s, though no older event is in the window", path)
	}
}
