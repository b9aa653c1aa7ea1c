package idp_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestLogin_CompletedRequestSaysSo: the login page of a sign-in whose code
// was redeemed, reached again (Back, a reload, the form sent twice), says
// the sign-in was completed; before, it said the request was unknown or
// had expired. A request the IdP never knew, and the record once it has
// expired, still read "unknown or has expired". The callback says the same.
func TestLogin_CompletedRequestSaysSo(t *testing.T) {
	p := startIdP(t, conformanceConfig(t))
	br := newBrowser(p)
	id, verifier := br.pendingLogin(t)
	login, _ := br.postLogin(t, loginForm(id, "alice", "alice-pw"))
	if login.StatusCode != http.StatusFound {
		t.Fatalf("login: %d", login.StatusCode)
	}
	br.redeemAfterLogin(t, login, verifier)
	get := func(path string) string {
		t.Helper()
		resp, err := br.hc.Get(p.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400", path, resp.StatusCode)
		}
		return string(b)
	}
	for _, path := range []string{"/login?authRequestID=" + id, "/authorize/callback?id=" + id} {
		if body := get(path); !strings.Contains(body, "This sign-in was already completed. To sign in again, start again from your application.") {
			t.Errorf("GET %s after the sign-in:\n%s", path, body)
		}
	}
	if resp, body := br.postLogin(t, loginForm(id, "alice", "alice-pw")); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "already completed") {
		t.Errorf("the form sent again: %d\n%s", resp.StatusCode, body)
	}
	if body := get("/login?authRequestID=never-issued"); !strings.Contains(body, "unknown or has expired") {
		t.Errorf("an unknown request:\n%s", body)
	}
	p.clock.offset = time.Hour + time.Second // the record lasts an hour
	if body := get("/login?authRequestID=" + id); !strings.Contains(body, "unknown or has expired") {
		t.Errorf("after the record expired:\n%s", body)
	}
}
