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
)

// TestStack_AuthorizationServerTakesEveryIDJAGLifetimeTheIdPMayIssue: the
// demo's authorization servers accept an ID-JAG as long-lived as
// lifetimes.id_jag may make them (policy.MaxIDJAGLifetime), and refuse a
// longer one, which no configuration of the IdP issues.
func TestStack_AuthorizationServerTakesEveryIDJAGLifetimeTheIdPMayIssue(t *testing.T) {
	idp, signer := fakeIdP(t)
	cfg := demoConfig(t)
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
		{policy.MaxIDJAGLifetime, true},
		{policy.MaxIDJAGLifetime + time.Second, false},
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
		case !tt.ok && (status != http.StatusBadRequest || body["error"] != "invalid_grant" || !strings.Contains(body["error_description"].(string), "longer than the 1h")):
			t.Errorf("lifetime %s: HTTP %d %v, want invalid_grant naming the bound", tt.lifetime, status, body)
		}
	}
}
