package idp_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A refresh request may narrow the scope of the tokens it gets, but the
// grant keeps the scope the user granted (RFC 6749 section 6: a scope
// "MUST NOT include any scope not originally granted by the resource
// owner, and if omitted is treated as equal to the scope originally
// granted"). The rotated refresh token took the narrowed scope: a later
// refresh without scope got the narrowed one, and one asking again for an
// originally granted scope was invalid_scope.
func TestRefresh_NarrowedScopeLeavesTheGrantsScope(t *testing.T) {
	p := startConformanceIdP(t)
	tok := p.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid", "email", "offline_access")
	refresh := func(rt, scope string) map[string]any {
		t.Helper()
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
		if scope != "" {
			form.Set("scope", scope)
		}
		resp, body := p.postToken(t, form, basic("mcp-client", "s1"))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("refresh with scope %q: %d %v", scope, resp.StatusCode, body)
		}
		return body
	}
	narrowed := refresh(tok.RefreshToken(), "openid")
	if narrowed["scope"] != "openid" {
		t.Errorf("narrowed refresh: scope %v, want openid", narrowed["scope"])
	}
	again := refresh(narrowed["refresh_token"].(string), "")
	if again["scope"] != "openid email offline_access" {
		t.Errorf("refresh without scope after a narrowed one: scope %v, want the grant's, openid email offline_access", again["scope"])
	}
	back := refresh(again["refresh_token"].(string), "openid email")
	if back["scope"] != "openid email" {
		t.Errorf("refresh asking again for a granted scope: scope %v, want openid email", back["scope"])
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {back["refresh_token"].(string)}, "scope": {"openid profile"}}
	if resp, body := p.postToken(t, form, basic("mcp-client", "s1")); resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_scope" || !strings.Contains(body["error_description"].(string), "login granted") {
		t.Errorf("refresh asking for a scope never granted: %d %v, want invalid_scope", resp.StatusCode, body)
	}
}
