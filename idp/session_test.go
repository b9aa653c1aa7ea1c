package idp_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
)

// TestEndSession_EndsSingleSignOn: RP-initiated logout ends the SSO
// session (cookie and server side), redirects to the registered
// post_logout_redirect_uri, is audited, and a later prompt=none is told
// login_required.
func TestEndSession_EndsSingleSignOn(t *testing.T) {
	p := startConformanceIdP(t)
	_, challenge := pkce()
	const callback = "http://127.0.0.1/callback"
	br := newBrowser(p)
	if res := br.authorize(t, authParams(callback, challenge), "alice", "alice-pw"); res.location == nil {
		t.Fatalf("login: %+v", res)
	}
	idToken := p.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid").IDToken()

	q := url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {callback}, "state": {"bye"}}
	resp, err := br.signOut(p.URL + "/end_session?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc == nil || !strings.HasPrefix(loc.String(), callback) || loc.Query().Get("state") != "bye" {
		t.Fatalf("end_session: %d Location %q, want a redirect to %s with state", resp.StatusCode, resp.Header.Get("Location"), callback)
	}
	params := authParams(callback, challenge)
	params.Set("prompt", "none")
	wantRedirectError(t, br.authorize(t, params, "", ""), "login_required")
	// Two sessions end: the browser's, by its cookie, and the other
	// login's, which id_token_hint names by its sid.
	if evs := p.Audit.Query(audit.Filter{Type: audit.TypeLogout}); len(evs) != 2 || evs[0].User != "alice" || evs[1].User != "alice" {
		t.Errorf("logout events: %+v", evs)
	}
}

// TestIntrospection answers RFC 7662 for our access tokens, to the client
// they were issued to.
func TestIntrospection(t *testing.T) {
	p := startConformanceIdP(t)
	at, _ := p.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid")["access_token"].(string)
	introspect := func(token string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, p.URL+"/oauth/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("mcp-client", "s1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("introspection: %d %v", resp.StatusCode, err)
		}
		return body
	}
	if got := introspect(at); got["active"] != true || got["sub"] != "u-alice" || got["client_id"] != "mcp-client" || got["username"] != "alice" {
		t.Errorf("introspection of a live token: %v", got)
	}
	if got := introspect("not-a-token"); got["active"] != false {
		t.Errorf("introspection of garbage: %v, want active false", got)
	}
}
