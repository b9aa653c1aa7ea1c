package idp_test

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestLogin_HintThatIsAnEmailPrefillsItsUser: MCP clients and Claude send
// the user's email as login_hint. The form takes usernames, so a hint
// prefilled as sent ("alice@example.com") failed alice's password. A hint
// that is the email of exactly one user, in any case, prefills that user's
// username; any other hint (a username, an unknown address, an address
// two users share) is prefilled as sent. The user then signs in.
func TestLogin_HintThatIsAnEmailPrefillsItsUser(t *testing.T) {
	data, err := os.ReadFile("testdata/conformance.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// carol shares dave's address in another case: neither is picked.
	y := strings.Replace(string(data), "    groups: [eng]\n    disabled: true\n",
		"    groups: [eng]\n    disabled: true\n  - username: dave\n    password: dave-pw\n    email: Dave@example.com\n  - username: erin\n    password: erin-pw\n    email: dave@EXAMPLE.com\n", 1)
	cfg, err := policy.Parse([]byte(y), "conformance.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	value := regexp.MustCompile(`<input id="username"[^>]*\bvalue="([^"]*)"`)
	for hint, want := range map[string]string{
		"alice@example.com":   "alice",
		"ALICE@Example.COM":   "alice",
		"bob":                 "bob",
		"nobody@example.com":  "nobody@example.com",
		"dave@example.com":    "dave@example.com",
		" alice@example.com ": " alice@example.com ",
	} {
		br := newBrowser(p)
		_, challenge := pkce()
		params := authParams(callback, challenge)
		params.Set("login_hint", hint)
		resp, err := br.hc.Get(p.URL + "/authorize?" + params.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		id := loc.Query().Get("authRequestID")
		resp, err = br.hc.Get(p.URL + "/login?authRequestID=" + url.QueryEscape(id))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := value.FindStringSubmatch(string(body))
		if resp.StatusCode != http.StatusOK || m == nil || html.UnescapeString(m[1]) != want {
			t.Errorf("login_hint %q: %d, username %v, want %q", hint, resp.StatusCode, m, want)
			continue
		}
		if want == "alice" {
			// The prefilled username signs in with alice's password.
			if resp, page := br.postLogin(t, loginForm(id, m[1], "alice-pw")); resp.StatusCode != http.StatusFound {
				t.Errorf("sign-in with the prefilled %q: %d %s", m[1], resp.StatusCode, page)
			}
		}
	}
}
