package idp_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestPrivateKeyJWT_HeaderAndKeyRulesRefuseTheAssertion: a client
// assertion whose crit names an extension the IdP does not understand is
// refused (RFC 7515 section 4.1.11), saying so: with alg Ed25519 it
// authenticated the client, with another alg the refusal said the
// signature did not verify. A registered key that declares its alg (RFC
// 7517 section 4.4) or its use (section 4.2) verifies only assertions of
// that alg, as signatures: an RSA key registered for RS256 verified a
// PS256 assertion, and an "enc" key any, where the demo authorization
// servers refuse both. EdDSA and Ed25519 (RFC 9864) are one signature.
func TestPrivateKeyJWT_HeaderAndKeyRulesRefuseTheAssertion(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	encKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	edPub, ed, _ := ed25519.GenerateKey(rand.Reader)
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &ec.PublicKey, KeyID: "ec"},
		{Key: &encKey.PublicKey, KeyID: "enc", Use: "enc"},
		{Key: &rk.PublicKey, KeyID: "rsa", Algorithm: "RS256"},
		{Key: edPub, KeyID: "ed", Algorithm: "EdDSA"},
	}})
	base, err := os.ReadFile("testdata/conformance.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(base), "clients:\n", "clients:\n  - client_id: jwt-client\n    redirect_uris: [http://127.0.0.1/callback]\n    token_exchange: true\n    jwks: "+string(set)+"\n", 1)
	text = strings.Replace(text, "      pub-client: pub-client-at-chat\n", "      pub-client: pub-client-at-chat\n      jwt-client: jwt-client-at-chat\n", 1)
	cfg, err := policy.Parse([]byte(text), "conformance+keys.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	idToken := p.login(t, "mcp-client", "s1", "alice", "alice-pw").IDToken()
	n := 0
	sign := func(key crypto.Signer, alg jose.SignatureAlgorithm, kid string, extra map[string]any) string {
		n++
		header := map[string]any{"alg": string(alg), "kid": kid, "typ": "JWT"}
		for k, v := range extra {
			header[k] = v
		}
		input := b64JSON(t, header) + "." + b64JSON(t, map[string]any{
			"iss": "jwt-client", "sub": "jwt-client", "aud": p.URL, "jti": "j" + string(rune('a'+n)),
			"iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix(),
		})
		return input + "." + base64.RawURLEncoding.EncodeToString(signJWS(t, key, alg, input))
	}
	crit := map[string]any{"crit": []string{"urn:example:ext"}, "urn:example:ext": true}
	rows := []struct {
		name, assertion, desc string // desc "": accepted
	}{
		{"ES256, crit names an unknown extension", sign(ec, jose.ES256, "ec", crit), "crit names 'urn:example:ext'"},
		{"Ed25519, crit names an unknown extension", sign(ed, "Ed25519", "ed", crit), "crit names 'urn:example:ext'"},
		{"PS256 by a key registered for RS256", sign(rk, jose.PS256, "rsa", nil), "alg PS256"},
		{"ES256 by a key registered for enc", sign(encKey, jose.ES256, "enc", nil), "use"},
		{"RS256 by the key registered for RS256", sign(rk, jose.RS256, "rsa", nil), ""},
		{"Ed25519 by the key registered for EdDSA", sign(ed, "Ed25519", "ed", nil), ""},
		{"ES256, crit b64 (understood)", sign(ec, jose.ES256, "ec", map[string]any{"crit": []string{"b64"}, "b64": true}), ""},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			form := exchangeForm(idToken)
			form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
			form.Set("client_assertion", r.assertion)
			resp, body := p.postToken(t, form, nil)
			if r.desc == "" {
				// Authenticated: refused for the ID token, issued to mcp-client.
				if d, _ := body["error_description"].(string); resp.StatusCode != http.StatusBadRequest || !strings.Contains(d, "not to the authenticated client 'jwt-client'") {
					t.Fatalf("status %d body %v, want the client authenticated and the subject token refused", resp.StatusCode, body)
				}
				return
			}
			d, _ := body["error_description"].(string)
			if resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" || !strings.Contains(d, r.desc) {
				t.Fatalf("status %d body %v, want 401 invalid_client saying %q", resp.StatusCode, body, r.desc)
			}
		})
	}
}
