package idp_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestPrivateKeyJWT_EdDSAAtEveryGrant: discovery announces EdDSA among
// token_endpoint_auth_signing_alg_values_supported, and the token
// exchange took an EdDSA client assertion, but the code and refresh
// grants answered it 400 invalid_grant "signature algorithm not
// supported": zitadel verified the assertion a second time with RS256,
// ES256 and PS256 alone. An EdDSA client now redeems its code,
// refreshes and exchanges; so does one whose assertions name the same
// signature Ed25519, RFC 9864's fully-specified name, which
// openid-client (oauth4webapi) and jose write for an Ed25519 key and
// which every grant refused ("unexpected signature algorithm").
func TestPrivateKeyJWT_EdDSAAtEveryGrant(t *testing.T) {
	for _, alg := range []jose.SignatureAlgorithm{jose.EdDSA, "Ed25519"} {
		t.Run(string(alg), func(t *testing.T) { testEd25519ClientAtEveryGrant(t, alg) })
	}
}

func testEd25519ClientAtEveryGrant(t *testing.T, alg jose.SignatureAlgorithm) {
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: pub, KeyID: "e1", Algorithm: "EdDSA", Use: "sig"}}})
	base, err := os.ReadFile("testdata/conformance.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(base), "clients:\n", "clients:\n  - client_id: ed-client\n    redirect_uris: [http://127.0.0.1/callback]\n    token_exchange: true\n    jwks: "+string(set)+"\n", 1)
	text = strings.Replace(text, "      pub-client: pub-client-at-chat\n", "      pub-client: pub-client-at-chat\n      ed-client: ed-client-at-chat\n", 1)
	cfg, err := policy.Parse([]byte(text), "conformance+eddsa.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	sign := func(key ed25519.PrivateKey, aud, jti string) string {
		input := b64JSON(t, map[string]any{"alg": string(alg), "kid": "e1", "typ": "JWT"}) + "." + b64JSON(t, map[string]any{
			"iss": "ed-client", "sub": "ed-client", "aud": aud, "jti": jti,
			"iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix(),
		})
		return input + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(key, []byte(input)))
	}
	assertion := func(aud, jti string) url.Values {
		return url.Values{
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
			"client_assertion":      {sign(key, aud, jti)},
		}
	}
	with := func(form, more url.Values) url.Values {
		for k, v := range more {
			form[k] = v
		}
		return form
	}

	code, verifier := codeAt(t, p, "ed-client")
	resp, tok := p.postToken(t, with(url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {callback}, "code_verifier": {verifier}}, assertion(p.URL, "code")), noAuth)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("code grant with an EdDSA client assertion: %d %v", resp.StatusCode, tok)
	}
	resp, tok = p.postToken(t, with(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}},
		assertion(p.URL+"/oauth/token", "refresh")), noAuth)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh grant with an EdDSA client assertion: %d %v", resp.StatusCode, tok)
	}
	resp, body := p.postToken(t, with(exchangeForm(tok["id_token"].(string)), assertion(p.URL, "exchange")), noAuth)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token exchange with an EdDSA client assertion: %d %v", resp.StatusCode, body)
	}
	// The assertion is still checked: one signed by another key is refused.
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	bad := sign(other, p.URL, "bad")
	resp, body = p.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {bad}}, noAuth)
	checkOAuthError(t, resp, body, http.StatusUnauthorized, "invalid_client")

	// Revocation announces the same algorithms (and either audience):
	// zitadel verified the assertion there a second time, refusing an
	// EdDSA one, and one for the token endpoint, with 400 invalid_grant.
	rt := tok["refresh_token"].(string)
	resp, err = http.PostForm(p.URL+"/revoke", with(url.Values{"token": {rt}}, assertion(p.URL+"/oauth/token", "revoke")))
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revocation with an EdDSA client assertion: %d %s", resp.StatusCode, answer)
	}
	resp, body = p.postToken(t, with(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, assertion(p.URL, "after-revoke")), noAuth)
	checkOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
}
