package idp_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestLifetimes_EachTokenLivesAsConfigured holds section 3 of the
// contract, lifetimes: id_token, access_token, refresh_token and id_jag,
// at the endpoints a client meets them: each token is taken until its
// lifetime ends and refused after (on the IdP's clock). The defaults are
// held by policy's TestParse_DefaultsAreFilledIn.
func TestLifetimes_EachTokenLivesAsConfigured(t *testing.T) {
	cfg, err := policy.Parse([]byte("lifetimes: {id_token: 30m, access_token: 20m, refresh_token: 2h, id_jag: 2m}\n"+timeBoundConfig), "lifetimes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	p.Clock().Freeze()
	t0 := time.Date(2030, 1, 2, 10, 0, 0, 0, time.UTC)
	p.Clock().Set(t0)
	at := func(d time.Duration) { p.Clock().Set(t0.Add(d)) }

	tok := p.login(t, "mcp-client", "s1", "bob", "bob-pw")
	if in, _ := tok["expires_in"].(float64); in != 1200 {
		t.Errorf("token response expires_in %v, want 1200 (access_token: 20m)", tok["expires_in"])
	}
	if _, c := p.verifyJWT(t, tok.IDToken()); numClaim(t, c, "exp")-numClaim(t, c, "iat") != 1800 {
		t.Errorf("ID token exp - iat = %d, want 1800 (id_token: 30m)", numClaim(t, c, "exp")-numClaim(t, c, "iat"))
	}
	resp, body := exchangeAt(t, p, tok.IDToken(), "https://as.wiki.example", "https://mcp.wiki.example/mcp", "wiki.write")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("exchange: %d %v", resp.StatusCode, body)
	}
	if _, c := p.verifyJWT(t, body["access_token"].(string)); body["expires_in"] != float64(120) || numClaim(t, c, "exp")-numClaim(t, c, "iat") != 120 {
		t.Errorf("ID-JAG expires_in %v, exp - iat %d; want 120 (id_jag: 2m)", body["expires_in"], numClaim(t, c, "exp")-numClaim(t, c, "iat"))
	}

	userinfo := func() int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, p.URL+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	byRefreshToken := func() (int, any) {
		t.Helper()
		form := exchangeForm(tok.RefreshToken())
		form.Set("subject_token_type", "urn:ietf:params:oauth:token-type:refresh_token")
		form.Set("client_id", "mcp-client")
		form.Set("client_secret", "s1")
		form.Set("audience", "https://as.wiki.example")
		form.Set("resource", "https://mcp.wiki.example/mcp")
		form.Set("scope", "wiki.write")
		resp, body := p.postToken(t, form, nil)
		return resp.StatusCode, body["error"]
	}

	at(19 * time.Minute)
	if s := userinfo(); s != http.StatusOK {
		t.Errorf("userinfo 19m after the login: %d, want 200", s)
	}
	at(21 * time.Minute)
	if s := userinfo(); s != http.StatusUnauthorized {
		t.Errorf("userinfo 21m after the login: %d, want 401 (access_token: 20m)", s)
	}
	at(29 * time.Minute)
	if resp, body := exchangeAt(t, p, tok.IDToken(), "https://as.wiki.example", "https://mcp.wiki.example/mcp", "wiki.write"); resp.StatusCode != http.StatusOK {
		t.Errorf("the ID token 29m after the login: %d %v, want 200", resp.StatusCode, body)
	}
	at(32 * time.Minute)
	if resp, body := exchangeAt(t, p, tok.IDToken(), "https://as.wiki.example", "https://mcp.wiki.example/mcp", "wiki.write"); resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_request" {
		t.Errorf("the ID token 32m after the login: %d %v, want 400 invalid_request (id_token: 30m)", resp.StatusCode, body)
	}
	at(119 * time.Minute)
	if s, e := byRefreshToken(); s != http.StatusOK {
		t.Errorf("the refresh token 1h59m after the login: %d %v, want 200", s, e)
	}
	at(121 * time.Minute)
	if s, e := byRefreshToken(); s != http.StatusBadRequest || e != "invalid_grant" {
		t.Errorf("the refresh token 2h01m after the login: %d %v, want 400 invalid_grant (refresh_token: 2h)", s, e)
	}
	resp, body = p.postToken(t, map[string][]string{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken()},
		"client_id": {"mcp-client"}, "client_secret": {"s1"}}, nil)
	if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("the refresh grant 2h01m after the login: %d %v, want 400 invalid_grant", resp.StatusCode, body["error"])
	}
}
