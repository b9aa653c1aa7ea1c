package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/app"
	"github.com/xaa-idp/xaa-idp/fixtures"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/policy"
)

func TestConsole_NotSignedInIsSentToSignIn(t *testing.T) {
	p := start(t)
	b := p.browser(t).noRedirects()
	for _, path := range []string{"/admin/", "/admin/servers", "/admin/audit?user=bob", "/admin/explain"} {
		resp, _ := b.get(path)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("GET %s: %d, want 303", path, resp.StatusCode)
		}
		want := "/admin/signin?next=" + url.QueryEscape(path)
		if loc := resp.Header.Get("Location"); loc != want {
			t.Errorf("GET %s: Location %q, want %q", path, loc, want)
		}
	}
	// The sign-in goes to the IdP's own authorization endpoint with PKCE.
	resp, _ := b.get("/admin/signin?next=/admin/servers")
	loc, _ := url.Parse(resp.Header.Get("Location"))
	q := loc.Query()
	if loc.Path != "/authorize" || q.Get("client_id") != "xaa-idp-console" || q.Get("code_challenge_method") != "S256" ||
		q.Get("redirect_uri") != p.URL+"/admin/callback" || q.Get("state") == "" || q.Get("nonce") == "" {
		t.Errorf("sign-in redirect %s", loc)
	}
}

func TestConsole_AdminSignsInThroughTheLoginPage(t *testing.T) {
	p := start(t)
	b := p.browser(t)
	resp, body := b.signIn("alice", "alice")
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/admin/" {
		t.Fatalf("after sign-in: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	for _, want := range []string{"Overview", "Alice Anderson", "Sign out", "Recent refusals"} {
		if !strings.Contains(body, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	// Signed in, the console does not send the browser away again.
	resp, _ = b.noRedirects().get("/admin/servers")
	if resp.StatusCode == http.StatusSeeOther {
		t.Errorf("a signed-in admin was sent to sign in again")
	}
}

func TestConsole_ReturnsToThePageAskedFor(t *testing.T) {
	p := start(t)
	b := p.browser(t)
	b.get("/admin/onboarding") // sends the browser to the login page, remembering the page
	resp, body := b.signIn("alice", "alice")
	if resp.Request.URL.Path != "/admin/" && !strings.Contains(body, "Zero-touch") {
		// signIn opens /admin/ itself; the last page asked for wins.
		t.Fatalf("after sign-in at %s", resp.Request.URL)
	}
}

func TestConsole_SessionCookieIsHardened(t *testing.T) {
	p := start(t)
	b := p.browser(t).noRedirects()
	resp, _ := b.get("/admin/signin")
	var c *http.Cookie
	for _, k := range resp.Cookies() {
		if k.Name == "xaa_idp_console" {
			c = k
		}
	}
	if c == nil {
		t.Fatal("no console cookie")
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.MaxAge <= 0 || c.Path != "/admin/" || c.Secure {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Lax, an explicit Max-Age, Path=/admin/, not Secure over http", c)
	}

	// Over https the cookie is Secure.
	cfg, err := policy.Parse(fixtures.Demo, fixtures.DemoFile)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := idp.New(idp.Options{Config: cfg, Issuer: "https://idp.example"})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "https://idp.example/admin/signin", nil)
	app.Handler(srv).ServeHTTP(rec, req)
	if sc := rec.Header().Get("Set-Cookie"); !strings.Contains(sc, "Secure") || !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Lax") {
		t.Errorf("https Set-Cookie %q", sc)
	}
}

func TestConsole_NonAdminIsRefused(t *testing.T) {
	p := start(t)
	b := p.browser(t)
	resp, body := b.signIn("bob", "bob")
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("bob: %d, want 403\n%s", resp.StatusCode, body)
	}
	if !strings.Contains(body, "not an administrator") || !strings.Contains(body, "bob") || !strings.Contains(body, "Sign in as another user") {
		t.Errorf("refusal page:\n%s", body)
	}
	// Bob got no console session: every page still asks to sign in.
	resp, _ = b.noRedirects().get("/admin/servers")
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after the refusal bob gets %d on /admin/servers, want 303 to sign in", resp.StatusCode)
	}
}

func TestConsole_DemotedAdminIsRefused(t *testing.T) {
	p := start(t)
	b := p.browser(t)
	b.signIn("alice", "alice")
	data, err := os.ReadFile("testdata/console.yaml")
	if err != nil {
		t.Fatal(err)
	}
	demoted := strings.Replace(string(data), "    admin: true\n  - username: bob", "    admin: false\n  - username: bob", 1)
	cfg, err := policy.Parse([]byte(demoted), "demoted.yaml")
	if err != nil || cfg.User("alice").Admin {
		t.Fatalf("demoting alice: %v", err)
	}
	p.IdP.SetConfig(cfg)
	resp, body := b.get("/admin/")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "not an administrator") {
		t.Errorf("demoted alice: %d\n%s", resp.StatusCode, body)
	}
}

