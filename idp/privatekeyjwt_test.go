package idp_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/policy"
)

// TestExchange_PrivateKeyJWT authenticates the token exchange with a
// client assertion (RFC 7523 section 2.2), the method the ID-JAG draft's
// examples use, signed by a key registered in the client's jwks.
func TestExchange_PrivateKeyJWT(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})

	base, err := os.ReadFile("testdata/conformance.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(base), "clients:\n", "clients:\n  - client_id: jwt-client\n    redirect_uris: [http://127.0.0.1/callback]\n    token_exchange: true\n    jwks: "+string(pub)+"\n", 1)
	text = strings.Replace(text, "      pub-client: pub-client-at-chat\n", "      pub-client: pub-client-at-chat\n      jwt-client: jwt-client-at-chat\n", 1)
	cfg, err := policy.Parse([]byte(text), "conformance+jwt.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	// The code redemption authenticates with an assertion too (zitadel's
	// path), so the ID token is issued to jwt-client.
	tok, err := idpclient.Login(context.Background(), idpclient.LoginOptions{
		Issuer: p.URL, ClientID: "jwt-client", Username: "alice", Password: "alice-pw", Scopes: []string{"openid"},
		ClientAssertion: mintIDToken(t, key, "k1", jose.ES256, map[string]any{
			"iss": "jwt-client", "sub": "jwt-client", "aud": p.URL, "jti": "login",
			"iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix(),
		}),
	})
	if err != nil {
		t.Fatalf("login with private_key_jwt: %v", err)
	}
	idToken := tok.IDToken()

	assertion := func(k *ecdsa.PrivateKey, kid, aud, jti string, exp time.Time) string {
		return mintIDToken(t, k, kid, jose.ES256, map[string]any{
			"iss": "jwt-client", "sub": "jwt-client", "aud": aud, "jti": jti,
			"iat": time.Now().Unix(), "exp": exp.Unix(),
		})
	}
	in := time.Now().Add(time.Minute)
	rows := []struct {
		name      string
		assertion string
		status    int
		code      string
	}{
		{"valid, aud = token endpoint", assertion(key, "k1", p.URL+"/oauth/token", "j1", in), http.StatusOK, ""},
		{"valid, aud = issuer", assertion(key, "k1", p.URL, "j2", in), http.StatusOK, ""},
		{"replayed jti", assertion(key, "k1", p.URL, "j2", in), http.StatusUnauthorized, "invalid_client"},
		{"signed by another key", assertion(other, "k1", p.URL, "j3", in), http.StatusUnauthorized, "invalid_client"},
		{"for another audience", assertion(key, "k1", "https://elsewhere.example", "j4", in), http.StatusUnauthorized, "invalid_client"},
		{"expired", assertion(key, "k1", p.URL, "j5", time.Now().Add(-time.Hour)), http.StatusUnauthorized, "invalid_client"},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			form := exchangeForm(idToken)
			form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
			form.Set("client_assertion", r.assertion)
			resp, body := p.postToken(t, form, nil)
			if resp.StatusCode != r.status || (r.code != "" && body["error"] != r.code) {
				t.Fatalf("status %d body %v, want %d %s", resp.StatusCode, body, r.status, r.code)
			}
			if r.status == http.StatusOK {
				_, claims := p.verifyJWT(t, body["access_token"].(string))
				if claims["client_id"] != "jwt-client-at-chat" || claims["sub"] != "u-alice" {
					t.Errorf("ID-JAG claims %v", claims)
				}
			} else if body["access_token"] != nil {
				t.Errorf("a refusal carries a token: %v", body)
			}
		})
	}
}
