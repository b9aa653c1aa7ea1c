package web_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"testing"
)

// TestConsole_AuditDetailsShowTheTimeAsTheFileHasIt: the fields under an event's "details" on
// the audit page are the event's, in the contract's format (docs/audit.md: time in UTC with
// always three digits of milliseconds), so that an analyst can look the event up in audit.jsonl
// or the admin API by what the console shows. Until 2026-12-06 the time was shown as RFC 3339
// with its trailing zeros cut: 18:00:00.12Z for the file's 18:00:00.120Z, and 18:00:00Z for
// 18:00:00.000Z.
func TestConsole_AuditDetailsShowTheTimeAsTheFileHasIt(t *testing.T) {
	p := start(t)
	admin := func(method, path, body string) []byte { return adminOK(t, p, method, path, body) }
	// Events at a time whose milliseconds end in a zero, and at a whole second.
	for _, at := range []string{"2026-11-25T18:00:00.120Z", "2026-11-25T18:00:01.000Z"} {
		admin(http.MethodPut, "/admin/api/clock", `{"frozen": true, "time": "`+at+`"}`)
		p.browser(t).signIn("bob", "wrong")
	}

	var events []struct{ ID, Time, Type, Outcome string }
	if err := json.Unmarshal(admin(http.MethodGet, "/admin/api/audit?type=login&outcome=denied", ""), &events); err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 {
		t.Fatalf("the admin API has %d denied logins, want 2: %+v", len(events), events)
	}
	b := p.browser(t)
	b.signIn("alice", "alice")
	_, page := b.get("/admin/audit?type=login&outcome=denied")
	for _, ev := range events {
		row := regexp.MustCompile(`(?s)id="ev-` + ev.ID + `".*?</tr>`).FindString(page)
		if row == "" {
			t.Fatalf("the audit page has no row of %s", ev.ID)
		}
		m := regexp.MustCompile(`<dt>time</dt><dd><bdi>([^<]*)</bdi></dd>`).FindStringSubmatch(row)
		if m == nil {
			t.Fatalf("the row of %s shows no time among its fields:\n%s", ev.ID, row)
		}
		if m[1] != ev.Time {
			t.Errorf("the console shows the time of %s as %s; the file and the admin API have %s", ev.ID, m[1], ev.Time)
		}
	}
}
