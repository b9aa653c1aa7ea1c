package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestClientCommands_HTTPIssuerOfAnHTTPSServer: --issuer http://... of a
// server that speaks https (serve --tls) said only "discovery: ...
// answered 400 Bad Request"; it says that the server speaks https and
// gives the issuer to use; healthcheck, the --url. Exit 1, as for any
// server that refuses. keys said only "answered 400 Bad Request" until
// 2026-12-06, though the README lists it among the commands that say so.
func TestClientCommands_HTTPIssuerOfAnHTTPSServer(t *testing.T) {
	ts := httptest.NewTLSServer(http.NotFoundHandler())
	defer ts.Close()
	plain := "http://" + strings.TrimPrefix(ts.URL, "https://")
	for _, args := range [][]string{
		{"login", "--issuer", plain, "--client-id", "c", "--username", "u", "--password", "p"},
		{"exchange", "--issuer", plain, "--client-id", "c", "--id-token", "x.y.z", "--audience", "https://as.example"},
		{"connect", "--issuer", plain, "--client-id", "c", "--username", "u", "--password", "p"},
		{"healthcheck", "--url", plain},
		{"keys", "list", "--issuer", plain, "--admin-user", "u", "--admin-password", "p"},
	} {
		code, _, stderr := runCLI(t, args...)
		want := "the server speaks https: give the issuer as " + ts.URL
		if args[0] == "healthcheck" {
			want = "the server speaks https: give --url " + ts.URL + "/healthz"
		}
		if code != exitFailure || !strings.Contains(stderr, want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d saying %q", args[0], code, stderr, exitFailure, want)
		}
	}
}
