package web_test

import (
	"net/http"
	"strings"
	"testing"
)

// A save of the assignment or deny editor whose form has no row count
// (n missing or not a number: not this page's form) is refused, not read
// as an empty list: saving that would remove every assignment of the
// server, with "Assignments saved" on the page.
func TestServers_SaveWithoutRowCountIsRefused(t *testing.T) {
	p, b := signedIn(t)
	for _, c := range []struct{ path, n string }{
		{"/admin/servers/tracker/access", ""}, {"/admin/servers/tracker/access", "many"}, {"/admin/servers/tracker/access", "-1"},
		{"/admin/servers/tracker/deny", ""},
	} {
		_, token, etag := openServer(t, b, "tracker")
		form := assignSales(token, etag)
		form.Del("n")
		if c.n != "" {
			form.Set("n", c.n)
		}
		resp, body := b.post(c.path, form)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Not saved") {
			t.Errorf("%s with n=%q: %d, want 400 Not saved\n%.600s", c.path, c.n, resp.StatusCode, body)
		}
	}
	if err := exchange(t, p, "alice"); err != nil {
		t.Errorf("alice's exchange after the refused saves: %v", err)
	}
}
