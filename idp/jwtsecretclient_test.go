package idp_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/idpclient"
)

// TestOPGrants_ClientWithSecretAndKeysMayUseAnAssertion: a configured
// client with both client_secret and jwks authenticates with either at
// every grant (docs/configuration.md, clients[]), as at the token
// exchange. Before, the code and refresh grants refused its verified
// private_key_jwt assertion with a bare invalid_client (op took the
// client for a secret one alone), and the code was used up.
func TestOPGrants_ClientWithSecretAndKeysMayUseAnAssertion(t *testing.T) {
	key, pub := clientKey()
	cfg := conformanceConfigWith(t, "clients:\n", "clients:\n  - client_id: jwt-client\n    client_secret: jwt-secret\n    redirect_uris: [http://127.0.0.1/callback]\n    token_exchange: true\n    jwks: "+pub+"\n")
	p := &jwtClientIdP{testIdP: startIdP(t, cfg), key: key}
	tok, err := idpclient.Login(context.Background(), idpclient.LoginOptions{
		Issuer: p.URL, ClientID: "jwt-client", Username: "alice", Password: "alice-pw", Scopes: []string{"openid", "offline_access"},
		ClientAssertion: p.assertion(t, p.key, p.URL, "login", time.Now().Add(time.Minute)),
	})
	if err != nil {
		t.Fatalf("code grant with private_key_jwt: %v", err)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken()},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {p.assertion(t, p.key, p.URL, "refresh", time.Now().Add(time.Minute))}}
	if resp, body := p.postToken(t, form, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh grant with private_key_jwt: %s %v", resp.Status, body)
	}
	if _, err := idpclient.Login(context.Background(), idpclient.LoginOptions{
		Issuer: p.URL, ClientID: "jwt-client", ClientSecret: "jwt-secret", Username: "alice", Password: "alice-pw", Scopes: []string{"openid"},
	}); err != nil {
		t.Fatalf("code grant with the secret: %v", err)
	}
}
