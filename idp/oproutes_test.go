package idp_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
)

// noRedirects answers a redirect as the response itself.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// Paths the IdP does not serve are 404 whatever the method: op's router
// behind the IdP's own routes served its device authorization endpoint
// (RFC 8628), which discovery does not announce and whose grant the token
// endpoint refuses, yet which authenticated clients (fetching a metadata
// document for a URL client_id) and logged a warning for each request; and
// it answered an unknown method at an unknown path 405 without Allow.
func TestUnservedPaths_Are404(t *testing.T) {
	p := startConformanceIdP(t)
	for _, c := range []struct{ method, path, body string }{
		{http.MethodPost, "/device_authorization", "client_id=mcp-client&client_secret=s1&scope=openid"},
		{http.MethodGet, "/device_authorization", ""},
		{http.MethodPost, "/device_authorization", "client_id=pub-client&scope=openid"},
		{"FOO", "/no-such-page", ""},
		{http.MethodGet, "/no-such-page", ""},
	} {
		req, err := http.NewRequest(c.method, p.URL+c.path, strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		if c.body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s: %d %s; want 404", c.method, c.path, resp.StatusCode, b)
		}
	}
}

// pendingAuthRequest starts a code flow and returns the id of its sign-in,
// not yet completed.
func pendingAuthRequest(t *testing.T, p *testIdP) string {
	t.Helper()
	q := url.Values{
		"response_type": {"code"}, "client_id": {"mcp-client"}, "redirect_uri": {"http://127.0.0.1:5555/callback"},
		"scope": {"openid"}, "state": {"st"}, "code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"},
	}
	resp, err := noRedirects.Get(p.URL + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("authRequestID") == "" {
		t.Fatalf("/authorize: %d, Location %q; want the login page", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.Query().Get("authRequestID")
}

// The callback that turns a completed sign-in into the code redirect is
// reached by the browser's GET after the login form. A sign-in not yet
// completed there is the login page's to finish: it was handed to op, which
// redirected to the client with interaction_required (ending nothing, so
// anyone holding the id could send it again) and logged a warning each
// time, a log anyone could flood; any method was taken.
func TestAuthorizeCallback_PendingOrOtherMethod(t *testing.T) {
	var logged bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logged, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	p := startConformanceIdP(t)
	id := pendingAuthRequest(t, p)
	logged.Reset()
	for i := 0; i < 3; i++ {
		resp, err := noRedirects.Get(p.URL + "/authorize/callback?id=" + url.QueryEscape(id))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Fatalf("callback of a pending sign-in: %d, Location %q; want 400 and no redirect", resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if logged.Len() != 0 {
		t.Errorf("callbacks of a pending sign-in logged:\n%s", logged.String())
	}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, "FOO"} {
		req, _ := http.NewRequest(m, p.URL+"/authorize/callback?id="+url.QueryEscape(id), nil)
		resp, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET" {
			t.Errorf("%s /authorize/callback: %d, Allow %q; want 405 and Allow GET", m, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
	// The sign-in still completes, and its callback redirects with the code.
	form := url.Values{"authRequestID": {id}, "username": {"alice"}, "password": {"alice-pw"}}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: noRedirects.CheckRedirect}
	resp, err := c.PostForm(p.URL+"/login", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	next := resp.Header.Get("Location")
	if !strings.Contains(next, "/authorize/callback") {
		t.Fatalf("login: %d, Location %q; want the callback", resp.StatusCode, next)
	}
	u, _ := url.Parse(p.URL + "/")
	resp, err = c.Get(u.ResolveReference(mustParse(t, next)).String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc == nil || loc.Query().Get("code") == "" {
		t.Errorf("callback after the login: %d, Location %q; want the code", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
