package idp_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Revoking a refresh token revokes the access tokens of its grant too
// (RFC 7009 section 2.1: the server, which revokes access tokens, SHOULD
// invalidate all access tokens based on the same authorization grant): the
// access tokens stayed active, at userinfo and introspection, after the
// refresh token they came with was revoked. Another login's tokens stay.
func TestRevoke_RefreshTokenRevokesItsGrantsAccessTokens(t *testing.T) {
	p := startConformanceIdP(t)
	tok := p.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid", "offline_access")
	other := p.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid", "offline_access")
	first := tok["access_token"].(string)
	// A rotation: its access token is of the same grant.
	resp, rotated := p.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken()}}, basic("mcp-client", "s1"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh: %d %v", resp.StatusCode, rotated)
	}
	post := func(path string, form url.Values) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, p.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("mcp-client", "s1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	if status, body := post("/revoke", url.Values{"token": {rotated["refresh_token"].(string)}, "token_type_hint": {"refresh_token"}}); status != http.StatusOK {
		t.Fatalf("revoke: %d %v", status, body)
	}
	for name, at := range map[string]string{"the login's": first, "the rotation's": rotated["access_token"].(string)} {
		if _, body := post("/oauth/introspect", url.Values{"token": {at}}); body["active"] != false {
			t.Errorf("%s access token after its refresh token was revoked: %v, want inactive", name, body)
		}
		req, _ := http.NewRequest(http.MethodGet, p.URL+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+at)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s access token at userinfo after its refresh token was revoked: %d, want 401", name, resp.StatusCode)
		}
	}
	if _, body := post("/oauth/introspect", url.Values{"token": {other["access_token"].(string)}}); body["active"] != true {
		t.Errorf("another login's access token: %v, want still active", body)
	}
	if resp, body := p.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {other.RefreshToken()}}, basic("mcp-client", "s1")); resp.StatusCode != http.StatusOK {
		t.Errorf("another login's refresh token: %d %v, want it to work", resp.StatusCode, body)
	}
}
