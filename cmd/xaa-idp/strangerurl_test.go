package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestClientCommands_IssuerThatIsAWebPageSaysSo: an --issuer whose server
// answers discovery with a web page (another service on the port, a front
// end's catch-all) failed with the JSON decoder's "invalid character '<'
// looking for beginning of value", which names neither the URL nor what to
// do; it names the discovery URL, what it answered, and --issuer.
func TestClientCommands_IssuerThatIsAWebPageSaysSo(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte("<!doctype html><html><body>Welcome</body></html>"))
	}))
	defer srv.Close()
	for _, args := range [][]string{
		{"login", "--issuer", srv.URL, "--client-id", "c", "--username", "u", "--password", "p"},
		{"exchange", "--issuer", srv.URL, "--client-id", "c", "--id-token", "x.y.z", "--audience", "https://as.example"},
		{"connect", "--issuer", srv.URL, "--client-id", "c", "--username", "u", "--password", "p"},
	} {
		code, _, stderr := runBinary(t, args...)
		want := srv.URL + "/.well-known/openid-configuration answered 200 OK with text/html"
		if code != exitFailure || !strings.Contains(stderr, want) || !strings.Contains(stderr, "--issuer") || strings.Contains(stderr, "invalid character") {
			t.Errorf("%s: exit %d, stderr %q; want exit 1 saying %q and naming --issuer", args[0], code, stderr, want)
		}
	}
}

// TestClientCommands_HTTPSToAPlainHTTPServerSaysGiveHTTP: an https://
// --issuer (or --url) of an IdP that serves plain http failed with Go's
// "server gave HTTP response to HTTPS client" alone; as the opposite
// mistake is told to give https://, this one is told to give http://.
func TestClientCommands_HTTPSToAPlainHTTPServerSaysGiveHTTP(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	https := "https://" + strings.TrimPrefix(srv.URL, "http://")
	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{"login", "--issuer", https, "--client-id", "c", "--username", "u", "--password", "p"}, "--issuer"},
		{[]string{"exchange", "--issuer", https, "--client-id", "c", "--id-token", "x.y.z", "--audience", "https://as.example"}, "--issuer"},
		{[]string{"connect", "--issuer", https, "--client-id", "c", "--username", "u", "--password", "p"}, "--issuer"},
		{[]string{"keys", "list", "--issuer", https, "--admin-user", "a", "--admin-password", "p"}, "--issuer"},
		{[]string{"healthcheck", "--url", https}, "--url"},
	} {
		code, _, stderr := runBinary(t, c.args...)
		want := "the server speaks plain http: give " + c.flag + " " + srv.URL
		if code != exitFailure || !strings.Contains(stderr, want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 1 saying %q", c.args[0], code, stderr, want)
		}
	}
}
