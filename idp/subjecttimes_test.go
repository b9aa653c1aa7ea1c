package idp_test

import (
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/idp"
)

// TestExchange_ASubjectTimeRefusalSaysTheIdPsNow: a subject ID token
// refused for its exp, iat, nbf or auth_time said the claim's time but
// not the time it was judged at, nor on which clock: under a clock an
// admin moved ("serve --clock", PUT /admin/api/clock), "expired at
// 2026-12-06T11:59:29Z" read as wrong to whoever looked at their watch.
// Each says the IdP's now and the 30 s skew, as the demo authorization
// servers' ID-JAG refusals do; each is right at one second past the
// skew, and the token one second inside it is taken.
func TestExchange_ASubjectTimeRefusalSaysTheIdPsNow(t *testing.T) {
	key, keyFile := ownedES256Key(t)
	cfg := conformanceConfig(t)
	cfg.Signing.IDTokenAlg, cfg.Signing.IDJAGAlg, cfg.Signing.KeyFiles = "ES256", "ES256", []string{keyFile}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) // the IdP's clock, set and frozen
	p := startIdP(t, cfg, func(o *idp.Options) { o.Now = func() time.Time { return now } })
	kid := p.Keys()[0].KID
	n := now.Unix()
	valid := map[string]any{"iss": p.URL, "sub": "u-alice", "aud": "mcp-client", "iat": n, "exp": n + 600, "auth_time": n}
	judged := "now 2030-01-01T00:00:00Z on the IdP's clock, skew 30s"
	for _, c := range []struct {
		claim       string
		past, taken int64
		want        string
	}{
		{"exp", n - 31, n - 30, "expired at 2029-12-31T23:59:29Z (exp; " + judged + ")"},
		{"iat", n + 31, n + 30, "issued in the future, at 2030-01-01T00:00:31Z (iat; " + judged + ")"},
		{"nbf", n + 31, n + 30, "not valid before 2030-01-01T00:00:31Z (nbf; " + judged + ")"},
		{"auth_time", n + 31, n + 30, "login is in the future, at 2030-01-01T00:00:31Z (auth_time; " + judged + ")"},
	} {
		claims := maps.Clone(valid)
		claims[c.claim] = c.taken
		if resp, body := p.postToken(t, exchangeForm(mintIDToken(t, key, kid, jose.ES256, claims)), basicS1); resp.StatusCode != http.StatusOK {
			t.Errorf("%s %d s from now, within the skew: HTTP %d %v, want 200", c.claim, c.taken-n, resp.StatusCode, body)
		}
		claims[c.claim] = c.past
		resp, body := p.postToken(t, exchangeForm(mintIDToken(t, key, kid, jose.ES256, claims)), basicS1)
		if d, _ := body["error_description"].(string); resp.StatusCode != http.StatusBadRequest || !strings.Contains(d, c.want) {
			t.Errorf("%s %d s from now: HTTP %d %q, want 400 saying %q", c.claim, c.past-n, resp.StatusCode, d, c.want)
		}
	}
}
