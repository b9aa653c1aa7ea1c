package idp_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestCORS_NeverCredentials: no endpoint of the IdP lets another origin
// read an answer made with the browser's cookies. zitadel's own endpoints
// (authorize, end_session, userinfo, revocation, and the token endpoint's
// code and refresh grants) used to echo any Origin with
// Access-Control-Allow-Credentials: true; a page of any site could then
// read them with the IdP's SSO cookie attached. The endpoints browser
// clients call with a token answer the wildcard, without credentials.
func TestCORS_NeverCredentials(t *testing.T) {
	p := startConformanceIdP(t)
	const evil = "https://evil.example"
	tok := p.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid", "offline_access")
	_, challenge := pkce()
	type call struct {
		name, method, path, body string
		header                   http.Header
		wildcard                 bool // the answer must carry Access-Control-Allow-Origin: *
	}
	form := "application/x-www-form-urlencoded"
	calls := []call{
		{name: "authorize", method: "GET", path: "/authorize?" + authParams(callback, challenge).Encode()},
		{name: "end_session", method: "GET", path: "/end_session"},
		{name: "end_session preflight", method: "OPTIONS", path: "/end_session", header: http.Header{"Access-Control-Request-Method": {"GET"}}},
		{name: "authorize preflight", method: "OPTIONS", path: "/authorize", header: http.Header{"Access-Control-Request-Method": {"GET"}}},
		{name: "userinfo", method: "GET", path: "/userinfo", header: http.Header{"Authorization": {"Bearer " + tok["access_token"].(string)}}, wildcard: true},
		{name: "userinfo preflight", method: "OPTIONS", path: "/userinfo", header: http.Header{"Access-Control-Request-Method": {"GET"}, "Access-Control-Request-Headers": {"authorization"}}, wildcard: true},
		{name: "revoke", method: "POST", path: "/revoke", body: "client_id=mcp-client&client_secret=s1&token=unknown", header: http.Header{"Content-Type": {form}}, wildcard: true},
		{name: "introspect", method: "POST", path: "/oauth/introspect", body: "client_id=mcp-client&client_secret=s1&token=" + url.QueryEscape(tok["access_token"].(string)), header: http.Header{"Content-Type": {form}}},
		{name: "token, code grant", method: "POST", path: "/oauth/token", body: "grant_type=authorization_code&code=x&client_id=mcp-client&client_secret=s1", header: http.Header{"Content-Type": {form}}, wildcard: true},
		{name: "token, refresh grant", method: "POST", path: "/oauth/token", body: "grant_type=refresh_token&refresh_token=x&client_id=mcp-client&client_secret=s1", header: http.Header{"Content-Type": {form}}, wildcard: true},
		{name: "login", method: "GET", path: "/login?authRequestID=x"},
		{name: "logged-out", method: "GET", path: "/logged-out"},
	}
	for _, c := range calls {
		req, _ := http.NewRequest(c.method, p.URL+c.path, strings.NewReader(c.body))
		for k, v := range c.header {
			req.Header[k] = v
		}
		req.Header.Set("Origin", evil)
		resp, err := newBrowser(p).hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		acao := resp.Header.Get("Access-Control-Allow-Origin")
		if resp.Header.Get("Access-Control-Allow-Credentials") != "" || acao == evil {
			t.Errorf("%s: %d, Access-Control-Allow-Origin %q, Access-Control-Allow-Credentials %q: another origin may read it with cookies",
				c.name, resp.StatusCode, acao, resp.Header.Get("Access-Control-Allow-Credentials"))
		}
		if c.wildcard && acao != "*" {
			t.Errorf("%s: %d, Access-Control-Allow-Origin %q, want *", c.name, resp.StatusCode, acao)
		}
	}
}

// TestAuthorizeCallback_NoStore: the redirect that carries the
// authorization code back to the client is never cached (RFC 6749
// section 10.3 treats a code as a credential; the token answer already
// has no-store).
func TestAuthorizeCallback_NoStore(t *testing.T) {
	p := startConformanceIdP(t)
	_, challenge := pkce()
	res := newBrowser(p).authorize(t, authParams(callback, challenge), "alice", "alice-pw")
	if res.location == nil || res.location.Query().Get("code") == "" {
		t.Fatalf("no code: %+v", res)
	}
	if cc := res.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("the redirect with the code has Cache-Control %q, want no-store", cc)
	}
}
