package idp_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/policy"
	"github.com/xaa-idp/xaa-idp/policy/policytest"
)

// TestTokenEndpoint_DecisionCases runs the policy decision table on the
// token endpoint over HTTP: whatever policy.Decide answers, the exchange
// must answer too. The test owns the IdP's signing key (key_files), so it
// can mint each row's subject ID token itself: for a user the
// configuration does not have, for a disabled user, and without auth_time
// when the login time is unknown, none of which a login could produce.
func TestTokenEndpoint_DecisionCases(t *testing.T) {
	key, keyFile := ownedES256Key(t)

	policytest.Run(t, func(t *testing.T, cfg *policy.Config, req policy.Request) policytest.Outcome {
		c := *cfg
		c.Signing.IDTokenAlg, c.Signing.IDJAGAlg, c.Signing.KeyFiles = "ES256", "ES256", []string{keyFile}
		p := startIdP(t, &c, func(o *idp.Options) { o.Now = func() time.Time { return req.Now } })

		sub := policy.DefaultSub(req.Username)
		if u := c.User(req.Username); u != nil {
			sub = u.Sub
		}
		claims := map[string]any{
			"iss": p.URL, "sub": sub, "aud": req.ClientID,
			"iat": req.Now.Unix(), "exp": req.Now.Add(5 * time.Minute).Unix(),
		}
		if !req.AuthTime.IsZero() {
			claims["auth_time"] = req.AuthTime.Unix()
		}
		form := url.Values{
			"grant_type":           {"urn:ietf:params:oauth:grant-type:token-exchange"},
			"requested_token_type": {"urn:ietf:params:oauth:token-type:id-jag"},
			"subject_token":        {mintIDToken(t, key, p.Keys()[0].KID, jose.ES256, claims)},
			"subject_token_type":   {"urn:ietf:params:oauth:token-type:id_token"},
		}
		for k, v := range map[string]string{"audience": req.Audience, "resource": req.Resource, "scope": strings.Join(req.Scopes, " ")} {
			if v != "" {
				form.Set(k, v)
			}
		}
		var header http.Header
		switch cl := c.Client(req.ClientID); {
		case cl == nil:
			form.Set("client_id", req.ClientID)
			form.Set("client_secret", "not-registered")
		case cl.Public():
			form.Set("client_id", req.ClientID)
		default:
			header = basic(cl.ClientID, cl.ClientSecret)
		}

		resp, body := p.postToken(t, form, header)
		var o policytest.Outcome
		if resp.StatusCode == http.StatusOK {
			scope, _ := body["scope"].(string)
			o.Granted = strings.Fields(scope)
		} else {
			o.Error, _ = body["error"].(string)
			if s, ok := body["max_age"].(float64); ok {
				o.MaxAge = time.Duration(s) * time.Second
			}
		}
		events := p.Audit.Query(audit.Filter{Type: audit.TypeTokenExchange})
		if len(events) != 1 {
			t.Fatalf("%d token exchange events, want 1", len(events))
		}
		o.Rule = events[0].Rule
		return o
	})
}