func TestConsole_SignOutNeedsCSRFAndEndsTheSession(t *testing.T) {
	p := start(t)
	b := p.browser(t)
	_, page := b.signIn("alice", "alice")
	resp, body := b.post("/admin/signout", url.Values{})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "security token") {
		t.Fatalf("sign-out without CSRF token: %d\n%s", resp.StatusCode, body)
	}
	resp, body = b.post("/admin/signout", url.Values{"csrf": {csrf(t, page)}})
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/admin/signed-out" || !strings.Contains(body, "signed out") {
		t.Fatalf("sign-out: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	// Both the console session and the IdP's single sign-on are gone: the
	// console sends the browser to the login page again.
	resp, _ = b.get("/admin/")
	if resp.Request.URL.Path != "/login" {
		t.Errorf("after sign-out /admin/ leads to %s, want the login page", resp.Request.URL)
	}
}

func TestConsole_CallbackWithoutSignInStateIsRefused(t *testing.T) {
	p := start(t)
	b := p.browser(t)
	resp, body := b.get("/admin/callback?code=x&state=y")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "cannot be completed") {
		t.Errorf("forged callback: %d\n%s", resp.StatusCode, body)
	}
}

func TestConsole_HostileDisplayNameIsEscaped(t *testing.T) {
	p := start(t)
	b := p.browser(t)
	_, body := b.signIn("eve", "eve")
	if strings.Contains(body, "<script>alert(1)</script>") {
		t.Fatalf("the display name is rendered as HTML:\n%s", body)
	}
	if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("the display name is not shown as text:\n%s", body)
	}
}

func TestConsole_OpenRedirectIsRefused(t *testing.T) {
	p := start(t)
	b := p.browser(t)
	b.get("/admin/signin?next=//evil.example/x")
	resp, _ := b.signIn("alice", "alice")
	if resp.Request.URL.Host != strings.TrimPrefix(p.URL, "http://") {
		t.Errorf("sign-in ended at %s", resp.Request.URL)
	}
}

