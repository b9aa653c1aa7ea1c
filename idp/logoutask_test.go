package idp_test

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestEndSession_AsksEveryBrowserWithoutAHint: OIDC RP-Initiated Logout
// 1.0 section 2 has the OP ask the user whenever no id_token_hint of the
// current session is given, whatever the browser says of where the
// request comes from. A browser without Fetch Metadata (Safari before
// 16.4, older Firefox) sends neither Sec-Fetch-Site nor, for a GET, an
// Origin: another site's plain link <a href=".../end_session"> signed the
// user out and revoked the session's tokens without a question. Every
// request of a signed-in browser without the session's hint is now
// answered with the question; its "Sign out" posts a token of the
// session, and a post without it (which any site can forge) is asked
// again.
func TestEndSession_AsksEveryBrowserWithoutAHint(t *testing.T) {
	p := startConformanceIdP(t)
	victim := newBrowser(p)
	tok := victim.codeTokens(t)
	live := func() bool {
		t.Helper()
		resp, body := p.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}, basicS1)
		if resp.StatusCode == http.StatusOK {
			tok["refresh_token"] = body["refresh_token"]
			return true
		}
		return false
	}
	q := url.Values{"client_id": {"mcp-client"}, "post_logout_redirect_uri": {callback}, "state": {"s1"}}
	send := func(method string, form url.Values, h http.Header) (*http.Response, string) {
		t.Helper()
		var req *http.Request
		if method == http.MethodGet {
			req, _ = http.NewRequest(method, p.URL+"/end_session?"+form.Encode(), nil)
		} else {
			req, _ = http.NewRequest(method, p.URL+"/end_session", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for k, v := range h {
			req.Header[k] = v
		}
		resp, err := victim.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	withCSRF := func(v url.Values, csrf string) url.Values {
		c := url.Values{"csrf": {csrf}}
		for k, vs := range v {
			c[k] = vs
		}
		return c
	}
	otherCSRF := func() string {
		other := newBrowser(p)
		other.codeTokens(t)
		_, page := func() (*http.Response, string) {
			req, _ := http.NewRequest(http.MethodGet, p.URL+"/end_session", nil)
			resp, err := other.hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp, string(b)
		}()
		return html.UnescapeString(hidden(t, page, "csrf"))
	}()
	for _, c := range []struct {
		name   string
		method string
		form   url.Values
		h      http.Header
	}{
		{"a link of another site, in a browser without Fetch Metadata", http.MethodGet, q, nil},
		{"a link without parameters", http.MethodGet, nil, nil},
		{"a same-origin navigation", http.MethodGet, q, http.Header{"Sec-Fetch-Site": {"same-origin"}}},
		{"an address typed by the user", http.MethodGet, q, http.Header{"Sec-Fetch-Site": {"none"}}},
		{"a form of another site, in a browser without Fetch Metadata", http.MethodPost, q, nil},
		{"a post that says it is same-origin, without the token", http.MethodPost, q, http.Header{"Origin": {p.URL}, "Sec-Fetch-Site": {"same-origin"}}},
		{"a post with another session's token", http.MethodPost, withCSRF(q, otherCSRF), http.Header{"Origin": {p.URL}}},
	} {
		resp, page := send(c.method, c.form, c.h)
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, `<strong id="user">alice</strong>`) || !strings.Contains(page, `<form method="post"`) {
			t.Fatalf("end_session by %s: %d %q, want the question naming alice:\n%s", c.name, resp.StatusCode, resp.Header.Get("Location"), page)
		}
		if !live() {
			t.Fatalf("end_session by %s ended the session without asking", c.name)
		}
	}

	// "Sign out", as the question's form posts it: the same parameters
	// and the session's token.
	_, page := send(http.MethodGet, q, nil)
	form := url.Values{}
	for _, name := range []string{"client_id", "post_logout_redirect_uri", "state", "csrf"} {
		form.Set(name, html.UnescapeString(hidden(t, page, name)))
	}
	if form.Get("csrf") == otherCSRF || form.Get("csrf") == "" {
		t.Fatalf("the question's token %q is not the session's own", form.Get("csrf"))
	}
	// The token in a URL is not taken: logs and history keep URLs.
	if resp, page := send(http.MethodGet, form, nil); resp.StatusCode != http.StatusOK || !strings.Contains(page, `<strong id="user">alice</strong>`) || !live() {
		t.Fatalf("end_session with the session's token in the query: %d %q, want the question", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ := send(http.MethodPost, form, http.Header{"Origin": {p.URL}})
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != callback+"?state=s1" {
		t.Fatalf("confirmed end_session: %d %q, want a redirect to %s with state", resp.StatusCode, loc, callback)
	}
	if live() {
		t.Fatal("the confirmed end_session left the session live")
	}
	// Spent: the session it names is over, so a browser signed in again
	// is asked.
	victim.codeTokens(t)
	resp, page = send(http.MethodPost, form, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `<strong id="user">alice</strong>`) {
		t.Fatalf("the spent token again: %d %q, want the question", resp.StatusCode, resp.Header.Get("Location"))
	}

	// Without a session there is nothing to end and nothing to ask.
	fresh := newBrowser(p)
	r2, err := fresh.hc.Get(p.URL + "/end_session?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != http.StatusFound || r2.Header.Get("Location") != callback+"?state=s1" {
		t.Fatalf("end_session without a session: %d %q, want the redirect", r2.StatusCode, r2.Header.Get("Location"))
	}
}

// TestApps_SignOutIsOneClick: the "My MCP servers" page's "Sign out"
// posts the session's token to end_session, which ends the session at
// once: the IdP's own sign-out needs no question.
func TestApps_SignOutIsOneClick(t *testing.T) {
	cfg, err := policy.Parse([]byte(appsConfig), "apps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	hc := cookieClient(t)
	_, page := fetch(t, hc, http.MethodGet, p.URL+"/apps", nil)
	resp, page := fetch(t, hc, http.MethodPost, p.URL+"/login", url.Values{
		"authRequestID": {hidden(t, page, "authRequestID")}, "username": {"bob"}, "password": {"bob-pw"},
	})
	if resp.Request.URL.String() != p.URL+"/apps" {
		t.Fatalf("after the login: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	if !strings.Contains(page, `<form method="post" action="`+p.URL+`/end_session"`) {
		t.Fatalf("the page's sign-out is not a form posted to end_session:\n%s", page)
	}
	i := strings.Index(page, `action="`+p.URL+`/end_session"`)
	csrf := html.UnescapeString(hidden(t, page[i:], "csrf"))
	resp, page = fetch(t, hc, http.MethodPost, p.URL+"/end_session", url.Values{"csrf": {csrf}})
	if resp.Request.URL.Path != "/logged-out" {
		t.Fatalf("the page's sign-out: %d at %s, want /logged-out at once:\n%s", resp.StatusCode, resp.Request.URL, page)
	}
	resp, page = fetch(t, hc, http.MethodGet, p.URL+"/apps", nil)
	if !strings.Contains(page, `name="password"`) {
		t.Fatalf("after the sign-out /apps still shows bob's page: %d\n%s", resp.StatusCode, page)
	}
}

// signOut asks end_session at target to sign the browser out, and
// answers "Sign out" when the IdP asks (a request without the session's
// id_token_hint), as the user does: the question's form, with its token,
// posted back. The response is end_session's last, its body closed.
func (br *browser) signOut(target string) (*http.Response, error) {
	resp, err := br.hc.Get(target)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	i := strings.Index(page, `<form method="post" action="end_session">`)
	if resp.StatusCode != http.StatusOK || i < 0 {
		return resp, nil
	}
	page = page[i : strings.Index(page[i:], "</form>")+i]
	form := url.Values{}
	for _, m := range regexp.MustCompile(`name="([^"]*)" value="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	u, _ := url.Parse(target)
	u.RawQuery = ""
	req, _ := http.NewRequest(http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = br.hc.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	return resp, err
}
