package idp_test

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestExchange_RefusesTheIdPsOwnIssuerAsAudience: a configuration whose
// MCP server names the IdP itself as its authorization server (the IdP's
// issuer comes from --addr or --issuer, which check does not know) got
// an ID-JAG with aud the IdP's issuer, which no authorization server
// redeems: the IdP does not take the JWT bearer grant (an ID-JAG is never
// redeemed at the IdP that issued it). The exchange now refuses it,
// saying what to fix, instead of handing out a token that fails later.
// An issuer with dot segments (<idp>/., <idp>/a/..) is the IdP's too (RFC
// 3986 §5.2.4: a client resolves them away); until 2026-12-06 the exchange
// issued an ID-JAG with that aud.
func TestExchange_RefusesTheIdPsOwnIssuerAsAudience(t *testing.T) {
	p := startConformanceIdP(t)
	data, err := os.ReadFile("testdata/conformance.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tok := p.login(t, "mcp-client", "s1", "alice", "alice-pw")
	for _, issuer := range []string{p.URL, p.URL + "/.", p.URL + "/./", p.URL + "/a/..", p.URL + "/%2E"} {
		cfg, err := policy.Parse([]byte(strings.ReplaceAll(string(data), "https://as.chat.example", issuer)), "conformance.yaml")
		if err != nil {
			t.Fatal(err)
		}
		p.Server.SetConfig(cfg)
		for _, aud := range []string{issuer, issuer + "/"} {
			form := exchangeForm(tok.IDToken())
			form.Set("audience", aud)
			form.Set("client_id", "mcp-client")
			form.Set("client_secret", "s1")
			resp, body := p.postToken(t, form, nil)
			desc, _ := body["error_description"].(string)
			if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_target" || !strings.Contains(desc, "the IdP's own issuer") {
				t.Errorf("issuer %s, audience %s: %s %v, want 400 invalid_target saying it is the IdP's own issuer", issuer, aud, resp.Status, body)
			}
		}
	}
}
