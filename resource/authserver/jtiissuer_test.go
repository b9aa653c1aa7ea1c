package authserver_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// TestReplay_AJTIIsEachTrustedIdPsOwn: a jti is unique only among its
// issuer's tokens (RFC 7519 section 4.1.7), so two trusted IdPs may pick
// the same one. Each IdP's ID-JAG redeems once; either one again is a
// replay.
func TestReplay_AJTIIsEachTrustedIdPsOwn(t *testing.T) {
	var second *fakeIdP
	e := newEnv(t, func(c *authserver.Config) {
		second = newFakeIdP(t, time.Now)
		c.TrustedIssuers = []authserver.TrustedIssuer{{Issuer: second.issuer}}
	})
	second.now = e.clock.Now
	const jti = "the-same-jti-at-both-idps"
	mint := func(p *fakeIdP) string {
		c := p.claims(e.asURL, e.mcpURL)
		c["jti"] = jti
		return p.mint(t, c)
	}
	first, other := mint(e.idp), mint(second)
	for _, step := range []struct {
		name, jag string
		want      int
	}{
		{"the first IdP's ID-JAG", first, http.StatusOK},
		{"the second IdP's ID-JAG with the same jti", other, http.StatusOK},
		{"the first IdP's ID-JAG again", first, http.StatusBadRequest},
		{"the second IdP's ID-JAG again", other, http.StatusBadRequest},
	} {
		r := e.post(t, grant(step.jag))
		if r.status != step.want {
			t.Fatalf("%s: HTTP %d %s, want %d", step.name, r.status, r.raw, step.want)
		}
		if step.want != http.StatusOK && (r.str("error") != "invalid_grant" || !strings.Contains(r.str("error_description"), "already redeemed")) {
			t.Errorf("%s: %s, want invalid_grant naming the replay", step.name, r.raw)
		}
	}
}
