package idp_test

import (
	"io"
	"net/http"
	"regexp"
	"testing"
)

// TestLogin_FocusIsWhereTheUserTypesNext: the login page's focus
// (autofocus) is on the username when there is none yet, and on the
// password when the username is filled in (after a wrong password, or
// from login_hint), so that a keyboard user types the password at once
// instead of overtyping or tabbing past the name.
func TestLogin_FocusIsWhereTheUserTypesNext(t *testing.T) {
	p := startConformanceIdP(t)
	br := newBrowser(p)
	id, _ := br.pendingLogin(t)
	focused := regexp.MustCompile(`<input id="(\w+)"[^>]*\bautofocus\b`)
	resp, err := br.hc.Get(p.URL + "/login?authRequestID=" + id)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	if m := focused.FindAllStringSubmatch(page, -1); len(m) != 1 || m[0][1] != "username" {
		t.Errorf("an empty login form focuses %v, want the username", m)
	}
	resp2, page := br.postLogin(t, loginForm(id, "alice", "wrong"))
	if resp2.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", resp2.StatusCode)
	}
	if m := focused.FindAllStringSubmatch(page, -1); len(m) != 1 || m[0][1] != "password" {
		t.Errorf("after a wrong password the form focuses %v, want the password", m)
	}
}
