package idp_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
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

// TestPrivateKeyJWT_JOSEMatrix sends, as the client assertion of a
// private_key_jwt client at the token exchange, the rows of the JOSE
// confusion matrix no other test sends, signed with the client's own key
// where they are signed at all: each is 401 invalid_client saying why.
func TestPrivateKeyJWT_JOSEMatrix(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	attacker, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "ec"}}})
	base, err := os.ReadFile("testdata/conformance.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(base), "clients:\n", "clients:\n  - client_id: jwt-client\n    redirect_uris: [http://127.0.0.1/callback]\n    token_exchange: true\n    jwks: "+string(set)+"\n", 1)
	cfg, err := policy.Parse([]byte(text), "conformance+jwt-client.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	idToken := p.login(t, "mcp-client", "s1", "alice", "alice-pw").IDToken()

	enc := base64.RawURLEncoding.EncodeToString
	js := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	plus := func(obj, name, value string) string {
		return strings.TrimSuffix(obj, "}") + `,"` + name + `":` + value + "}"
	}
	n := 0
	claims := func(drop string) map[string]any {
		n++
		c := map[string]any{"iss": "jwt-client", "sub": "jwt-client", "aud": p.URL + "/oauth/token", "jti": "jose-" + string(rune('a'+n)),
			"iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix()}
		delete(c, drop)
		return c
	}
	header := map[string]any{"alg": "ES256", "kid": "ec"}
	raw := func(h, c string, k *ecdsa.PrivateKey) string {
		in := enc([]byte(h)) + "." + enc([]byte(c))
		return in + "." + enc(signJWS(t, k, jose.ES256, in))
	}
	valid := raw(js(header), js(claims("")), key)
	parts := strings.Split(valid, ".")
	hs256, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: set}, (&jose.SignerOptions{}).WithHeader("kid", "ec"))
	if err != nil {
		t.Fatal(err)
	}
	hsJWS, err := hs256.Sign([]byte(js(claims(""))))
	if err != nil {
		t.Fatal(err)
	}
	hsToken, _ := hsJWS.CompactSerialize()
	b64false := enc([]byte(js(map[string]any{"alg": "ES256", "kid": "ec", "b64": false, "crit": []string{"b64"}})))
	unencoded := js(claims(""))
	withIss := func(iss string) map[string]any { c := claims(""); c["iss"], c["sub"] = iss, iss; return c }
	withAud := func(aud string) map[string]any { c := claims(""); c["aud"] = aud; return c }
	withTyp := func(typ string) map[string]any { return map[string]any{"alg": "ES256", "kid": "ec", "typ": typ} }

	for _, tt := range []struct{ name, assertion, desc string }{
		{"alg NONE", enc([]byte(js(map[string]any{"alg": "NONE", "kid": "ec"}))) + "." + parts[1] + ".", "its alg is 'NONE'"},
		{"alg None", enc([]byte(js(map[string]any{"alg": "None", "kid": "ec"}))) + "." + parts[1] + ".", "its alg is 'None'"},
		{"HS256 keyed with the client's JWK Set", hsToken, "its alg is 'HS256'"},
		{"JWS JSON serialization, flattened", js(map[string]string{"protected": parts[0], "payload": parts[1], "signature": parts[2]}), "it is in the JWS JSON serialization"},
		{"JWS JSON serialization, general", js(map[string]any{"payload": parts[1], "signatures": []any{map[string]string{"protected": parts[0], "signature": parts[2]}}}), "it is in the JWS JSON serialization"},
		{"b64 false (RFC 7797), payload unencoded", b64false + "." + unencoded + "." + enc(signJWS(t, key, jose.ES256, b64false+"."+unencoded)), "dot-separated parts, not the 3 of a compact JWS"},
		{"b64 false (RFC 7797), payload detached", b64false + ".." + enc(signJWS(t, key, jose.ES256, b64false+"."+unencoded)), "its payload is empty (a detached payload"},
		{"JWE compact", "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d", "it has 5 parts, a JWE (encrypted)"},
		{"exp 1e30", raw(js(header), plus(js(claims("exp")), "exp", "1e30"), key), "the exp claim must be a number of seconds since 1970, got 1e30"},
		{"exp 1e400, past float64", raw(js(header), plus(js(claims("exp")), "exp", "1e400"), key), "the exp claim must be a number of seconds since 1970, got 1e400, out of range"},
		{"iat -1e30", raw(js(header), plus(js(claims("iat")), "iat", "-1e30"), key), "the iat claim must be a number of seconds since 1970, got -1e30"},
		{"exp a string", raw(js(header), plus(js(claims("exp")), "exp", `"4102444800"`), key), "the exp claim must be a number (seconds since 1970), got a string"},
		{"a claim twice (exp, last 1e30)", raw(js(header), plus(js(claims("")), "exp", "1e30"), key), "its claim 'exp' appears twice"},
		{"a header member twice (alg, last HS256)", raw(plus(js(header), "alg", `"HS256"`), js(claims("")), key), "its JOSE header member 'alg' appears twice"},
		{"padding after the header", parts[0] + "=." + parts[1] + "." + parts[2], "its JOSE header is not base64url"},
		{"white space inside", parts[0] + ". " + parts[1] + "." + parts[2], "its payload is not base64url"},
		{"jku, x5u and jwk naming the attacker's key, signed by it", raw(js(map[string]any{"alg": "ES256", "jku": "https://attacker.example/jwks",
			"x5u": "https://attacker.example/cert", "jwk": jose.JSONWebKey{Key: attacker.Public()}}), js(claims("")), attacker), "does not verify"},
		{"kid path-like", raw(js(map[string]any{"alg": "ES256", "kid": "../../etc/passwd"}), js(claims("")), key), "does not verify"},
		{"iss and sub in capitals", raw(js(header), js(withIss("JWT-CLIENT")), key), "not a registered client"},
		{"aud with a trailing slash", raw(js(header), js(withAud(p.URL+"/oauth/token/")), key), "aud"},
		{"aud in capitals", raw(js(header), js(withAud(strings.ToUpper(p.URL+"/oauth/token"))), key), "aud"},
		{"typ dpop+jwt", raw(js(withTyp("dpop+jwt")), js(claims("")), key), "client_assertion typ 'dpop+jwt' is that of a DPoP proof (RFC 9449), not of a client assertion"},
		{"typ oauth-id-jag+jwt", raw(js(withTyp("oauth-id-jag+jwt")), js(claims("")), key), "typ 'oauth-id-jag+jwt' is that of an ID-JAG"},
		{"typ secevent+jwt", raw(js(withTyp("secevent+jwt")), js(claims("")), key), "typ 'secevent+jwt' is that of a Security Event Token"},
		{"typ application/AT+JWT", raw(js(withTyp("application/AT+JWT")), js(claims("")), key), "typ 'application/AT+JWT' is that of an access token"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			form := exchangeForm(idToken)
			form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
			form.Set("client_assertion", tt.assertion)
			resp, body := p.postToken(t, form, nil)
			d, _ := body["error_description"].(string)
			if resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" || !strings.Contains(d, tt.desc) {
				t.Fatalf("status %d body %v, want 401 invalid_client saying %q", resp.StatusCode, body, tt.desc)
			}
		})
	}
	// The control: the valid assertion the rows are made from
	// authenticates the client (the ID token is mcp-client's, so the
	// exchange is then refused for it), as does one typed JWT or
	// client-authentication+jwt (draft-ietf-oauth-rfc7523bis), in any case,
	// with or without application/.
	for _, a := range []string{valid, raw(js(withTyp("JWT")), js(claims("")), key), raw(js(withTyp("client-authentication+jwt")), js(claims("")), key),
		raw(js(withTyp("application/Client-Authentication+JWT")), js(claims("")), key)} {
		form := exchangeForm(idToken)
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", a)
		if resp, body := p.postToken(t, form, nil); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body["error_description"].(string), "not to the authenticated client 'jwt-client'") {
			t.Fatalf("control: status %d body %v, want the client authenticated", resp.StatusCode, body)
		}
	}
}
