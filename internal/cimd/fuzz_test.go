package cimd_test

import (
	"slices"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/internal/cimd"
)

// FuzzParseDocument feeds arbitrary documents to the parser: it never
// panics, and whatever it accepts keeps the rules of a metadata document.
func FuzzParseDocument(f *testing.F) {
	const id = "https://app.example/client.json"
	f.Add(id, []byte(`{"client_id":"https://app.example/client.json","redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"none"}`))
	f.Add(id, []byte(`{"client_id":"https://app.example/client.json","redirect_uris":["https://app.example/cb"],"token_endpoint_auth_method":"private_key_jwt","jwks":{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}}`))
	f.Add(id, []byte(`{"client_id":"https://app.example/client.json","redirect_uris":["x"],"token_endpoint_auth_method":"private_key_jwt","jwks_uri":"https://app.example/jwks"}`))
	f.Add(id, []byte(`{"client_secret":"x"}`))
	f.Add(id, []byte(`null`))
	f.Add(id, []byte(`{"jwks":{"keys":[{"kty":"oct","k":"AA"}]}}`))
	f.Fuzz(func(t *testing.T, clientID string, doc []byte) {
		c, err := cimd.ParseDocument(clientID, doc)
		if err != nil {
			return
		}
		if c.ClientID != clientID || len(c.RedirectURIs) == 0 {
			t.Fatalf("accepted %+v", c)
		}
		switch c.TokenEndpointAuthMethod {
		case cimd.AuthNone:
		case cimd.AuthPrivateKeyJWT:
			if (len(c.Keys) == 0) == (c.JWKSURI == "") {
				t.Fatalf("private_key_jwt with keys %d and jwks_uri %q", len(c.Keys), c.JWKSURI)
			}
			if slices.ContainsFunc(c.Keys, func(k jose.JSONWebKey) bool { return !k.IsPublic() }) {
				t.Fatal("a private or symmetric key was accepted")
			}
		default:
			t.Fatalf("method %q accepted", c.TokenEndpointAuthMethod)
		}
	})
}
