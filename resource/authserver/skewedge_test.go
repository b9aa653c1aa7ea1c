package authserver_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/internal/cimd"
	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// TestReplay_TheLastInstantOfTheSkewRedeemsOnce: an ID-JAG, and a client
// assertion, are accepted up to and including exp + skew, but their jti
// was kept only until that instant, exclusive: one used at exactly exp +
// skew (a frozen clock makes that instant last) was forgotten as it was
// recorded, and redeemed again and again. Each is kept a second longer,
// as the IdP keeps its client assertions' and DPoP proofs'.
func TestReplay_TheLastInstantOfTheSkewRedeemsOnce(t *testing.T) {
	t.Run("ID-JAG", func(t *testing.T) {
		e := newEnv(t)
		jag := e.jag(t, nil)
		e.clock.Advance(5*time.Minute + 30*time.Second) // exp + skew
		if r := e.post(t, grant(jag)); r.status != http.StatusOK {
			t.Fatalf("redeemed at exp + skew: HTTP %d %s", r.status, r.raw)
		}
		r := e.post(t, grant(jag))
		if r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" || !strings.Contains(r.str("error_description"), "already redeemed") {
			t.Errorf("redeemed again at exp + skew: HTTP %d %s, want invalid_grant already redeemed", r.status, r.raw)
		}
	})
	t.Run("client assertion", func(t *testing.T) {
		m := newMetadataClients(t)
		e := newEnv(t, func(c *authserver.Config) {
			c.CIMD = cimd.New(cimd.DefaultConfig(), &cimd.Options{Timeout: time.Second})
			c.Clients[m.jwt] = ""
		})
		assertion := m.assertion(t, e.asURL, e.clock.Now(), nil)
		e.clock.Advance(time.Minute + 30*time.Second) // its exp + skew
		jag := func() string { return e.jag(t, func(c map[string]any) { c["client_id"] = m.jwt }) }
		if r := e.post(t, metadataGrant(jag(), "", assertion)); r.status != http.StatusOK {
			t.Fatalf("the client assertion at exp + skew: HTTP %d %s", r.status, r.raw)
		}
		r := e.post(t, metadataGrant(jag(), "", assertion))
		if r.status != http.StatusUnauthorized || r.str("error") != "invalid_client" || !strings.Contains(r.str("error_description"), "already used") {
			t.Errorf("the client assertion used again at exp + skew: HTTP %d %s, want invalid_client already used", r.status, r.raw)
		}
	})
}

// TestReplay_ASETAtTheLastInstantOfItsAgeIsReceivedOnce: a SET is taken
// until its iat is 10 minutes old, and one issued up to the skew ahead;
// its jti was kept for 10 minutes and the skew from its receipt, so one
// received with an iat the whole skew ahead was forgotten at the very
// instant it was last acceptable, and taken again there. It is kept a
// second longer, as the ID-JAGs' jti are.
func TestReplay_ASETAtTheLastInstantOfItsAgeIsReceivedOnce(t *testing.T) {
	e := newEnv(t)
	k := e.idp.currentKey()
	c := e.setClaims()
	c["iat"] = e.clock.Now().Add(30 * time.Second).Unix()
	set := sign(t, c, "secevent+jwt", k.KeyID, jose.ES256, k.Key)
	if r := e.pushSET(t, set, "application/secevent+jwt"); r.status != http.StatusAccepted {
		t.Fatalf("the SET: HTTP %d %v", r.status, r.body)
	}
	e.clock.Advance(10*time.Minute + 30*time.Second) // its iat is 10 minutes old
	r := e.pushSET(t, set, "application/secevent+jwt")
	if d, _ := r.body["description"].(string); r.status != http.StatusBadRequest || !strings.Contains(d, "received before") {
		t.Errorf("the SET again, its iat 10 minutes old: HTTP %d %v, want 400 received before", r.status, r.body)
	}
}
