package idp_test

import (
	"strings"
	"testing"
)

// TestAuthorize_UnusableIDTokenHintSaysWhy: an id_token_hint that is no
// ID token of this IdP (not a JWT, another IdP's, a forged signature) is
// sent back as error=login_required, as op answers it, with a
// description that says what is wrong with it, as end_session's does,
// rather than op's "The id_token_hint is invalid. If you have any
// questions, you may contact the administrator of the application.".
// An expired hint of this IdP is still taken.
func TestAuthorize_UnusableIDTokenHintSaysWhy(t *testing.T) {
	p := startConformanceIdP(t)
	other := startConformanceIdP(t)
	const callback = "http://127.0.0.1/callback"
	_, challenge := pkce()
	foreign := other.login(t, "mcp-client", "s1", "bob", "bob-pw").IDToken()
	own := p.login(t, "mcp-client", "s1", "bob", "bob-pw").IDToken()
	parts := strings.Split(own, ".")
	forged := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))
	for _, c := range []struct{ name, hint, says string }{
		{"not a JWT", "abc", "not a signed JWT"},
		{"another IdP's", foreign, "is not this IdP"},
		{"a forged signature", forged, "does not verify"},
	} {
		params := authParams(callback, challenge)
		params.Set("id_token_hint", c.hint)
		res := newBrowser(p).authorize(t, params, "", "")
		if res.location == nil {
			t.Errorf("%s: %d, no redirect; want error=login_required", c.name, res.status)
			continue
		}
		q := res.location.Query()
		desc := q.Get("error_description")
		if q.Get("error") != "login_required" || q.Get("state") != params.Get("state") || !strings.Contains(desc, "id_token_hint") || !strings.Contains(desc, c.says) || strings.Contains(desc, "administrator") {
			t.Errorf("%s: %v; want error=login_required, the state, and a description naming id_token_hint and saying %q", c.name, res.location, c.says)
		}
	}
	params := authParams(callback, challenge)
	params.Set("id_token_hint", own)
	if res := newBrowser(p).authorize(t, params, "bob", "bob-pw"); res.location == nil || res.location.Query().Get("code") == "" {
		t.Errorf("this IdP's own hint: %d %v; want a code", res.status, res.location)
	}
}
