package idp_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestPages_UnreadableRequestIsAnHTMLPage: the pages for people (/apps,
// /logged-out) answer a query they cannot parse, a compressed body and an
// oversized one with an HTML page of the same status, as the login page
// does, not with the JSON of an OAuth error; a JSON endpoint keeps its JSON.
// Until 2026-12-06 the pages answered JSON.
func TestPages_UnreadableRequestIsAnHTMLPage(t *testing.T) {
	p, _ := startApps(t, appsConfig)
	big := "x=" + strings.Repeat("a", 2<<20)
	for _, c := range []struct {
		name, method, path, body, encoding string
		status                             int
		html                               bool
	}{
		{"apps, a malformed query", http.MethodGet, "/apps?%zz", "", "", http.StatusBadRequest, true},
		{"logged-out, a malformed query", http.MethodGet, "/logged-out?%zz", "", "", http.StatusBadRequest, true},
		{"apps, a gzip body", http.MethodPost, "/apps", "x=1", "gzip", http.StatusBadRequest, true},
		{"apps, an oversized body", http.MethodPost, "/apps", big, "", http.StatusRequestEntityTooLarge, true},
		{"the token endpoint, a malformed query", http.MethodPost, "/oauth/token?%zz", "grant_type=x", "", http.StatusBadRequest, false},
	} {
		req, _ := http.NewRequest(c.method, p.URL+c.path, strings.NewReader(c.body))
		if c.body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if c.encoding != "" {
			req.Header.Set("Content-Encoding", c.encoding)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		ct := resp.Header.Get("Content-Type")
		isHTML := strings.HasPrefix(ct, "text/html") && strings.HasPrefix(string(b), "<!doctype html>")
		if resp.StatusCode != c.status || isHTML != c.html || (!c.html && !strings.HasPrefix(ct, "application/json")) {
			t.Errorf("%s: %d %s %.120q, want %d, HTML %v", c.name, resp.StatusCode, ct, b, c.status, c.html)
		}
		// The page is one of the pages for people: titled by its status,
		// with the viewport and the h1 and main landmark they all have.
		if title := http.StatusText(c.status); c.html && (!strings.Contains(string(b), "<title>"+title+" · xaa-idp</title>") ||
			!strings.Contains(string(b), "<main><h1>"+title+"</h1>") || !strings.Contains(string(b), `name="viewport"`)) {
			t.Errorf("%s: the page lacks its title, h1, main or viewport: %.400q", c.name, b)
		}
	}
}
