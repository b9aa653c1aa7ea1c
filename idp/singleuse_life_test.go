package idp_test

import (
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestSingleUseSubject_HeldForAsLongAsTheIDTokenLives: with
// exchange.single_use_subject an ID token is exchanged once per MCP
// server. Its use was remembered for lifetimes.refresh_token, taken to be
// longer than any ID token lives; but nothing keeps id_token shorter, and
// with id_token: 2h and refresh_token: 1h an ID token exchanged once was
// exchanged again an hour later. The use is remembered until the ID token
// is refused as expired anyway.
func TestSingleUseSubject_HeldForAsLongAsTheIDTokenLives(t *testing.T) {
	cfg, err := policy.Parse([]byte("lifetimes: {id_token: 2h, refresh_token: 1h}\nexchange: {single_use_subject: true}\n"+timeBoundConfig), "singleuse.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	p.Clock().Freeze()
	p.Clock().Set(time.Date(2030, 1, 1, 7, 0, 0, 0, time.UTC))
	tok := p.login(t, "mcp-client", "s1", "bob", "bob-pw")
	exchange := func() (int, map[string]any) {
		resp, body := exchangeAt(t, p, tok.IDToken(), "https://as.wiki.example", "https://mcp.wiki.example/mcp", "wiki.write")
		return resp.StatusCode, body
	}
	if status, body := exchange(); status != 200 {
		t.Fatalf("first exchange: HTTP %d %v", status, body)
	}
	for _, after := range []time.Duration{time.Hour + time.Second, 2*time.Hour + 30*time.Second} {
		p.Clock().Set(time.Date(2030, 1, 1, 7, 0, 0, 0, time.UTC).Add(after))
		status, body := exchange()
		if desc, _ := body["error_description"].(string); status != 400 || body["error"] != "invalid_grant" || !strings.Contains(desc, "already exchanged") {
			t.Errorf("the ID token again %s after its login: HTTP %d %v, want invalid_grant already exchanged", after, status, body)
		}
	}
}
