package idp_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestExchange_KeyClientWithEmptyBasicPasswordIsRefused: a client
// registered with keys and no secret authenticates with private_key_jwt
// alone (docs/http.md, "Client authentication": Basic with an empty
// password is the method none, of a public client, which has no jwks).
// Those credentials are none for it: a client secret compared
// with its missing one would match, and anyone who knows its client_id
// would get ID-JAGs in its name.
func TestExchange_KeyClientWithEmptyBasicPasswordIsRefused(t *testing.T) {
	p := startJWTClientIdP(t)
	idToken := p.loginAlice(t)
	form := exchangeForm(idToken)

	resp, body := p.postToken(t, form, basic("jwt-client", ""))
	checkOAuthError(t, resp, body, http.StatusUnauthorized, "invalid_client")

	// The same exchange with a client assertion is granted: the refusal
	// was of the credentials, not of the token or the request.
	form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
	form.Set("client_assertion", p.assertion(t, p.key, p.URL, "empty-basic-control", time.Now().Add(time.Minute)))
	if resp, body := p.postToken(t, form, noAuth); resp.StatusCode != http.StatusOK || !strings.HasPrefix(body["access_token"].(string), "ey") {
		t.Fatalf("the exchange with a client assertion: HTTP %d %v, want 200 with an ID-JAG", resp.StatusCode, body)
	}
}
