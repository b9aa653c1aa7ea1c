package idp_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
)

// TestAudit_RefusedClientAssertionNamesItsClient: a private_key_jwt client
// names itself in its assertion's iss alone (RFC 7523 section 3); a refused
// assertion (expired, replayed, for another audience) is audited with that
// client_id, as a wrong client_secret is with the Basic user, so that the
// audit API's client= filter finds the client's failed authentications.
// Until 2026-12-06 these events had no client_id.
func TestAudit_RefusedClientAssertionNamesItsClient(t *testing.T) {
	p := startJWTClientIdP(t)
	idToken := p.loginAlice(t)
	expired := p.assertion(t, p.key, p.URL, "old", time.Now().Add(-time.Hour))
	rows := []struct {
		name, grant string
		form        url.Values
	}{
		{"token exchange", audit.TypeTokenExchange, exchangeForm(idToken)},
		{"code grant", audit.TypeToken, url.Values{"grant_type": {"authorization_code"}, "code": {"c"}, "redirect_uri": {"http://127.0.0.1/callback"}}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			r.form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
			r.form.Set("client_assertion", expired)
			resp, body := p.postToken(t, r.form, nil)
			if resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" {
				t.Fatalf("expired assertion: %d %v, want 401 invalid_client", resp.StatusCode, body)
			}
			evs := p.Audit.Query(audit.Filter{Type: r.grant, Client: "jwt-client", Outcome: audit.Error})
			if len(evs) != 1 || evs[0].Error != "invalid_client" {
				t.Fatalf("audit events of type %s for client jwt-client: %+v, want the refusal", r.grant, evs)
			}
		})
	}
}
