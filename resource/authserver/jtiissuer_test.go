package authserver_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

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

// TestReplay_ASETJTIIsEachTrustedIdPsOwn: so is a SET's jti: each trusted
// IdP's SET is received once, and either one again is a replay.
func TestReplay_ASETJTIIsEachTrustedIdPsOwn(t *testing.T) {
	var second *fakeIdP
	e := newEnv(t, func(c *authserver.Config) {
		second = newFakeIdP(t, time.Now)
		c.TrustedIssuers = []authserver.TrustedIssuer{{Issuer: second.issuer}}
	})
	second.now = e.clock.Now
	set := func(p *fakeIdP) string {
		c := e.setClaims()
		subID := map[string]any{"format": "iss_sub", "iss": p.issuer, "sub": alice}
		c["iss"], c["sub_id"], c["jti"] = p.issuer, subID, "the-same-jti-at-both-idps"
		c["events"] = map[string]any{"https://schemas.openid.net/secevent/caep/event-type/session-revoked": map[string]any{
			"subject": subID, "event_timestamp": e.clock.Now().Unix()}}
		k := p.currentKey()
		return sign(t, c, "secevent+jwt", k.KeyID, jose.ES256, k.Key)
	}
	first, other := set(e.idp), set(second)
	for _, step := range []struct {
		name, set string
		want      int
	}{
		{"the first IdP's SET", first, http.StatusAccepted},
		{"the second IdP's SET with the same jti", other, http.StatusAccepted},
		{"the first IdP's SET again", first, http.StatusBadRequest},
		{"the second IdP's SET again", other, http.StatusBadRequest},
	} {
		if r := e.pushSET(t, step.set, "application/secevent+jwt"); r.status != step.want {
			t.Errorf("%s: HTTP %d %v, want %d", step.name, r.status, r.body, step.want)
		}
	}
}
