package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestKeys_WebPageIsNoSuccess: `keys rotate` and `keys list` at a URL whose
// server answers every path 200 with a web page (a front end's catch-all,
// a reverse proxy's index page, another service on the port) printed the
// page and exited 0, as if the keys had rotated. The admin API answers
// JSON: anything else is a failure (exit 1) that says what answered and
// which flag to fix, and nothing is printed on stdout.
func TestKeys_WebPageIsNoSuccess(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte("<!doctype html><html><body>Welcome</body></html>"))
	}))
	defer srv.Close()
	for _, action := range []string{"rotate", "list"} {
		code, stdout, stderr := runBinary(t, "keys", action, "--issuer", srv.URL, "--admin-user", "alice", "--admin-password", "alice")
		want := srv.URL + "/admin/api/keys"
		if code != exitFailure || stdout != "" || !strings.Contains(stderr, want) || !strings.Contains(stderr, "text/html") || !strings.Contains(stderr, "--issuer") {
			t.Errorf("keys %s: exit %d, stdout %q, stderr %q; want exit 1, no stdout, stderr naming %s, its text/html and --issuer", action, code, stdout, stderr, want)
		}
		if strings.Contains(stderr, "alice") {
			t.Errorf("keys %s: stderr %q shows the admin password", action, stderr)
		}
	}
}
