package idp_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/policy"
)

// jwtClientIdP is the conformance IdP plus "jwt-client", a client that
// authenticates with private_key_jwt (key k1), connected to the chat
// server as jwt-client-at-chat.
type jwtClientIdP struct {
	*testIdP
	key *ecdsa.PrivateKey
}

// clientKey is a P-256 key for a client's private_key_jwt and the JWK set,
// as JSON, that publishes it as k1 in clients[].jwks.
func clientKey() (*ecdsa.PrivateKey, string) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	return key, string(pub)
}

func startJWTClientIdP(t testing.TB, tweak ...func(*idp.Options)) *jwtClientIdP {
	t.Helper()
	key, pub := clientKey()
	base, err := os.ReadFile("testdata/conformance.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(base), "clients:\n", "clients:\n  - client_id: jwt-client\n    redirect_uris: [http://127.0.0.1/callback]\n    token_exchange: true\n    jwks: "+pub+"\n", 1)
	text = strings.Replace(text, "      pub-client: pub-client-at-chat\n", "      pub-client: pub-client-at-chat\n      jwt-client: jwt-client-at-chat\n", 1)
	cfg, err := policy.Parse([]byte(text), "conformance+jwt.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return &jwtClientIdP{testIdP: startIdP(t, cfg, tweak...), key: key}
}

// assertion is a client assertion of jwt-client signed by k, kid k1.
func (p *jwtClientIdP) assertion(t testing.TB, k *ecdsa.PrivateKey, aud, jti string, exp time.Time) string {
	t.Helper()
	return mintIDToken(t, k, "k1", jose.ES256, map[string]any{
		"iss": "jwt-client", "sub": "jwt-client", "aud": aud, "jti": jti,
		"iat": time.Now().Unix(), "exp": exp.Unix(),
	})
}

// loginAlice logs alice in through jwt-client; the code redemption
// authenticates with an assertion too (zitadel's path), so the ID token
// is issued to jwt-client.
func (p *jwtClientIdP) loginAlice(t testing.TB) string {
	t.Helper()
	tok, err := idpclient.Login(context.Background(), idpclient.LoginOptions{
		Issuer: p.URL, ClientID: "jwt-client", Username: "alice", Password: "alice-pw", Scopes: []string{"openid"},
		ClientAssertion: p.assertion(t, p.key, p.URL, "login", time.Now().Add(time.Minute)),
	})
	if err != nil {
		t.Fatalf("login with private_key_jwt: %v", err)
	}
	return tok.IDToken()
}
