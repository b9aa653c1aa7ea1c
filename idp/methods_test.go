package idp_test

import (
	"net/http"
	"testing"
)

// A method a page or /metrics does not take is 405 with Allow (RFC 9110
// §15.5.6), as at /healthz and /keys; it fell through to op's handler,
// which answered 404, as if the page did not exist.
func TestPages_OtherMethodIs405WithAllow(t *testing.T) {
	p := startConformanceIdP(t)
	for _, c := range []struct{ method, path, allow string }{
		{http.MethodPut, "/apps", "GET, HEAD, POST"},
		{http.MethodDelete, "/apps", "GET, HEAD, POST"},
		{http.MethodPost, "/logged-out", "GET, HEAD"},
		{http.MethodPost, "/metrics", "GET, HEAD"},
	} {
		req, err := http.NewRequest(c.method, p.URL+c.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != c.allow {
			t.Errorf("%s %s: %d, Allow %q; want 405 and Allow %q", c.method, c.path, resp.StatusCode, resp.Header.Get("Allow"), c.allow)
		}
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/apps", "/logged-out", "/metrics"} {
		resp, err := noRedirect.Head(p.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusMethodNotAllowed || resp.StatusCode == http.StatusNotFound {
			t.Errorf("HEAD %s: %d, want it served as GET", path, resp.StatusCode)
		}
	}
}
