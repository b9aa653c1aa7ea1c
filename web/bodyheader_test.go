package web_test

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestConsole_FormBodyHeaders: a console form whose body the console
// would misread, compressed (Content-Encoding) or with two Content-Type
// headers, was read as a plain form: a compressed change was refused as
// lacking its CSRF token (403, which sends the admin to a new session
// that does not help), and one with two types was made. Each of the
// console's forms refuses them as the IdP's endpoints do, with its HTML
// error page: 415 with Accept-Encoding: identity for a coding, 400 for
// two types. Nothing is changed, the session is not signed out, and the
// same forms sent plainly still work (the CSRF check unchanged).
func TestConsole_FormBodyHeaders(t *testing.T) {
	p, b := signedIn(t)
	id := requestAccess(t, p)
	_, token, etag := openServer(t, b, "tracker")
	forms := []struct {
		path string
		form url.Values
	}{
		{"/admin/servers/tracker/access", assignSales(token, etag)},
		{"/admin/servers/tracker/deny", url.Values{"csrf": {token}, "etag": {etag}, "n": {"1"}, "d0.users": {"bob"}}},
		{"/admin/access-requests/" + id + "/approve", url.Values{"csrf": {token}, "etag": {etag}, "back": {"/admin/servers/tracker"}, "expires_in": {"1h"}, "scopes": {"issues.read"}}},
		{"/admin/access-requests/" + id + "/deny", url.Values{"csrf": {token}, "back": {"/admin/servers/tracker"}}},
		{"/admin/onboarding", url.Values{"csrf": {token}, "user": {"bob"}, "client": {"mcp-client"}, "all": {"1"}}},
		{"/admin/signout", url.Values{"csrf": {token}}},
	}
	post := func(path string, body []byte, header http.Header) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, b.base+path, bytes.NewReader(body))
		req.Header = header
		return b.noRedirects().do(req)
	}
	for _, f := range forms {
		before, pending := p.Store.Version(), len(p.IdP.AccessRequests().List("pending"))
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write([]byte(f.form.Encode()))
		zw.Close()
		resp, page := post(f.path, gz.Bytes(), http.Header{
			"Content-Type":     {"application/x-www-form-urlencoded"},
			"Content-Encoding": {"gzip"},
		})
		if resp.StatusCode != http.StatusUnsupportedMediaType || resp.Header.Get("Accept-Encoding") != "identity" ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(page, "compressed") {
			t.Errorf("%s gzip: %d Accept-Encoding %q, want 415 identity with the console's page\n%s", f.path, resp.StatusCode, resp.Header.Get("Accept-Encoding"), page)
		}
		resp, page = post(f.path, []byte(f.form.Encode()), http.Header{
			"Content-Type": {"application/x-www-form-urlencoded", "text/plain"},
		})
		if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(page, "Content-Type") {
			t.Errorf("%s with two types: %d, want 400 with the console's page\n%s", f.path, resp.StatusCode, page)
		}
		if p.Store.Version() != before || len(p.IdP.AccessRequests().List("pending")) != pending {
			t.Fatalf("%s: a refused form changed something", f.path)
		}
		if resp, _ := b.get("/admin/servers"); resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/admin/servers" {
			t.Fatalf("%s: signed out by a refused form (%s)", f.path, resp.Request.URL)
		}
	}
	// Sent plainly, the same form is taken.
	if resp, page := b.post(forms[0].path, forms[0].form); resp.StatusCode != http.StatusOK || !strings.Contains(page, "flash ok") {
		t.Errorf("the plain form: %d\n%s", resp.StatusCode, page)
	}
}
