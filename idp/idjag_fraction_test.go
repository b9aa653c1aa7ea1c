package idp_test

import (
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestIDJAGLivesNoLongerThanItsLifetime: lifetimes.id_jag may have a
// fraction of a second (90.5s), and exp, a whole second, was iat's second
// plus the lifetime from the instant of issue: an ID-JAG issued at .7 of
// a second lived 91 s, longer than configured: with an id_jag over an
// hour (1h0m0.5s) the demo authorization servers, which bound an ID-JAG's
// life by the longest id_jag (docs/http.md), refused it, though the IdP
// had just issued it. exp - iat
// is the lifetime in whole seconds, whenever within its second it is
// issued.
func TestIDJAGLivesNoLongerThanItsLifetime(t *testing.T) {
	cfg, err := policy.Parse([]byte("lifetimes: {id_jag: 90.5s}\n"+timeBoundConfig), "fraction.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	p.Clock().Freeze()
	for _, frac := range []time.Duration{0, 300 * time.Millisecond, 700 * time.Millisecond} {
		p.Clock().Set(time.Date(2030, 1, 1, 7, 0, 0, int(frac), time.UTC))
		tok := p.login(t, "mcp-client", "s1", "bob", "bob-pw")
		resp, body := exchangeAt(t, p, tok.IDToken(), "https://as.wiki.example", "https://mcp.wiki.example/mcp", "wiki.write")
		if resp.StatusCode != 200 {
			t.Fatalf("issued at +%s: HTTP %d %v", frac, resp.StatusCode, body)
		}
		_, claims := p.verifyJWT(t, body["access_token"].(string))
		exp, _ := claims["exp"].(float64)
		iat, _ := claims["iat"].(float64)
		if in, _ := body["expires_in"].(float64); exp-iat != 90 || in != 90 {
			t.Errorf("issued at +%s: exp - iat %v, expires_in %v; want 90 (90.5s in whole seconds)", frac, exp-iat, body["expires_in"])
		}
	}
}
