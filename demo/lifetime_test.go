package demo_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/xaa-idp/xaa-idp/demo"
	"github.com/xaa-idp/xaa-idp/policy"
	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// TestStack_AuthorizationServerTakesEveryIDJAGLifetimeTheIdPMayIssue: the
// demo's authorization servers refuse an ID-JAG that lives longer than an
// hour (authserver.DefaultMaxIDJAGLifetime), or than the IdP's
// lifetimes.id_jag when that is longer: every ID-JAG the IdP issues
// redeems, a longer-lived one does not.
func TestStack_AuthorizationServerTakesEveryIDJAGLifetimeTheIdPMayIssue(t *testing.T) {
	for _, c := range []struct {
		configured, bound time.Duration
		says              string
	}{
		{0, authserver.DefaultMaxIDJAGLifetime, "longer than the 1h"},
		{2 * time.Hour, 2 * time.Hour, "longer than the 2h"},
	} {
		t.Run(c.bound.String(), func(t *testing.T) {
			idp, signer := fakeIdP(t)
			cfg := demoConfig(t)
			if c.configured != 0 {
				cfg.Lifetimes.IDJAG = policy.Duration(c.configured)
			}
			tracker := cfg.Server("tracker")
			stack, err := demo.Stack(cfg, idp.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			srv := serveAuthorizationServer(t, stack, "tracker")
			now := time.Now()
			for i, tt := range []struct {
				lifetime time.Duration
				ok       bool
			}{
				{c.bound, true},
				{c.bound + time.Second, false},
			} {
				jag, err := jwt.Signed(signer).Claims(map[string]any{
					"iss": idp.URL, "sub": "00u-alice", "aud": tracker.Issuer,
					"client_id": "mcp-client-at-tracker", "resource": tracker.Resources[0], "scope": "issues.read",
					"jti": "jti-" + string(rune('a'+i)), "iat": now.Unix(), "exp": now.Add(tt.lifetime).Unix(),
				}).Serialize()
				if err != nil {
					t.Fatal(err)
				}
				status, body := postForm(t, srv.URL+"/token", "mcp-client-at-tracker", "mcp-secret",
					url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {jag}})
				switch {
				case tt.ok && status != http.StatusOK:
					t.Errorf("lifetime %s: HTTP %d %v, want an access token", tt.lifetime, status, body)
				case !tt.ok && (status != http.StatusBadRequest || body["error"] != "invalid_grant" || !strings.Contains(body["error_description"].(string), c.says)):
					t.Errorf("lifetime %s: HTTP %d %v, want invalid_grant saying %q", tt.lifetime, status, body, c.says)
				}
			}
		})
	}
}