func TestConsole_SignInMovesToTheIssuersHost(t *testing.T) {
	p := start(t)
	b := p.browser(t).noRedirects()
	// The same server under another name (localhost for 127.0.0.1): the
	// IdP would send the browser back to the issuer's host, where the
	// sign-in's cookie would be missing.
	req, _ := http.NewRequest(http.MethodGet, p.URL+"/admin/signin?next=/admin/users", nil)
	req.Host = "localhost:1"
	resp, _ := b.do(req)
	want := p.URL + "/admin/signin?moved=1&next=%2Fadmin%2Fusers"
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
		t.Errorf("%d Location %q, want %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
}

// copyOfSession is a request with a copy of b's console cookie and
// nothing else: what someone who copied the cookie would send.
func copyOfSession(t *testing.T, b *browser, path string) *http.Response {
	t.Helper()
	base, _ := url.Parse(b.base + "/admin/")
	var cookie *http.Cookie
	for _, c := range b.hc.Jar.Cookies(base) {
		if c.Name == "xaa_idp_console" {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatal("the browser has no console cookie")
	}
	return getWithCookie(t, b.base+path, cookie)
}

func getWithCookie(t *testing.T, target string, cookie *http.Cookie) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, target, nil)
	req.AddCookie(cookie)
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestConsole_SignOutEndsTheSessionOnTheServer(t *testing.T) {
	p := start(t)
	b := p.browser(t)
	_, page := b.signIn("alice", "alice")
	base, _ := url.Parse(p.URL + "/admin/")
	copied := b.hc.Jar.Cookies(base)
	for _, path := range []string{"/admin/", "/admin/api/config"} {
		if resp := copyOfSession(t, b, path); resp.StatusCode != http.StatusOK {
			t.Fatalf("before sign-out, a copy of the cookie: %s answered %d", path, resp.StatusCode)
		}
	}
	if resp, _ := b.post("/admin/signout", url.Values{"csrf": {csrf(t, page)}}); resp.Request.URL.Path != "/admin/signed-out" {
		t.Fatalf("sign-out ended at %s", resp.Request.URL)
	}
	for _, c := range copied {
		if c.Name != "xaa_idp_console" {
			continue
		}
		if resp := getWithCookie(t, p.URL+"/admin/", c); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/admin/signin") {
			t.Errorf("after sign-out, the copied cookie opens a page: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp := getWithCookie(t, p.URL+"/admin/api/config", c); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("after sign-out, the copied cookie reads the admin API: %d", resp.StatusCode)
		}
	}
	// Signing in again makes a new session that works.
	b2 := p.browser(t)
	b2.signIn("alice", "alice")
	if resp := copyOfSession(t, b2, "/admin/api/config"); resp.StatusCode != http.StatusOK {
		t.Fatalf("a new sign-in: %d", resp.StatusCode)
	}
}

// TestConsole_LongPageAskedForIsNotA500: the page to return to after
// sign-in travels in the session cookie, which holds at most 4 KiB; a
// longer one (a console link with a long query, or anyone's crafted
// link) starts the sign-in all the same and returns to /admin/, rather
// than failing with a 500.
func TestConsole_LongPageAskedForIsNotA500(t *testing.T) {
	p := start(t)
	long := "/admin/audit?user=" + strings.Repeat("a", 5000)
	for _, path := range []string{long, "/admin/signin?next=" + url.QueryEscape(long)} {
		b := p.browser(t).noRedirects()
		resp, body := b.get(path)
		if resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), "/admin/signin") {
			resp, body = b.get(resp.Header.Get("Location"))
		}
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Path != "/authorize" {
			t.Fatalf("GET %.60s...: %d Location %q, want 303 to the IdP's /authorize\n%.500s", path, resp.StatusCode, resp.Header.Get("Location"), body)
		}
	}
	b := p.browser(t)
	resp, body := b.get("/admin/signin?next=" + url.QueryEscape(long))
	m := authRequestID.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the sign-in led to %s (%d), not the IdP's login page", resp.Request.URL, resp.StatusCode)
	}
	resp, _ = b.post("/login", url.Values{"authRequestID": {m[1]}, "username": {"alice"}, "password": {"alice"}})
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/admin/" {
		t.Errorf("after sign-in: %d at %s, want 200 at /admin/", resp.StatusCode, resp.Request.URL)
	}
	// The longest page kept fits beside a signed-in session's values (a switch of users).
	atBound := "/admin/audit?user=" + strings.Repeat("a", 1024-len("/admin/audit?user="))
	resp, body = b.noRedirects().get("/admin/signin?prompt=login&next=" + url.QueryEscape(atBound))
	if loc, _ := url.Parse(resp.Header.Get("Location")); resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Path != "/authorize" {
		t.Errorf("a switch of users with a page of 1 KiB: %d Location %q\n%.500s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
}

// TestConsole_SignInPassesEndpointFaultsBy: faults of the IdP's discovery
// and JWKS, which the console's sign-in reads in-process, do not keep an
// admin from signing in to remove them; a client over HTTP meets them.
func TestConsole_SignInPassesEndpointFaultsBy(t *testing.T) {
	p := start(t)
	if _, err := p.IdP.AddFaults(
		policy.Fault{Endpoint: policy.FaultEndpointDiscovery, HTTPStatus: http.StatusServiceUnavailable},
		policy.Fault{Endpoint: policy.FaultEndpointJWKS, HTTPStatus: http.StatusServiceUnavailable},
	); err != nil {
		t.Fatal(err)
	}
	resp, body := p.browser(t).signIn("alice", "alice")
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/admin/" {
		t.Fatalf("sign-in during the faults: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	for _, path := range []string{"/.well-known/openid-configuration", "/keys"} {
		resp, err := http.Get(p.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("GET %s over HTTP: %d, want the fault's 503", path, resp.StatusCode)
		}
	}
}

// An admin disabled, then enabled again, signs in again: the console
// session of before ended with the user's other sessions
// (docs/configuration.md, users[].disabled), and does not come back when
// the user does.
func TestConsole_SessionOfADisabledAdminStaysEndedWhenEnabledAgain(t *testing.T) {
	p := start(t)
	b := p.browser(t)
	if resp, body := b.signIn("alice", "alice"); resp.StatusCode != http.StatusOK || !strings.Contains(resp.Request.URL.Path, "/admin/") {
		t.Fatalf("alice signing in: %d %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	p.IdP.Clock().Freeze() // a script's frozen clock: the change and the next sign-in at one instant
	for _, disabled := range []bool{true, false} {
		body := `{"username": "alice", "sub": "00u-alice", "name": "Alice Anderson", "groups": ["engineering"], "admin": true, "disabled": ` + strconv.FormatBool(disabled) + `}`
		req, _ := http.NewRequest(http.MethodPut, p.URL+"/admin/api/users/alice", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth("eve", "eve")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("eve setting alice disabled: %v: %d", disabled, resp.StatusCode)
		}
	}
	resp, body := b.get("/admin/")
	if !strings.Contains(resp.Request.URL.Path, "/login") {
		t.Fatalf("alice's console of before the disabling: %d %s, want the login page\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	// Signing in again works.
	if resp, body := b.post("/login", url.Values{"authRequestID": {authRequestID.FindStringSubmatch(body)[1]}, "username": {"alice"}, "password": {"alice"}}); resp.StatusCode != http.StatusOK || !strings.Contains(resp.Request.URL.Path, "/admin/") {
		t.Errorf("alice signing in again: %d %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
}
