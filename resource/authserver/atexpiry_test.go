package authserver_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// TestIntrospection_AnAccessTokenIsInactiveFromItsExp: RFC 7662 §2.2 has
// active mean "before its expiration time", and RFC 7519 §4.1.4 refuses a
// JWT on or after its exp. The authorization server judged its own access
// tokens, on its own clock, with the 30 s skew it allows the IdP's
// ID-JAGs: for 30 s after exp introspection answered active: true with an
// exp in the past, and the MCP server took the token. The IdP's access
// tokens are inactive from their exp on, and so are these.
func TestIntrospection_AnAccessTokenIsInactiveFromItsExp(t *testing.T) {
	e := newEnv(t, func(c *authserver.Config) {
		c.ResourceServers = map[string]string{resourceServer: resourceServerSecret}
	})
	exp := e.clock.Now().Add(time.Hour)
	token := e.accessToken(t, "issues.read")
	rs := &[2]string{resourceServer, resourceServerSecret}
	e.clock.Advance(exp.Add(-time.Second).Sub(e.clock.Now()))
	if r := e.introspect(t, rs, url.Values{"token": {token}}); r.body["active"] != true {
		t.Fatalf("a second before exp: HTTP %d %s, want active", r.status, r.raw)
	}
	for _, after := range []time.Duration{0, 30 * time.Second} {
		e.clock.Advance(exp.Add(after).Sub(e.clock.Now()))
		if r := e.introspect(t, rs, url.Values{"token": {token}}); r.status != 200 || r.body["active"] != false {
			t.Errorf("%s after exp: HTTP %d %s, want active false", after, r.status, r.raw)
		}
	}
}
