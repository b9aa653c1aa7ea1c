package idp_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/idp"
)

// TestPrivateKeyJWT_ATimeRefusalSaysWhenAndOnWhichClock: a client
// assertion refused for its exp, iat or nbf was described in go-jose's
// words ("go-jose/go-jose/jwt: validation failed, token is expired
// (exp)"): neither the time it named, nor the time it was judged at, nor
// that the IdP judges it on the wall clock, not on the IdP's clock (which
// an admin may have moved: here two days back), so a client could not
// tell its own clock's fault from the IdP's. The demo authorization
// servers say "expired at ... (now ...)".
func TestPrivateKeyJWT_ATimeRefusalSaysWhenAndOnWhichClock(t *testing.T) {
	p := startJWTClientIdP(t, func(o *idp.Options) {
		o.Now = func() time.Time { return time.Now().Add(-48 * time.Hour) }
	})
	idToken := p.loginAlice(t)
	now := time.Now().Unix()
	stamp := func(s int64) string { return time.Unix(s, 0).UTC().Format(time.RFC3339) }
	for i, c := range []struct {
		claim string
		value int64
		want  []string
	}{
		{"exp", now - 40, []string{"expired at " + stamp(now-40), "exp", "wall clock", "30s"}},
		{"iat", now + 40, []string{"in the future", stamp(now + 40), "iat", "wall clock", "30s"}},
		{"nbf", now + 40, []string{"not valid before " + stamp(now+40), "nbf", "wall clock", "30s"}},
		{"exp", now + 2*3600, []string{"too far ahead", stamp(now + 2*3600), "wall clock"}},
	} {
		claims := map[string]any{"iss": "jwt-client", "sub": "jwt-client", "aud": p.URL, "jti": fmt.Sprint("t", i), "iat": now, "exp": now + 60}
		claims[c.claim] = c.value
		form := exchangeForm(idToken)
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", mintIDToken(t, p.key, "k1", jose.ES256, claims))
		resp, body := p.postToken(t, form, nil)
		d, _ := body["error_description"].(string)
		if resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Errorf("%s %s: HTTP %d %v, want 401 invalid_client", c.claim, stamp(c.value), resp.StatusCode, body)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(d, w) {
				t.Errorf("%s %s: %q, want it to say %q", c.claim, stamp(c.value), d, w)
			}
		}
		_, after, _ := strings.Cut(d, "now ")
		if at, err := time.Parse(time.RFC3339, strings.TrimRight(strings.Fields(after + " x")[0], ",;)")); err != nil || at.Sub(time.Unix(now, 0)).Abs() > 5*time.Second {
			t.Errorf("%s %s: %q, want it to say the wall clock's now (%s)", c.claim, stamp(c.value), d, stamp(now))
		}
		if strings.Contains(d, "go-jose") {
			t.Errorf("%s: %q passes go-jose's words on", c.claim, d)
		}
	}
}
