package idp_test

import (
	"net/url"
	"testing"
)

func TestSmoke(t *testing.T) {
	p := startConformanceIdP(t)
	tok := p.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid", "email", "offline_access")
	t.Logf("tokens: %v", tok)
	resp, body := p.postToken(t, url.Values{
		"grant_type":           {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"requested_token_type": {"urn:ietf:params:oauth:token-type:id-jag"},
		"subject_token":        {tok.IDToken()},
		"subject_token_type":   {"urn:ietf:params:oauth:token-type:id_token"},
		"audience":             {"https://as.chat.example"},
		"resource":             {"https://mcp.chat.example/mcp"},
		"scope":                {"chat.read"},
		"client_id":            {"mcp-client"},
		"client_secret":        {"s1"},
	}, nil)
	t.Logf("%d %v", resp.StatusCode, body)
	h, c := p.verifyJWT(t, body["access_token"].(string))
	t.Logf("%v %v", h, c)
}
