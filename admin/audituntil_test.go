package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/idpclient"
)

// TestAdminAPI_AuditUntil: a SIEM that backfills a window asks for since= and until= (the
// console's From and To): until is exclusive, as the console's To, takes what since takes (an RFC
// 3339 time or a duration back from now), is kept in the Link to the next page, and one not later
// than since is 400 saying so. Until 2026-12-06 the API took since alone and refused until as a
// parameter it does not take, so a window's end had to be found by reading past it.
func TestAdminAPI_AuditUntil(t *testing.T) {
	base, _ := startIdP(t)
	// Three failed logins of bob, one a second on a frozen clock.
	for _, at := range []string{"2026-11-25T18:00:00.000Z", "2026-11-25T18:00:01.000Z", "2026-11-25T18:00:02.000Z"} {
		if resp, body := call(t, http.MethodPut, base+"/admin/api/clock", "alice", "alice-pw", `{"frozen": true, "time": "`+at+`"}`); resp.StatusCode != http.StatusOK {
			t.Fatalf("clock: %d %s", resp.StatusCode, body)
		}
		if _, err := idpclient.Login(context.Background(), idpclient.LoginOptions{Issuer: base, ClientID: "mcp-client", ClientSecret: "s1",
			Username: "bob", Password: "wrong"}); err == nil {
			t.Fatal("a wrong password was taken")
		}
	}
	times := func(path string) ([]string, string) {
		t.Helper()
		resp, body := get(t, base, path, "alice", "alice-pw")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		var evs []struct{ Time string }
		if err := json.Unmarshal(body, &evs); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range evs {
			out = append(out, e.Time)
		}
		return out, resp.Header.Get("Link")
	}
	q := "/admin/api/audit?type=login&outcome=denied"
	if got, _ := times(q + "&until=2026-11-25T18:00:02Z"); strings.Join(got, " ") != "2026-11-25T18:00:01.000Z 2026-11-25T18:00:00.000Z" {
		t.Errorf("until=18:00:02Z: %v, want the two events before it (until is exclusive)", got)
	}
	if got, _ := times(q + "&since=2026-11-25T18:00:01Z&until=2026-11-25T18:00:02Z"); strings.Join(got, " ") != "2026-11-25T18:00:01.000Z" {
		t.Errorf("since=18:00:01Z until=18:00:02Z: %v, want the one event at 18:00:01", got)
	}
	got, link := times(q + "&until=2026-11-25T18:00:02Z&limit=1")
	if len(got) != 1 || !strings.Contains(link, "until=2026-11-25T18%3A00%3A02Z") {
		t.Errorf("until with limit=1: %v, Link %q; want one event and a Link that keeps until", got, link)
	}
	for _, c := range []struct{ query, says string }{
		{"&until=yesterday", "until must be"},
		{"&since=2026-11-25T18:00:01Z&until=2026-11-25T18:00:01Z", "not later than since"},
		{"&until=1h&until=2h", "until"},
	} {
		resp, body := get(t, base, q+c.query, "alice", "alice-pw")
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), c.says) {
			t.Errorf("%s: %d %s, want 400 saying %q", c.query, resp.StatusCode, body, c.says)
		}
	}
}
