package idp_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestIDTokenHint_AnIDJAGIsNoHint: id_token_hint is an ID token (OpenID
// Connect Core section 3.1.2.1, RP-Initiated Logout section 2); the IdP
// signs ID-JAGs with the same keys, for the same user, and end_session
// and /authorize took one as a hint: end_session logged out "with" it,
// prompt=none went on with its sub. Explicit typing (RFC 8725 section
// 3.11) tells them apart, as at the token exchange.
func TestIDTokenHint_AnIDJAGIsNoHint(t *testing.T) {
	p := startConformanceIdP(t)
	idToken := p.login(t, "mcp-client", "s1", "alice", "alice-pw").IDToken()
	resp, body := p.postToken(t, exchangeForm(idToken), basicS1)
	jag, _ := body["access_token"].(string)
	if resp.StatusCode != http.StatusOK || jag == "" {
		t.Fatalf("exchange: %d %v", resp.StatusCode, body)
	}
	const want = "id_token_hint is an ID-JAG (typ oauth-id-jag+jwt), not an ID token"

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noRedirect.Get(p.URL + "/end_session?" + url.Values{"id_token_hint": {jag}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), `"invalid_request"`) || !strings.Contains(string(b), want) {
		t.Errorf("end_session with an ID-JAG as id_token_hint: %d %s; want 400 invalid_request saying %q", res.StatusCode, b, want)
	}
	// An ID token still is a hint.
	res, err = noRedirect.Get(p.URL + "/end_session?" + url.Values{"id_token_hint": {idToken}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound {
		t.Errorf("end_session with an ID token as id_token_hint: %d, want 302", res.StatusCode)
	}

	_, challenge := pkce()
	params := authParams("http://127.0.0.1/callback", challenge)
	params.Set("prompt", "none")
	params.Set("id_token_hint", jag)
	r := newBrowser(p).authorize(t, params, "", "")
	if r.location == nil || r.location.Query().Get("error") != "invalid_request" || !strings.Contains(r.location.Query().Get("error_description"), want) {
		t.Errorf("/authorize with an ID-JAG as id_token_hint: %d %v; want error=invalid_request saying %q", r.status, r.location, want)
	}
}
