package authserver_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// rawJWS signs header and payload bytes exactly as given with an ES256
// key, so that a case can send JSON no encoder writes (a key twice, a
// number as 1e30) under a signature that verifies.
func rawJWS(t testing.TB, header, payload []byte, key *ecdsa.PrivateKey) string {
	t.Helper()
	enc := base64.RawURLEncoding.EncodeToString
	input := enc(header) + "." + enc(payload)
	return input + "." + enc(es256(t, input, key))
}

func es256(t testing.TB, input string, key *ecdsa.PrivateKey) []byte {
	t.Helper()
	sum := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withRawMember appends "name":raw to a JSON object: a key it holds
// already is then there twice.
func withRawMember(obj []byte, name, raw string) []byte {
	return []byte(strings.TrimSuffix(string(obj), "}") + `,"` + name + `":` + raw + "}")
}

// without returns the claims less one.
func without(c map[string]any, name string) map[string]any {
	out := map[string]any{}
	for k, v := range c {
		if k != name {
			out[k] = v
		}
	}
	return out
}

// joseCase is one row of the JOSE confusion matrix: tok builds the token
// from the header and claims of a valid one and the key that signs it.
type joseCase struct {
	name string
	tok  func(t *testing.T, h, c map[string]any, key *ecdsa.PrivateKey) string
	want string // a substring of the description
}

// joseMatrix are the rows the ID-JAG grant and the events endpoint share:
// each sends what a valid token's signer (or an attacker) could, and none
// may be accepted.
func joseMatrix(jwksJSON []byte) []joseCase {
	enc := base64.RawURLEncoding.EncodeToString
	rawClaim := func(name, raw string) func(t *testing.T, h, c map[string]any, key *ecdsa.PrivateKey) string {
		return func(t *testing.T, h, c map[string]any, key *ecdsa.PrivateKey) string {
			return rawJWS(t, mustJSON(t, h), withRawMember(mustJSON(t, without(c, name)), name, raw), key)
		}
	}
	withHeader := func(edit func(h map[string]any)) func(t *testing.T, h, c map[string]any, key *ecdsa.PrivateKey) string {
		return func(t *testing.T, h, c map[string]any, key *ecdsa.PrivateKey) string {
			hh := map[string]any{}
			for k, v := range h {
				hh[k] = v
			}
			edit(hh)
			return rawJWS(t, mustJSON(t, hh), mustJSON(t, c), key)
		}
	}
	unsignedAs := func(alg string) func(t *testing.T, h, c map[string]any, key *ecdsa.PrivateKey) string {
		return func(t *testing.T, h, c map[string]any, key *ecdsa.PrivateKey) string {
			hh := map[string]any{"alg": alg, "typ": h["typ"], "kid": h["kid"]}
			return enc(mustJSON(t, hh)) + "." + enc(mustJSON(t, c)) + "."
		}
	}
	parts := func(t *testing.T, h, c map[string]any, key *ecdsa.PrivateKey) []string {
		return strings.Split(rawJWS(t, mustJSON(t, h), mustJSON(t, c), key), ".")
	}
	return []joseCase{
		{name: "alg NONE", tok: unsignedAs("NONE"), want: "NONE"},
		{name: "alg None", tok: unsignedAs("None"), want: "None"},
		{name: "HS256 keyed with the JWKS document", tok: func(t *testing.T, h, c map[string]any, _ *ecdsa.PrivateKey) string {
			s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: jwksJSON},
				(&jose.SignerOptions{}).WithType(jose.ContentType(h["typ"].(string))).WithHeader("kid", h["kid"]))
			if err != nil {
				t.Fatal(err)
			}
			jws, err := s.Sign(mustJSON(t, c))
			if err != nil {
				t.Fatal(err)
			}
			out, _ := jws.CompactSerialize()
			return out
		}, want: "HS256"},
		{name: "JWS JSON serialization, flattened", tok: func(t *testing.T, h, c map[string]any, key *ecdsa.PrivateKey) string {
			p := parts(t, h, c, key)
			return string(mustJSON(t, map[string]string{"protected": p[0], "payload": p[1], "signature": p[2]}))
		}},
		{name: "JWS JSON serialization, general", tok: func(t *testing.T, h, c map[string]any, key *ecdsa.PrivateKey) string {
			p := parts(t, h, c, key)
			return string(mustJSON(t, map[string]any{"payload": p[1], "signatures": []any{map[string]string{"protected": p[0], "signature": p[2]}}}))
		}},
		{name: "b64 false (RFC 7797), payload unencoded", tok: func(t *testing.T, h, c map[string]any, key *ecdsa.PrivateKey) string {
			hh := map[string]any{"alg": "ES256", "typ": h["typ"], "kid": h["kid"], "b64": false, "crit": []string{"b64"}}
			hb, payload := enc(mustJSON(t, hh)), string(mustJSON(t, c))
			return hb + "." + payload + "." + enc(es256(t, hb+"."+payload, key))
		}},
		{name: "b64 false (RFC 7797), payload detached", tok: func(t *testing.T, h, c map[string]any, key *ecdsa.PrivateKey) string {
			hh := map[string]any{"alg": "ES256", "typ": h["typ"], "kid": h["kid"], "b64": false, "crit": []string{"b64"}}
			hb := enc(mustJSON(t, hh))
			return hb + ".." + enc(es256(t, hb+"."+string(mustJSON(t, c)), key))
		}},
		{name: "JWE compact", tok: func(*testing.T, map[string]any, map[string]any, *ecdsa.PrivateKey) string {
			return "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d"
		}},
		{name: "iat 1e30", tok: rawClaim("iat", "1e30"), want: "malformed"},
		{name: "iat -1e30", tok: rawClaim("iat", "-1e30"), want: "malformed"},
		{name: "iat a string", tok: rawClaim("iat", `"1700000000"`), want: "malformed"},
		{name: "iss in an array", tok: rawClaim("iss", `["x"]`), want: "malformed"},
		{name: "a header member twice (alg, last HS256)", tok: func(t *testing.T, h, c map[string]any, key *ecdsa.PrivateKey) string {
			return rawJWS(t, withRawMember(mustJSON(t, h), "alg", `"HS256"`), mustJSON(t, c), key)
		}},
		{name: "a header member twice (kid)", tok: func(t *testing.T, h, c map[string]any, key *ecdsa.PrivateKey) string {
			return rawJWS(t, withRawMember(mustJSON(t, h), "kid", `"other"`), mustJSON(t, c), key)
		}},
		{name: "padding after the header", tok: func(t *testing.T, h, c map[string]any, key *ecdsa.PrivateKey) string {
			p := parts(t, h, c, key)
			return p[0] + "=." + p[1] + "." + p[2]
		}},
		{name: "white space inside", tok: func(t *testing.T, h, c map[string]any, key *ecdsa.PrivateKey) string {
			p := parts(t, h, c, key)
			return p[0] + ". " + p[1] + "." + p[2]
		}},
		{name: "jku, x5u and jwk naming the attacker's key, signed by it", tok: func(t *testing.T, h, c map[string]any, _ *ecdsa.PrivateKey) string {
			att := newECKey(t)
			hh := map[string]any{"alg": "ES256", "typ": h["typ"], "jku": "https://attacker.example/jwks", "x5u": "https://attacker.example/cert",
				"jwk": jose.JSONWebKey{Key: att.Public()}}
			return rawJWS(t, mustJSON(t, hh), mustJSON(t, c), att)
		}},
		{name: "kid path-like", tok: withHeader(func(h map[string]any) { h["kid"] = "../../../etc/passwd" }), want: "etc/passwd"},
		{name: "typ missing", tok: withHeader(func(h map[string]any) { delete(h, "typ") }), want: "typ"},
		{name: "typ dpop+jwt", tok: withHeader(func(h map[string]any) { h["typ"] = "dpop+jwt" }), want: "dpop+jwt"},
		{name: "a DPoP proof of the attacker's key", tok: func(t *testing.T, h, c map[string]any, _ *ecdsa.PrivateKey) string {
			att := newECKey(t)
			hh := map[string]any{"alg": "ES256", "typ": "dpop+jwt", "jwk": jose.JSONWebKey{Key: att.Public()}}
			return rawJWS(t, mustJSON(t, hh), mustJSON(t, map[string]any{"htm": "POST", "htu": "https://x.example/token", "iat": c["iat"], "jti": "j"}), att)
		}, want: "dpop+jwt"},
	}
}

