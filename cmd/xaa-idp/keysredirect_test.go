package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestKeys_RedirectIsNotFollowed: `keys rotate` and `keys list` carry the
// admin's password (HTTP Basic), and Go's client sends it on with a
// redirect to the same host name, whatever the port or scheme (https to
// plain http included). The answer to a redirect is a failure naming where
// it led; nothing follows it.
func TestKeys_RedirectIsNotFollowed(t *testing.T) {
	var reached atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"keys":[]}`))
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	for _, action := range []string{"rotate", "list"} {
		code, stdout, stderr := runCLI(t, "keys", action, "--issuer", srv.URL, "--admin-user", "alice", "--admin-password", "alice")
		if code != exitFailure || stdout != "" || !strings.Contains(stderr, "307") || !strings.Contains(stderr, other.URL+"/admin/api/keys") {
			t.Errorf("keys %s: exit %d, stdout %q, stderr %q; want exit 1 naming the 307 and where it led", action, code, stdout, stderr)
		}
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("the redirect's target got %d requests with the admin's password", n)
	}
}
