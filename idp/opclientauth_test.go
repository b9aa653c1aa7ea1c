package idp_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/idpclient"
)

// TestOPGrants_SayWhatIsWrongWithTheClient: the code and refresh grants,
// which zitadel serves, name what is wrong with the client's
// authentication as the token exchange does, instead of op's "invalid
// client_id / client_secret": a newcomer who typed the secret wrong at
// `xaa-idp login` learns that it is the secret, and which client's.
func TestOPGrants_SayWhatIsWrongWithTheClient(t *testing.T) {
	p := startConformanceIdP(t)
	rt := p.login(t, "mcp-client", "s1", "alice", "alice-pw").RefreshToken()
	for _, c := range []struct {
		name   string
		form   url.Values
		header http.Header
		want   string
	}{
		{"refresh, Basic, wrong secret", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basic("mcp-client", "wrong"), "client authentication failed for 'mcp-client': wrong client_secret"},
		{"refresh, post, wrong secret", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"mcp-client"}, "client_secret": {"wrong"}}, nil, "client authentication failed for 'mcp-client': wrong client_secret"},
		{"refresh, unknown client", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basic("nobody", "x"), "client_id 'nobody' is not registered at this IdP"},
		{"refresh, confidential without secret", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"mcp-client"}}, nil, "client 'mcp-client' is confidential"},
		{"code, wrong secret", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "code_verifier": {strings.Repeat("a", 43)}, "redirect_uri": {"http://127.0.0.1/callback"}}, basic("mcp-client", "wrong"), "client authentication failed for 'mcp-client': wrong client_secret"},
	} {
		resp, body := p.postToken(t, c.form, c.header)
		desc, _ := body["error_description"].(string)
		if resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" || !strings.Contains(desc, c.want) {
			t.Errorf("%s: %s %v, want 401 invalid_client saying %q", c.name, resp.Status, body, c.want)
		}
	}
	// The refresh token was not spent by the refused attempts.
	resp, body := p.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basic("mcp-client", "s1"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh with the right secret: %s %v", resp.Status, body)
	}
	// A public client that sends a secret is told it has none, as at the
	// token exchange (publicsecret_test.go), and its refresh token is not
	// spent.
	prt := p.login(t, "pub-client", "", "alice", "alice-pw").RefreshToken()
	resp, body = p.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {prt}, "client_id": {"pub-client"}, "client_secret": {"x"}}, nil)
	if desc, _ := body["error_description"].(string); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(desc, "public client and has no secret") {
		t.Errorf("a public client's refresh with a secret: %s %v, want 401 invalid_client saying it has no secret", resp.Status, body)
	}
	resp, body = p.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {prt}, "client_id": {"pub-client"}}, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("a public client's refresh with client_id alone: %s %v", resp.Status, body)
	}
	// xaa-idp login with a wrong secret says so.
	_, err := idpclient.Login(context.Background(), idpclient.LoginOptions{
		Issuer: p.URL, ClientID: "mcp-client", ClientSecret: "wrong", Username: "alice", Password: "alice-pw",
	})
	if err == nil || !strings.Contains(err.Error(), "wrong client_secret") {
		t.Errorf("login with a wrong secret: %v, want it to name the wrong client_secret", err)
	}
}
