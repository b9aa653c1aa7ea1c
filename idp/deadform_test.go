package idp_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestLogin_NoFormWithoutASignInRequest: a page that says the sign-in
// request is unknown, expired or closed shows no username and password
// form. The form would post an empty authRequestID (at /login: the same
// refusal again) or, on /authorize/callback, go to /authorize/login, a
// plain "404 page not found": a user back at an old tab would type the
// password into a form that cannot sign anyone in.
func TestLogin_NoFormWithoutASignInRequest(t *testing.T) {
	p := startConformanceIdP(t)
	br := newBrowser(p)
	noForm := func(what string, resp *http.Response, body string, status int) {
		t.Helper()
		if resp.StatusCode != status || !strings.Contains(body, "Start again from your application") {
			t.Errorf("%s: %d, want %d with what to do\n%s", what, resp.StatusCode, status, body)
		}
		if strings.Contains(body, `name="password"`) || strings.Contains(body, "<form") {
			t.Errorf("%s shows a sign-in form that cannot sign in:\n%s", what, body)
		}
	}
	for _, path := range []string{"/login?authRequestID=unknown", "/authorize/callback?id=unknown"} {
		resp, err := br.hc.Get(p.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		noForm("GET "+path, resp, string(b), http.StatusBadRequest)
	}
	resp, body := br.postLogin(t, loginForm("unknown", "alice", "alice-pw"))
	noForm("POST /login with an unknown request", resp, body, http.StatusBadRequest)

	id, _ := br.pendingLogin(t)
	for i := range 9 {
		if resp, body := br.postLogin(t, loginForm(id, fmt.Sprint("user", i), "guess")); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `name="password"`) {
			t.Fatalf("attempt %d: %d, want 401 with the form to try again", i+1, resp.StatusCode)
		}
	}
	resp, body = br.postLogin(t, loginForm(id, "user9", "guess"))
	noForm("the tenth refused attempt, which closes the request", resp, body, http.StatusUnauthorized)
}