// TestTokenEndpoint_JOSEMatrix sends each row as the ID-JAG of a
// grant, signed with the IdP's key where it is signed at all: every one
// is invalid_grant (400) with a description, and no access token.
func TestTokenEndpoint_JOSEMatrix(t *testing.T) {
	e := newEnv(t)
	k := e.idp.currentKey()
	key := k.Key.(*ecdsa.PrivateKey)
	jwks := mustJSON(t, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{k.Public()}})
	rows := append(joseMatrix(jwks),
		joseCase{name: "exp 1e30", tok: func(t *testing.T, h, c map[string]any, key *ecdsa.PrivateKey) string {
			return rawJWS(t, mustJSON(t, h), withRawMember(mustJSON(t, without(c, "exp")), "exp", "1e30"), key)
		}, want: "malformed"},
		joseCase{name: "a claim twice (exp, last 1e30)", tok: func(t *testing.T, h, c map[string]any, key *ecdsa.PrivateKey) string {
			return rawJWS(t, mustJSON(t, h), withRawMember(mustJSON(t, c), "exp", "1e30"), key)
		}, want: "duplicate key 'exp'"},
		joseCase{name: "iss in capitals", tok: func(t *testing.T, h, c map[string]any, key *ecdsa.PrivateKey) string {
			c["iss"] = strings.ToUpper(c["iss"].(string))
			return rawJWS(t, mustJSON(t, h), mustJSON(t, c), key)
		}, want: "untrusted issuer"},
		joseCase{name: "aud with a trailing slash", tok: func(t *testing.T, h, c map[string]any, key *ecdsa.PrivateKey) string {
			c["aud"] = c["aud"].(string) + "/"
			return rawJWS(t, mustJSON(t, h), mustJSON(t, c), key)
		}, want: "is not this authorization server"},
		joseCase{name: "aud in capitals", tok: func(t *testing.T, h, c map[string]any, key *ecdsa.PrivateKey) string {
			c["aud"] = strings.ToUpper(c["aud"].(string))
			return rawJWS(t, mustJSON(t, h), mustJSON(t, c), key)
		}, want: "is not this authorization server"},
		joseCase{name: "typ secevent+jwt (a SET of the same key)", tok: func(t *testing.T, h, c map[string]any, key *ecdsa.PrivateKey) string {
			h["typ"] = "secevent+jwt"
			return rawJWS(t, mustJSON(t, h), mustJSON(t, c), key)
		}, want: "secevent+jwt"},
	)
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			h := map[string]any{"alg": "ES256", "typ": authserver.IDJAGType, "kid": k.KeyID}
			r := e.post(t, grant(row.tok(t, h, e.claims(), key)))
			if r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" {
				t.Fatalf("HTTP %d %s, want 400 invalid_grant", r.status, r.raw)
			}
			if d := r.str("error_description"); d == "" || !strings.Contains(d, row.want) {
				t.Errorf("error_description %q, want one containing %q", d, row.want)
			}
			if _, ok := r.body["access_token"]; ok {
				t.Errorf("a refusal carries an access_token: %s", r.raw)
			}
		})
	}
	// The control: the valid ID-JAG these rows are made from is accepted.
	h := map[string]any{"alg": "ES256", "typ": authserver.IDJAGType, "kid": k.KeyID}
	if r := e.post(t, grant(rawJWS(t, mustJSON(t, h), mustJSON(t, e.claims()), key))); r.status != http.StatusOK {
		t.Fatalf("control: HTTP %d %s", r.status, r.raw)
	}
}

