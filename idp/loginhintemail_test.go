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

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/internal/throttle"
	"github.com/xaa-idp/xaa-idp/policy"
)

// emailLoginConfig is the conformance fixture with dave and erin, who share
// an address in two cases, gina, whose username is hank's email, and kim,
// whose address has a k, which the Kelvin sign (U+212A) folds to.
func emailLoginConfig(t *testing.T) *policy.Config {
	t.Helper()
	data, err := os.ReadFile("testdata/conformance.yaml")
	if err != nil {
		t.Fatal(err)
	}
	y := strings.Replace(string(data), "    groups: [eng]\n    disabled: true\n",
		"    groups: [eng]\n    disabled: true\n"+
			"  - username: dave\n    password: dave-pw\n    email: Dave@example.com\n"+
			"  - username: erin\n    password: erin-pw\n    email: dave@EXAMPLE.com\n"+
			"  - username: gina@example.com\n    password: gina-pw\n"+
			"  - username: hank\n    password: hank-pw\n    email: gina@example.com\n"+
			"  - username: kim\n    password: kim-pw\n    email: kim@example.com\n", 1)
	cfg, err := policy.Parse([]byte(y), "conformance.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestLogin_HintIsPrefilledAsSent: MCP clients and Claude send the user's
// email as login_hint. Until 2026-12-06 a hint that was one user's email
// prefilled that user's username, which showed it to anyone who started a
// sign-in with the address. Every hint is prefilled as sent; the form takes
// the address (TestLogin_EmailSignsInItsUser).
func TestLogin_HintIsPrefilledAsSent(t *testing.T) {
	p := startIdP(t, emailLoginConfig(t))
	value := regexp.MustCompile(`<input id="username"[^>]*\bvalue="([^"]*)"`)
	for _, hint := range []string{"alice@example.com", "ALICE@Example.COM", "bob", "nobody@example.com", "dave@example.com"} {
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
		if resp.StatusCode != http.StatusOK || m == nil || html.UnescapeString(m[1]) != hint {
			t.Errorf("login_hint %q: %d, username %v, want it as sent", hint, resp.StatusCode, m)
			continue
		}
		if hint == "ALICE@Example.COM" {
			// The prefilled address signs in with alice's password.
			if resp, page := br.postLogin(t, loginForm(id, html.UnescapeString(m[1]), "alice-pw")); resp.StatusCode != http.StatusFound {
				t.Errorf("sign-in with the prefilled %q: %d %s", m[1], resp.StatusCode, page)
			}
		}
	}
}

// TestLogin_EmailSignsInItsUser: the login form takes, in place of a
// username, the email of exactly one user (any case), and signs that user
// in, audited under the username. An address no user or several users
// have is refused as an unknown username is, with the same words; a
// username always wins over an email.
func TestLogin_EmailSignsInItsUser(t *testing.T) {
	p := startIdP(t, emailLoginConfig(t))
	refusal := regexp.MustCompile(`<p class="err" role="alert" id="login-error">([^<]*)</p>`)
	unknownText := ""
	for _, c := range []struct {
		name, password string
		status         int
		user           string // audited
	}{
		{"nobody", "x", http.StatusUnauthorized, "nobody"},
		{"alice@example.com", "alice-pw", http.StatusFound, "alice"},
		{"ALICE@Example.COM", "alice-pw", http.StatusFound, "alice"},
		{"alice@example.com", "bob-pw", http.StatusUnauthorized, "alice"},
		{"nobody@example.com", "alice-pw", http.StatusUnauthorized, "nobody@example.com"},
		{"dave@example.com", "dave-pw", http.StatusUnauthorized, "dave@example.com"},
		{"gina@example.com", "hank-pw", http.StatusUnauthorized, "gina@example.com"},
		{"gina@example.com", "gina-pw", http.StatusFound, "gina@example.com"},
		// ASCII case only, as the configuration's warnings and the demo
		// authorization servers compare addresses: the Kelvin sign is
		// not a k (until 2026-12-06 it signed kim in).
		{"KIM@example.com", "kim-pw", http.StatusFound, "kim"},
		{"\u212aim@example.com", "kim-pw", http.StatusUnauthorized, "\u212aim@example.com"},
	} {
		br := newBrowser(p)
		id, _ := br.pendingLogin(t)
		resp, body := br.postLogin(t, loginForm(id, c.name, c.password))
		if resp.StatusCode != c.status {
			t.Errorf("%s with %s: %d, want %d", c.name, c.password, resp.StatusCode, c.status)
			continue
		}
		if c.status == http.StatusUnauthorized {
			m := refusal.FindStringSubmatch(body)
			if m == nil {
				t.Fatalf("%s: no refusal on the page:\n%s", c.name, body)
			}
			if unknownText == "" {
				unknownText = m[1]
			} else if m[1] != unknownText {
				t.Errorf("%s with %s: %q, want the unknown username's %q", c.name, c.password, m[1], unknownText)
			}
		}
		if evs := p.Audit.Query(audit.Filter{Type: audit.TypeLogin, Limit: 1}); len(evs) != 1 || evs[0].User != c.user {
			t.Errorf("%s with %s: audited %+v, want user %q", c.name, c.password, evs, c.user)
		}
	}
}

// TestLogin_EmailCountsAgainstItsUsersThrottle: failures with a user's
// address, in any case, are that username's: otherwise each case of the
// address would be five more guesses at the password.
func TestLogin_EmailCountsAgainstItsUsersThrottle(t *testing.T) {
	clock := idp.NewClock(nil)
	clock.Freeze()
	th := throttle.New(throttle.Options{Now: clock.Now})
	p := startIdP(t, emailLoginConfig(t), func(o *idp.Options) { o.Clock, o.LoginThrottle = clock, th })
	br := newBrowser(p)
	for i, name := range []string{"alice@example.com", "Alice@example.com", "ALICE@example.com", "aLice@example.com", "alIce@example.com"} {
		id, _ := br.pendingLogin(t)
		if resp, _ := br.postLogin(t, loginForm(id, name, "wrong")); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, resp.StatusCode)
		}
	}
	for _, name := range []string{"alice", "alicE@example.com"} {
		id, _ := br.pendingLogin(t)
		if resp, _ := br.postLogin(t, loginForm(id, name, "alice-pw")); resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("%s after five failures with her address: %d, want 429", name, resp.StatusCode)
		}
	}
}
