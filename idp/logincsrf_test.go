package idp_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
)

// TestLogin_CrossSitePostIsRefused: another site cannot sign a visitor's
// browser in as someone else (login CSRF, RFC 6749 section 10.12, RFC 6819
// section 4.4.1.8) by making it post the login form with the attacker's
// own sign-in request and password: the browser says where the post comes
// from (Sec-Fetch-Site, or an Origin of another host), and such a post is
// refused before any password is checked, without a session cookie. An
// Origin of "null" is what a sandboxed frame or a data: page of any site
// sends, so it passes only when Fetch Metadata vouches for it
// (Sec-Fetch-Site: same-origin); a browser without Fetch Metadata sends
// the page's own origin, which the login page's Referrer-Policy
// same-origin lets it send. The login page's own form and scripts
// (neither header) still sign in.
func TestLogin_CrossSitePostIsRefused(t *testing.T) {
	p := startConformanceIdP(t)
	for _, c := range []struct {
		name   string
		header http.Header
		want   int
	}{
		{"cross-site", http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}}, http.StatusForbidden},
		{"same-site", http.Header{"Sec-Fetch-Site": {"same-site"}, "Origin": {"https://sub.example"}}, http.StatusForbidden},
		{"origin of another host", http.Header{"Origin": {"https://evil.example"}}, http.StatusForbidden},
		{"a null origin without Fetch Metadata", http.Header{"Origin": {"null"}}, http.StatusForbidden},
		{"a null origin typed by the user", http.Header{"Sec-Fetch-Site": {"none"}, "Origin": {"null"}}, http.StatusForbidden},
		{"the login page's form", http.Header{"Sec-Fetch-Site": {"same-origin"}, "Origin": {"null"}}, http.StatusFound},
		{"the login page's form without Fetch Metadata", http.Header{"Origin": {p.URL}}, http.StatusFound},
		{"a script", nil, http.StatusFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			attacker := newBrowser(p)
			id, _ := attacker.pendingLogin(t)
			victim := newBrowser(p)
			req, _ := http.NewRequest(http.MethodPost, p.URL+"/login", strings.NewReader(loginForm(id, "bob", "bob-pw").Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range c.header {
				req.Header[k] = v
			}
			resp, err := victim.hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.want)
			}
			if c.want != http.StatusForbidden {
				return
			}
			if sc := resp.Header.Values("Set-Cookie"); len(sc) != 0 {
				t.Errorf("a refused login set cookies %v", sc)
			}
			_, ch := pkce()
			params := authParams(callback, ch)
			params.Set("prompt", "none")
			wantRedirectError(t, victim.authorize(t, params, "", ""), "login_required")
			evs := p.Audit.Query(audit.Filter{Type: audit.TypeLogin, Limit: 1})
			if len(evs) != 1 || evs[0].Outcome != audit.Denied || !strings.Contains(evs[0].Reason, "another site") {
				t.Errorf("audit %+v, want the refusal", evs)
			}
		})
	}
}

// TestLogin_PageSendsItsOriginToItself: the IdP's pages whose forms post
// back to the IdP (the login page, the sign-out question, the apps page)
// have Referrer-Policy same-origin, so that a browser sends their own
// origin with the form (with no-referrer it sends "null", which any site
// can send too) and still no referrer to another site.
func TestLogin_PageSendsItsOriginToItself(t *testing.T) {
	p := startConformanceIdP(t)
	br := newBrowser(p)
	id, _ := br.pendingLogin(t)
	resp, err := br.hc.Get(p.URL + "/login?authRequestID=" + id)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Referrer-Policy"); got != "same-origin" {
		t.Errorf("login page Referrer-Policy %q, want same-origin", got)
	}
	signedIn := newBrowser(p)
	signedIn.codeTokens(t)
	for name, req := range map[string]*http.Request{
		"the sign-out question": func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, p.URL+"/end_session?client_id=mcp-client", nil)
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			return req
		}(),
		"the apps page": func() *http.Request { req, _ := http.NewRequest(http.MethodGet, p.URL+"/apps", nil); return req }(),
	} {
		resp, err := signedIn.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || name == "the sign-out question" && !strings.Contains(string(body), `<form method="post"`) {
			t.Fatalf("%s: %d, no form\n%s", name, resp.StatusCode, body)
		}
		if got := resp.Header.Get("Referrer-Policy"); got != "same-origin" {
			t.Errorf("%s: Referrer-Policy %q, want same-origin", name, got)
		}
	}
}
