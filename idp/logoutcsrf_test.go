package idp_test

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestEndSession_CrossSiteAsksFirst: a page of another site that sends a
// signed-in browser to end_session, without an id_token_hint of that
// browser's session, does not end it (which would also revoke its refresh
// tokens): the IdP asks the user first (OIDC RP-Initiated Logout 1.0
// section 2: the OP MUST ask when no id_token_hint is given or it does not
// belong to the current session). The user's confirmation, posted from the
// IdP's own page, ends it. With the session's own id_token_hint, the
// relying party logs the user out at once, as before.
func TestEndSession_CrossSiteAsksFirst(t *testing.T) {
	p := startConformanceIdP(t)
	crossSite := http.Header{"Sec-Fetch-Site": {"cross-site"}}
	get := func(br *browser, q url.Values, h http.Header) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, p.URL+"/end_session?"+q.Encode(), nil)
		for k, v := range h {
			req.Header[k] = v
		}
		resp, err := br.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	live := func(br *browser, tok map[string]any) bool {
		t.Helper()
		_, ch := pkce()
		params := authParams(callback, ch)
		params.Set("prompt", "none")
		if res := br.authorize(t, params, "", ""); res.location == nil || res.location.Query().Get("code") == "" {
			return false
		}
		resp, body := p.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}, basicS1)
		if resp.StatusCode == http.StatusOK {
			tok["refresh_token"] = body["refresh_token"]
			return true
		}
		return false
	}

	victim := newBrowser(p)
	tok := victim.codeTokens(t)
	attackerToken := newBrowser(p).codeTokens(t)["id_token"].(string)
	q := url.Values{"client_id": {"mcp-client"}, "post_logout_redirect_uri": {callback}, "state": {"s1"}}
	for name, c := range map[string]struct {
		q url.Values
		h http.Header
	}{
		"without id_token_hint":           {q, crossSite},
		"with another session's ID token": {url.Values{"id_token_hint": {attackerToken}}, crossSite},
		// A sandboxed frame of any site posts with Origin null; a browser
		// without Fetch Metadata says nothing else.
		"from a null origin without Fetch Metadata": {q, http.Header{"Origin": {"null"}}},
	} {
		resp, page := get(victim, c.q, c.h)
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, `<form method="post"`) {
			t.Fatalf("cross-site end_session %s: %d %q, want the confirmation page", name, resp.StatusCode, resp.Header.Get("Location"))
		}
		if !live(victim, tok) {
			t.Fatalf("cross-site end_session %s ended the session without asking", name)
		}
	}

	// The confirmation, as the page's form posts it, with its token.
	_, page := get(victim, q, crossSite)
	form := url.Values{}
	for _, name := range []string{"client_id", "post_logout_redirect_uri", "state", "csrf"} {
		form.Set(name, html.UnescapeString(hidden(t, page, name)))
	}
	req, _ := http.NewRequest(http.MethodPost, p.URL+"/end_session", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", "null")
	resp, err := victim.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != callback+"?state=s1" {
		t.Fatalf("confirmed end_session: %d %q, want a redirect to %s with state", resp.StatusCode, loc, callback)
	}
	if live(victim, tok) {
		t.Fatal("the confirmed end_session left the session live")
	}

	// The session's own ID token: the relying party's logout needs no question.
	other := newBrowser(p)
	tok = other.codeTokens(t)
	resp, _ = get(other, url.Values{"id_token_hint": {tok["id_token"].(string)}}, crossSite)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("cross-site end_session with the session's id_token_hint: %d, want 302", resp.StatusCode)
	}
	if live(other, tok) {
		t.Fatal("end_session with the session's id_token_hint left the session live")
	}
}

// TestEndSession_TheQuestionSaysWhoAndHowToStay: the confirmation page
// names the user it would sign out and offers to stay signed in, a link
// to the IdP's own landing page that ends nothing.
func TestEndSession_TheQuestionSaysWhoAndHowToStay(t *testing.T) {
	p := startConformanceIdP(t)
	victim := newBrowser(p)
	victim.codeTokens(t)
	req, _ := http.NewRequest(http.MethodGet, p.URL+"/end_session?client_id=mcp-client", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := victim.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `<strong id="user">alice</strong>`) {
		t.Fatalf("the confirmation page does not name alice: %d\n%s", resp.StatusCode, page)
	}
	if !strings.Contains(page, `<a href="`+p.URL+`/" id="stay">Stay signed in</a>`) {
		t.Fatalf("the confirmation page offers no way to stay signed in:\n%s", page)
	}
	resp, err = victim.hc.Get(p.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, ch := pkce()
	params := authParams(callback, ch)
	params.Set("prompt", "none")
	if res := victim.authorize(t, params, "", ""); res.location == nil || res.location.Query().Get("code") == "" {
		t.Fatalf("after 'Stay signed in' the session is gone: %+v", res)
	}
}

// TestEndSession_OtherMethodsEndNothing: RP-Initiated Logout is GET or
// POST. Any other method (a CORS preflight's OPTIONS, a PUT or DELETE) is
// 405 invalid_request with Allow, and the browser's session lives on.
func TestEndSession_OtherMethodsEndNothing(t *testing.T) {
	p := startConformanceIdP(t)
	br := newBrowser(p)
	br.codeTokens(t)
	for _, m := range []string{http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		req, _ := http.NewRequest(m, p.URL+"/end_session", nil)
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := br.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, POST" || !strings.Contains(string(body), `"invalid_request"`) {
			t.Errorf("%s /end_session: %d, Allow %q, %s; want 405 invalid_request with Allow: GET, POST", m, resp.StatusCode, resp.Header.Get("Allow"), body)
		}
	}
	_, ch := pkce()
	params := authParams(callback, ch)
	params.Set("prompt", "none")
	if res := br.authorize(t, params, "", ""); res.location == nil || res.location.Query().Get("code") == "" {
		t.Errorf("the session ended: prompt=none gets %+v", res)
	}
}
