package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestServe_CompletedSignInOutlivesARestart: after an admin signs in to
// the console, Back to the login page says the sign-in was completed, and
// with --state-dir it still does after a restart (kill -9 included).
// Before, the record lived in memory only, and the page said the sign-in
// was "unknown or has expired", as if it had never been made. The file
// holds no sign-in request's id and is 0600.
func TestServe_CompletedSignInOutlivesARestart(t *testing.T) {
	file, state := endedFiles(t, endedConfig)
	issuer, cmd, _ := startOnAddr(t, file, state, "127.0.0.1:0")
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	read := func(resp *http.Response, err error) (*http.Response, string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := read(hc.Get(issuer + "/admin/"))
	m := regexp.MustCompile(`name="authRequestID" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("opening the console led to %s, without a login form:\n%s", resp.Request.URL, body)
	}
	id := m[1]
	resp, body = read(hc.PostForm(issuer+"/login", url.Values{"authRequestID": {id}, "username": {"alice"}, "password": {"alice"}}))
	if resp.Request.URL.Path != "/admin/" || resp.StatusCode != http.StatusOK {
		t.Fatalf("the sign-in ended at %s (%d):\n%s", resp.Request.URL, resp.StatusCode, body)
	}
	back := func(when string) {
		t.Helper()
		resp, body := read(http.Get(issuer + "/login?authRequestID=" + url.QueryEscape(id)))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "This sign-in was already completed.") || strings.Contains(body, "unknown or has expired") {
			t.Errorf("%s, the login page of the sign-in: %d\n%s", when, resp.StatusCode, body)
		}
	}
	back("before the restart")

	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	issuer, _, _ = startOnAddr(t, file, state, strings.TrimPrefix(issuer, "http://"))
	back("after kill -9 and a start")

	name := filepath.Join(state, "completed-logins.jsonl")
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s is %v, want 0600", name, fi.Mode().Perm())
	}
	if data, _ := os.ReadFile(name); strings.Contains(string(data), id) {
		t.Errorf("%s holds the sign-in request's id:\n%s", name, data)
	}
}
