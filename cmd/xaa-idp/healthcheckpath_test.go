package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHealthcheck_IssuerWithAPathProbesItsHealthz: an issuer with a path
// (a tenant's, the one serve prints with tenants:) is an IdP's URL too,
// and its landing page is a web page that answers 200 however the IdP
// fares; healthcheck passed an unhealthy IdP given it. The page is now
// taken for the IdP's, and <issuer>/healthz is what decides.
func TestHealthcheck_IssuerWithAPathProbesItsHealthz(t *testing.T) {
	healthy := true
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/t/acme": // as the IdP's mux, to the page with its slash
			http.Redirect(w, r, "/t/acme/", http.StatusTemporaryRedirect)
		case "/t/acme/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte("<!doctype html><title>acme</title>"))
		case "/t/acme/healthz":
			if !healthy {
				http.Error(w, "audit log failed, restart needed", http.StatusServiceUnavailable)
				return
			}
			w.Write([]byte("ok\n"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer ts.Close()
	healthcheckEach(t, []string{ts.URL + "/t/acme", ts.URL + "/t/acme/"}, &healthy, "/t/acme/healthz")
	// Another page is no IdP: its healthz is not found.
	if code, _, stderr := runCLI(t, "healthcheck", "--url", ts.URL+"/nothing"); code != exitFailure || !strings.Contains(stderr, "404") {
		t.Errorf("healthcheck of a missing page: exit %d %q", code, stderr)
	}
}
