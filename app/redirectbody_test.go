package app_test

import (
	"html"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestTenants_RedirectBodyLinksToTheLocation: a folder typed without its
// slash under a tenant (/t/acme/admin) is a 307 whose Location and whose
// HTML body's link both name the tenant's folder; until 2026-12-06 the
// body linked to /admin/, outside the tenant.
func TestTenants_RedirectBodyLinksToTheLocation(t *testing.T) {
	ts, servers, _ := startTenants(t)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for id, srv := range servers {
		path := strings.TrimPrefix(srv.Issuer(), ts.URL)
		for _, folder := range []string{"/admin", "/admin/api"} {
			resp, err := noRedirect.Get(ts.URL + path + folder)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			loc := resp.Header.Get("Location")
			if resp.StatusCode != http.StatusTemporaryRedirect || loc != path+folder+"/" || !strings.Contains(string(body), `href="`+html.EscapeString(loc)+`"`) {
				t.Errorf("tenant %s: GET %s: %s, Location %q, body %q; want 307 to %s/ and a link to it", id, path+folder, resp.Status, loc, body, path+folder)
			}
		}
	}
}
