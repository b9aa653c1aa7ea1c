package demo_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// TestStack_PrivateKeyJWTClientAuthenticatesWithItsKeys: a client that
// authenticates at the IdP with private_key_jwt (its jwks, no secret) is
// registered at the demo authorization servers with those keys, as a
// client with a secret is with its secret (docs/http.md, "Demo
// authorization servers"): its client assertion is accepted there, and
// its client_id alone, which proves nothing, is not. It was registered as
// a public client: its assertion was refused ("only clients with a Client
// ID Metadata Document can") and its bare client_id redeemed its ID-JAGs.
func TestStack_PrivateKeyJWTClientAuthenticatesWithItsKeys(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwk, err := json.Marshal(jose.JSONWebKey{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"})
	if err != nil {
		t.Fatal(err)
	}
	as, _ := startNotes(t, `
users:
  - {username: alice, password: alice, sub: u-alice}
clients:
  - {client_id: keyed, jwks: {keys: [`+string(jwk)+`]}, token_exchange: true, redirect_uris: [http://127.0.0.1/callback]}
  - {client_id: both, client_secret: both-secret, jwks: {keys: [`+string(jwk)+`]}, token_exchange: true, redirect_uris: [http://127.0.0.1/callback]}
mcp_servers:
  - id: notes
    issuer: http://127.0.0.1:9101
    resources: [http://127.0.0.1:9201/mcp]
    scopes: [notes.read]
    clients: {keyed: keyed-at-notes, both: both-at-notes}
    access: [{users: [alice], scopes: [notes.read]}]
`)
	assertion := func(t *testing.T, k *ecdsa.PrivateKey, client ...string) string {
		t.Helper()
		id := "keyed-at-notes"
		if len(client) > 0 {
			id = client[0]
		}
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: k, KeyID: "k1"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		a, err := jwt.Signed(signer).Claims(map[string]any{
			"iss": id, "sub": id, "aud": "http://127.0.0.1:9101",
			"jti": rand.Text(), "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
		}).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	redeem := func(t *testing.T, extra url.Values, client ...string) (int, map[string]any) {
		t.Helper()
		id := "keyed-at-notes"
		if len(client) > 0 {
			id = client[0]
		}
		form := url.Values{
			"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"},
			"assertion":  {as.jag(t, as.idp, "u-alice", "", id, "notes.read")},
		}
		for k, v := range extra {
			form[k] = v
		}
		resp, err := http.Post(as.url+"/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, body
	}
	const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

	status, body := redeem(t, url.Values{"client_assertion_type": {assertionType}, "client_assertion": {assertion(t, key)}})
	wantGrant(t, "a client assertion signed with the client's key", status, body, "")

	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	status, body = redeem(t, url.Values{"client_assertion_type": {assertionType}, "client_assertion": {assertion(t, other)}})
	wantGrant(t, "a client assertion signed with another key", status, body, "invalid_client")

	status, body = redeem(t, url.Values{"client_id": {"keyed-at-notes"}})
	wantGrant(t, "client_id alone", status, body, "invalid_client")
	if desc, _ := body["error_description"].(string); !strings.Contains(desc, "private_key_jwt") {
		t.Errorf("client_id alone: description %q does not say how the client authenticates", desc)
	}

	// A client with a secret and keys authenticates with either, as at
	// the IdP.
	status, body = redeem(t, url.Values{"client_assertion_type": {assertionType}, "client_assertion": {assertion(t, key, "both-at-notes")}}, "both-at-notes")
	wantGrant(t, "a client with a secret too, by its assertion", status, body, "")
	status, body = redeem(t, url.Values{"client_id": {"both-at-notes"}, "client_secret": {"both-secret"}}, "both-at-notes")
	wantGrant(t, "a client with keys too, by its secret", status, body, "")
}
