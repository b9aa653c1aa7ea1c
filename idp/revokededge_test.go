package idp_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestRevokedLogin_RefusedUpToTheLastInstantItsIDTokenIsAccepted: an ID
// token is taken at the exchange up to and including exp + 30 s, and
// the record of its revoked login (a refresh token revoked at /revoke)
// lived until the revocation plus the ID token lifetime and those 30 s,
// exclusive: a login revoked in the second it was made (a frozen clock
// holds it) had its ID token exchanged again at exp + 30 s. The record
// is kept a second longer.
func TestRevokedLogin_RefusedUpToTheLastInstantItsIDTokenIsAccepted(t *testing.T) {
	cfg, err := policy.Parse([]byte(timeBoundConfig), "revoked.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	p.Clock().Freeze()
	login := time.Date(2030, 1, 1, 7, 0, 0, 0, time.UTC)
	p.Clock().Set(login)
	tok := p.login(t, "mcp-client", "s1", "bob", "bob-pw", "openid", "offline_access")
	postJSON(t, p.URL+"/revoke", url.Values{"token": {tok.RefreshToken()}, "token_type_hint": {"refresh_token"}}, basic("mcp-client", "s1"), http.StatusOK)
	p.Clock().Set(login.Add(time.Hour + 30*time.Second)) // exp + skew
	resp, body := exchangeAt(t, p, tok.IDToken(), "https://as.wiki.example", "https://mcp.wiki.example/mcp", "wiki.write")
	if desc, _ := body["error_description"].(string); resp.StatusCode != 400 || body["error"] != "invalid_grant" || !strings.Contains(desc, "revoked") {
		t.Errorf("the ID token of a revoked login at exp + 30 s: HTTP %d %v, want invalid_grant, revoked", resp.StatusCode, body)
	}
}
