package app_test

import (
	"context"
	"errors"
	"testing"

	"github.com/xaa-idp/xaa-idp/idpclient"
)

// twoTenantsYAML: tenant b answers a bad subject ID token invalid_grant,
// tenant a keeps the default, invalid_request.
const twoTenantsYAML = `
tenants:
  - id: a
    users: [{username: ann, password: ann-pw, admin: true}]
    clients: [{client_id: app, client_secret: a-secret, token_exchange: true, redirect_uris: [http://127.0.0.1/callback]}]
    mcp_servers:
      - {id: files, issuer: https://as.files.example, resources: [https://mcp.files.example/mcp], scopes: [files.read],
         clients: {app: a-app}, access: [{users: [ann], scopes: [files.read]}]}
  - id: b
    exchange: {subject_token_error: invalid_grant}
    users: [{username: ann, password: ann-pw, admin: true}]
    clients: [{client_id: app, client_secret: b-secret, token_exchange: true, redirect_uris: [http://127.0.0.1/callback]}]
    mcp_servers:
      - {id: files, issuer: https://as.files.example, resources: [https://mcp.files.example/mcp], scopes: [files.read],
         clients: {app: b-app}, access: [{users: [ann], scopes: [files.read]}]}
`

// TestTenants_ForeignIDTokenGetsTheTenantsSubjectTokenError: an ID token of
// one tenant at another's token exchange gets the receiving tenant's
// configured bad-subject error, invalid_request by default and
// invalid_grant under subject_token_error: invalid_grant (the product
// contract, section 6, Isolation), though the user and client have the
// same names in both.
func TestTenants_ForeignIDTokenGetsTheTenantsSubjectTokenError(t *testing.T) {
	store, _ := openTenantsFile(t, []byte(twoTenantsYAML))
	_, servers, _ := startTenantsOf(t, store)
	ctx := context.Background()
	secret := map[string]string{"a": "a-secret", "b": "b-secret"}
	idToken := map[string]string{}
	for id, srv := range servers {
		tok, err := idpclient.Login(ctx, idpclient.LoginOptions{Issuer: srv.Issuer(), ClientID: "app", ClientSecret: secret[id], Username: "ann", Password: "ann-pw"})
		if err != nil {
			t.Fatalf("%s: login: %v", id, err)
		}
		idToken[id] = tok.IDToken()
	}
	for _, c := range []struct{ from, at, want string }{
		{"a", "b", "invalid_grant"},
		{"b", "a", "invalid_request"},
	} {
		_, err := idpclient.Exchange(ctx, idpclient.ExchangeOptions{Issuer: servers[c.at].Issuer(), ClientID: "app", ClientSecret: secret[c.at],
			SubjectToken: idToken[c.from], Audience: "https://as.files.example", Resource: "https://mcp.files.example/mcp"})
		var oe *idpclient.Error
		if !errors.As(err, &oe) || oe.Code != c.want || oe.Status != 400 {
			t.Errorf("ID token of %s at %s: %v; want 400 %s", c.from, c.at, err, c.want)
		}
	}
}