// TestEvents_JOSEMatrix pushes each row as a SET signed with the IdP's
// key where it is signed at all: every one is a 400 with the RFC 8935
// error and a description, and none revokes anything.
func TestEvents_JOSEMatrix(t *testing.T) {
	e := newEnv(t)
	token := e.accessToken(t, "issues.read")
	k := e.idp.currentKey()
	key := k.Key.(*ecdsa.PrivateKey)
	jwks := mustJSON(t, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{k.Public()}})
	wantErr := map[string]string{
		"jku, x5u and jwk naming the attacker's key, signed by it": "authentication_failed",
		"kid path-like":             "invalid_key",
		"iss in capitals":           "invalid_issuer",
		"aud with a trailing slash": "invalid_audience",
	}
	rows := append(joseMatrix(jwks),
		joseCase{name: "iss in capitals", tok: func(t *testing.T, h, c map[string]any, key *ecdsa.PrivateKey) string {
			c["iss"] = strings.ToUpper(c["iss"].(string))
			return rawJWS(t, mustJSON(t, h), mustJSON(t, c), key)
		}, want: "not an issuer this recipient trusts"},
		joseCase{name: "aud with a trailing slash", tok: func(t *testing.T, h, c map[string]any, key *ecdsa.PrivateKey) string {
			c["aud"] = c["aud"].(string) + "/"
			return rawJWS(t, mustJSON(t, h), mustJSON(t, c), key)
		}, want: "does not name this recipient"},
		joseCase{name: "an ID-JAG of the same key", tok: func(t *testing.T, h, _ map[string]any, key *ecdsa.PrivateKey) string {
			h["typ"] = authserver.IDJAGType
			return rawJWS(t, mustJSON(t, h), mustJSON(t, e.claims()), key)
		}, want: "oauth-id-jag+jwt"},
	)
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			h := map[string]any{"alg": "ES256", "typ": "secevent+jwt", "kid": k.KeyID}
			r := e.pushSET(t, row.tok(t, h, e.setClaims(), key), "application/secevent+jwt")
			want := wantErr[row.name]
			if want == "" {
				want = "invalid_request"
			}
			if r.status != http.StatusBadRequest || r.str("err") != want {
				t.Fatalf("HTTP %d %v, want 400 %s", r.status, r.body, want)
			}
			if d := r.str("description"); d == "" || !strings.Contains(d, row.want) {
				t.Errorf("description %q, want one containing %q", d, row.want)
			}
		})
	}
	if _, err := e.as.VerifyAccessToken(context.Background(), token, e.mcpURL); err != nil {
		t.Errorf("a refused SET revoked the token: %v", err)
	}
}
