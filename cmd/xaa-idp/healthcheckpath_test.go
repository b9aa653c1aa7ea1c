package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
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

// TestHealthcheck_AURLThatIsNoIssuerIsSaidSo: --url http://HOST/admin/
// (the console, which redirects to its sign-in page) followed the
// redirect, took the page for a tenant's landing page and probed
// /admin/signin/healthz, to say only that it answered 404. No redirect is
// followed now: a URL that answers with a redirect or a web page is taken
// for an issuer, its /healthz probed, and when that is not found the
// message says the URL is no issuer and what to give.
func TestHealthcheck_AURLThatIsNoIssuerIsSaidSo(t *testing.T) {
	var mu sync.Mutex
	var probed []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		probed = append(probed, r.URL.Path)
		mu.Unlock()
		switch r.URL.Path {
		case "/admin": // as the IdP's mux
			http.Redirect(w, r, "/admin/", http.StatusTemporaryRedirect)
		case "/admin/": // as the console, signed out
			http.Redirect(w, r, "/admin/signin?next=%2Fadmin%2F", http.StatusSeeOther)
		case "/admin/signin", "/login":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte("<!doctype html><title>sign in</title>"))
		case "/healthz":
			w.Write([]byte("ok\n"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer ts.Close()
	for _, path := range []string{"/admin/", "/admin", "/admin/signin", "/login"} {
		mu.Lock()
		probed = nil
		mu.Unlock()
		code, _, stderr := runCLI(t, "healthcheck", "--url", ts.URL+path)
		want := `--url "` + ts.URL + path + `" is not an issuer`
		if code != exitFailure || !strings.Contains(stderr, want) || !strings.Contains(stderr, "give --url the IdP's issuer or its /healthz") {
			t.Errorf("healthcheck --url %s: exit %d %q, want %d saying %q", path, code, stderr, exitFailure, want)
		}
		mu.Lock()
		got := probed
		mu.Unlock()
		if len(got) != 2 || got[1] != strings.TrimSuffix(path, "/")+"/healthz" {
			t.Errorf("healthcheck --url %s probed %v, want it and its /healthz, no redirect followed", path, got)
		}
	}
}

// TestHealthcheck_NoIssuerFromAVariableNamesTheVariable: a URL that is no
// issuer was said to be `--url "..."` when no --url was given, the URL
// having come from XAA_IDP_ISSUER (serve's) or XAA_IDP_URL: the message
// now names the variable that gave it.
func TestHealthcheck_NoIssuerFromAVariableNamesTheVariable(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/admin/" {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte("<!doctype html><title>sign in</title>"))
			return
		}
		http.NotFound(w, r)
	}))
	defer ts.Close()
	for _, name := range []string{"XAA_IDP_ADDR", "XAA_IDP_ISSUER", "XAA_IDP_TLS", "XAA_IDP_STATE_DIR", "XAA_IDP_URL"} {
		t.Setenv(name, "")
	}
	u := ts.URL + "/admin/"
	for _, tc := range []struct{ env, want string }{
		{"XAA_IDP_ISSUER", `XAA_IDP_ISSUER="` + u + `" (--issuer of serve) is not an issuer`},
		{"XAA_IDP_URL", `XAA_IDP_URL="` + u + `" (--url) is not an issuer`},
	} {
		t.Setenv("XAA_IDP_ISSUER", "")
		t.Setenv("XAA_IDP_URL", "")
		t.Setenv(tc.env, u)
		code, _, stderr := runCLI(t, "healthcheck")
		if code != exitFailure || !strings.Contains(stderr, tc.want) || strings.Contains(stderr, `--url "`) {
			t.Errorf("healthcheck with %s=%s: exit %d %q, want %d saying %q", tc.env, u, code, stderr, exitFailure, tc.want)
		}
	}
}
