package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHealthcheck_IssuerURLProbesHealthz: every other client command takes
// the IdP's base URL, and so does a newcomer's --url; its landing page
// answers 200 whatever the health, so a URL without a path probes
// /healthz under it, and an unhealthy IdP is not passed as healthy.
func TestHealthcheck_IssuerURLProbesHealthz(t *testing.T) {
	healthy := true
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" && !healthy {
			http.Error(w, "audit log is failing", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok"))
	}))
	defer ts.Close()
	healthcheckEach(t, []string{ts.URL, ts.URL + "/"}, &healthy, "/healthz")
}

// healthcheckEach runs healthcheck --url with each of urls, once with
// *healthy true, when it must pass, and once false, when it must fail
// saying that the path healthz answered 503.
func healthcheckEach(t *testing.T, urls []string, healthy *bool, healthz string) {
	t.Helper()
	for _, url := range urls {
		*healthy = true
		if code, _, stderr := runCLI(t, "healthcheck", "--url", url); code != exitOK {
			t.Errorf("healthcheck --url %s of a healthy IdP: exit %d %s", url, code, stderr)
		}
		*healthy = false
		code, _, stderr := runCLI(t, "healthcheck", "--url", url)
		if code != exitFailure || !strings.Contains(stderr, healthz+" answered 503") {
			t.Errorf("healthcheck --url %s of an unhealthy IdP: exit %d %q, want %d naming %s", url, code, stderr, exitFailure, healthz)
		}
	}
}
