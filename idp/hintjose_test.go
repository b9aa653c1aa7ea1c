package idp_test

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// TestEndSession_HintJOSEMatrix sends, as the id_token_hint of
// end_session, the rows of the JOSE confusion matrix made from alice's
// own ID token (its claims, and the IdP's key, key_files, where it is
// signed at all): each is 400 invalid_request in JSON saying why, never
// a redirect, and alice's SSO session, which the hints name (sid), is
// not ended: her ID token is still exchanged.
func TestEndSession_HintJOSEMatrix(t *testing.T) {
	key, keyFile := ownedES256Key(t)
	cfg := conformanceConfig(t)
	cfg.Signing.IDTokenAlg, cfg.Signing.IDJAGAlg, cfg.Signing.KeyFiles = "ES256", "ES256", []string{keyFile}
	f := newFixture(t, cfg)
	alice := f.alice.IDToken()
	enc := base64.RawURLEncoding.EncodeToString
	parts := strings.Split(alice, ".")
	var header, claims map[string]any
	for i, v := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	if claims["sid"] == nil {
		t.Fatalf("alice's ID token names no SSO session: %v", claims)
	}
	js := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	sig := func(input string, k *ecdsa.PrivateKey) string {
		sum := sha256.Sum256([]byte(input))
		r, s, err := ecdsa.Sign(rand.Reader, k, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		return enc(append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...))
	}
	signed := func(h, c map[string]any, k *ecdsa.PrivateKey) string {
		in := enc([]byte(js(h))) + "." + enc([]byte(js(c)))
		return in + "." + sig(in, k)
	}
	with := func(m map[string]any, k string, v any) map[string]any {
		out := map[string]any{}
		for name, value := range m {
			out[name] = value
		}
		out[k] = v
		return out
	}
	jwks := []byte(js(f.jwks(t)))
	hs256, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: jwks}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", header["kid"]))
	if err != nil {
		t.Fatal(err)
	}
	hsJWS, err := hs256.Sign([]byte(js(claims)))
	if err != nil {
		t.Fatal(err)
	}
	hsHint, _ := hsJWS.CompactSerialize()
	attacker, err := ecdsa.GenerateKey(key.Curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b64false := enc([]byte(js(with(with(header, "b64", false), "crit", []string{"b64"}))))

	for _, tt := range []struct{ name, hint, want string }{
		{"alg NONE", enc([]byte(js(with(header, "alg", "NONE")))) + "." + parts[1] + ".", "its alg is 'NONE'"},
		{"alg None", enc([]byte(js(with(header, "alg", "None")))) + "." + parts[1] + ".", "its alg is 'None'"},
		{"HS256 keyed with the JWKS document", hsHint, "its alg is 'HS256'"},
		{"JWS JSON serialization, flattened", js(map[string]string{"protected": parts[0], "payload": parts[1], "signature": parts[2]}), "it is in the JWS JSON serialization"},
		{"b64 false (RFC 7797), payload unencoded", b64false + "." + js(claims) + "." + sig(b64false+"."+js(claims), key), "dot-separated parts, not the 3 of a compact JWS"},
		{"jku, x5u and jwk naming the attacker's key, signed by it", signed(map[string]any{"alg": "ES256", "typ": "JWT",
			"jku": "https://attacker.example/jwks", "x5u": "https://attacker.example/cert", "jwk": jose.JSONWebKey{Key: attacker.Public()}}, claims, attacker), "its signature (kid '', ES256) does not verify with any key of this IdP"},
		{"the attacker's key under the IdP's kid", signed(header, claims, attacker), "its signature (kid '" + header["kid"].(string) + "', ES256) does not verify"},
		{"kid path-like", signed(with(header, "kid", "../../keys/es256.pem"), claims, key), "its signature (kid '../../keys/es256.pem', ES256) does not verify"},
		{"iss in capitals", signed(header, with(claims, "iss", strings.ToUpper(claims["iss"].(string))), key), "its iss '" + strings.ToUpper(claims["iss"].(string)) + "' is not this IdP"},
		{"exp a string", signed(header, with(claims, "exp", "4102444800"), key), "the exp claim must be a number (seconds since 1970), got a string"},
		{"auth_time a string", signed(header, with(claims, "auth_time", "1700000000"), key), "the auth_time claim must be a number (seconds since 1970), got a string"},
		{"typ dpop+jwt", signed(with(header, "typ", "dpop+jwt"), claims, key), "dpop+jwt"},
		{"typ secevent+jwt", signed(with(header, "typ", "secevent+jwt"), claims, key), "secevent+jwt"},
		{"a DPoP proof of the attacker's key", signed(map[string]any{"alg": "ES256", "typ": "dpop+jwt", "jwk": jose.JSONWebKey{Key: attacker.Public()}},
			map[string]any{"htm": "GET", "htu": f.URL + "/end_session", "iat": time.Now().Unix(), "jti": "j"}, attacker), "dpop+jwt"},
		{"padding after the header", parts[0] + "=." + parts[1] + "." + parts[2], "its JOSE header is not base64url"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f.remember(tt.hint)
			q := url.Values{"id_token_hint": {tt.hint}, "post_logout_redirect_uri": {callback}, "state": {"s-1"}}
			resp, err := noRedirect.Get(f.URL + "/end_session?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var body map[string]any
			_ = json.Unmarshal(raw, &body)
			if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_request" {
				t.Fatalf("HTTP %d Location %q %s, want 400 invalid_request", resp.StatusCode, resp.Header.Get("Location"), raw)
			}
			if d, _ := body["error_description"].(string); !strings.Contains(d, tt.want) {
				t.Errorf("error_description %q lacks %q", d, tt.want)
			}
		})
	}
	if resp, body := f.exchange(t, b(alice), basicS1); resp.StatusCode != http.StatusOK {
		t.Errorf("after the refused hints alice's ID token is refused: %d %v", resp.StatusCode, body)
	}
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
