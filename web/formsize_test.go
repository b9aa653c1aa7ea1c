package web_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestConsole_FormOverTheBound: a console form over its bound (1 MiB) was
// refused as lacking its CSRF token, 403 "Reload the page and try again",
// which does not help: the token was there, past the bound. It is 413
// with the console's page saying the form is too large; nothing changed.
func TestConsole_FormOverTheBound(t *testing.T) {
	p, b := signedIn(t)
	_, token, etag := openServer(t, b, "tracker")
	form := assignSales(token, etag)
	form.Set("pad", strings.Repeat("x", 1<<20))
	before := p.Store.Version()
	resp, page := b.noRedirects().post("/admin/servers/tracker/access", form)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(page, "too large") {
		t.Errorf("a form over 1 MiB: %d, want 413 with the console's page saying it is too large\n%s", resp.StatusCode, page)
	}
	if p.Store.Version() != before {
		t.Error("the configuration changed")
	}
}
