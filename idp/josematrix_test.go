package idp_test

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// TestExchange_SubjectTokenJOSEMatrix sends, as the subject ID token, the
// rows of the JOSE confusion matrix that no other test sends: each signed
// with the IdP's own key (key_files) where it is signed at all, so that
// only the confusion is wrong. Every one is 400 invalid_request with a
// description saying what is wrong, and no ID-JAG.
func TestExchange_SubjectTokenJOSEMatrix(t *testing.T) {
	key, keyFile := ownedES256Key(t)
	cfg := conformanceConfig(t)
	cfg.Signing.IDTokenAlg, cfg.Signing.IDJAGAlg, cfg.Signing.KeyFiles = "ES256", "ES256", []string{keyFile}
	p := startIdP(t, cfg)
	kid := p.Keys()[0].KID
	now := time.Now()
	claims := map[string]any{
		"iss": p.URL, "sub": "u-alice", "aud": "mcp-client",
		"iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(), "auth_time": now.Unix(),
	}
	header := map[string]any{"alg": "ES256", "typ": "JWT", "kid": kid}
	enc := base64.RawURLEncoding.EncodeToString
	js := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	sig := func(input string, k *ecdsa.PrivateKey) string {
		sum := sha256.Sum256([]byte(input))
		r, s, err := ecdsa.Sign(rand.Reader, k, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		return enc(append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...))
	}
	// raw signs header and payload bytes as given, so that a row can send
	// JSON no encoder writes (a key twice, 1e30) under a signature that
	// verifies.
	raw := func(h, c []byte) string {
		in := enc(h) + "." + enc(c)
		return in + "." + sig(in, key)
	}
	plus := func(obj []byte, name, value string) []byte {
		return []byte(strings.TrimSuffix(string(obj), "}") + `,"` + name + `":` + value + "}")
	}
	less := func(name string) []byte {
		c := map[string]any{}
		for k, v := range claims {
			if k != name {
				c[k] = v
			}
		}
		return js(c)
	}
	hdr := func(edit func(map[string]any)) []byte {
		h := map[string]any{}
		for k, v := range header {
			h[k] = v
		}
		edit(h)
		return js(h)
	}
	valid := raw(js(header), js(claims))
	parts := strings.Split(valid, ".")
	jwks := js(p.jwks(t))
	hs256, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: jwks}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	hsJWS, err := hs256.Sign(js(claims))
	if err != nil {
		t.Fatal(err)
	}
	hsToken, _ := hsJWS.CompactSerialize()
	attacker, err := ecdsa.GenerateKey(key.Curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b64false := enc(hdr(func(h map[string]any) { h["b64"], h["crit"] = false, []string{"b64"} }))

	for _, c := range []struct {
		name, token, want string
	}{
		{"alg NONE", enc(hdr(func(h map[string]any) { h["alg"] = "NONE" })) + "." + parts[1] + ".", "its alg is 'NONE'"},
		{"alg None", enc(hdr(func(h map[string]any) { h["alg"] = "None" })) + "." + parts[1] + ".", "its alg is 'None'"},
		{"HS256 keyed with the JWKS document", hsToken, "its alg is 'HS256'"},
		{"JWS JSON serialization, flattened", string(js(map[string]string{"protected": parts[0], "payload": parts[1], "signature": parts[2]})), "it is in the JWS JSON serialization; send the compact one"},
		{"JWS JSON serialization, general", string(js(map[string]any{"payload": parts[1], "signatures": []any{map[string]string{"protected": parts[0], "signature": parts[2]}}})), "it is in the JWS JSON serialization; send the compact one"},
		{"b64 false (RFC 7797), payload unencoded", b64false + "." + string(js(claims)) + "." + sig(b64false+"."+string(js(claims)), key), "dot-separated parts, not the 3 of a compact JWS"},
		{"b64 false (RFC 7797), payload detached", b64false + ".." + sig(b64false+"."+string(js(claims)), key), "signature does not verify with this IdP's key '" + kid + "' (ES256)"},
		{"exp 1e30", raw(js(header), plus(less("exp"), "exp", "1e30")), "the exp claim must be a number of seconds since 1970, got 1e30, out of range"},
		{"iat -1e30", raw(js(header), plus(less("iat"), "iat", "-1e30")), "the iat claim must be a number of seconds since 1970, got -1e30"},
		{"nbf 1e300", raw(js(header), plus(js(claims), "nbf", "1e300")), "the nbf claim must be a number of seconds since 1970, got 1e300"},
		{"auth_time a string", raw(js(header), plus(less("auth_time"), "auth_time", `"1700000000"`)), "the auth_time claim must be a number (seconds since 1970), got a string"},
		{"exp negative", raw(js(header), plus(less("exp"), "exp", "-1")), "expired"},
		{"a claim twice (exp, last 1e30)", raw(js(header), plus(js(claims), "exp", "1e30")), "its claim 'exp' appears twice (RFC 7519 section 4)"},
		{"a header member twice (alg, last HS256)", raw(plus(js(header), "alg", `"HS256"`), js(claims)), "its JOSE header member 'alg' appears twice (RFC 7515 section 4)"},
		{"a header member twice (kid)", raw(plus(js(header), "kid", `"other"`), js(claims)), "its JOSE header member 'kid' appears twice"},
		{"iss in capitals", raw(js(header), plus(less("iss"), "iss", `"`+strings.ToUpper(p.URL)+`"`)), "is not this IdP"},
		{"iss in an array", raw(js(header), plus(less("iss"), "iss", `["`+p.URL+`"]`)), "the iss claim must be a string, got an array"},
		{"padding after the header", parts[0] + "=." + parts[1] + "." + parts[2], "its JOSE header is not base64url without padding or white space"},
		{"white space inside", parts[0] + ". " + parts[1] + "." + parts[2], "its payload is not base64url"},
		{"jku, x5u and jwk naming the attacker's key, signed by it", func() string {
			h := js(map[string]any{"alg": "ES256", "typ": "JWT", "jku": "https://attacker.example/jwks", "x5u": "https://attacker.example/cert",
				"jwk": jose.JSONWebKey{Key: attacker.Public()}})
			in := enc(h) + "." + enc(js(claims))
			return in + "." + sig(in, attacker)
		}(), "not signed by this IdP"},
		{"kid path-like", raw(hdr(func(h map[string]any) { h["kid"] = "../../keys/es256.pem" }), js(claims)), "unknown key"},
		{"typ dpop+jwt", raw(hdr(func(h map[string]any) { h["typ"] = "dpop+jwt" }), js(claims)), "dpop+jwt"},
		{"a DPoP proof of the attacker's key", func() string {
			h := js(map[string]any{"alg": "ES256", "typ": "dpop+jwt", "jwk": jose.JSONWebKey{Key: attacker.Public()}})
			in := enc(h) + "." + enc(js(map[string]any{"htm": "POST", "htu": p.URL + "/oauth/token", "iat": now.Unix(), "jti": "j"}))
			return in + "." + sig(in, attacker)
		}(), "dpop+jwt"},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := p.postToken(t, exchangeForm(c.token), basicS1)
			if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_request" {
				t.Fatalf("status %d %v, want 400 invalid_request", resp.StatusCode, body)
			}
			if d, _ := body["error_description"].(string); !strings.Contains(d, c.want) {
				t.Errorf("error_description %q, want it to contain %q", d, c.want)
			}
			if _, ok := body["access_token"]; ok {
				t.Errorf("a refusal carries an access_token: %v", body)
			}
		})
	}
	// The control: the valid token the rows are made from is exchanged.
	if resp, body := p.postToken(t, exchangeForm(valid), basicS1); resp.StatusCode != http.StatusOK {
		t.Fatalf("control: status %d %v", resp.StatusCode, body)
	}
}
