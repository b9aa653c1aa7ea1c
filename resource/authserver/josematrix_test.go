package authserver_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/internal/cimd"
	"github.com/xaa-idp/xaa-idp/resource/authserver"
	"github.com/xaa-idp/xaa-idp/resource/mcpserver"
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
		}, want: "its payload is empty (a detached payload, RFC 7515 appendix F, is not accepted)"},
		{name: "JWE compact", tok: func(*testing.T, map[string]any, map[string]any, *ecdsa.PrivateKey) string {
			return "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d"
		}},
		{name: "iat 1e30", tok: rawClaim("iat", "1e30"), want: "claims are malformed: the iat claim must be a number of seconds since 1970, got 1e30, out of range"},
		{name: "iat -1e30", tok: rawClaim("iat", "-1e30"), want: "the iat claim must be a number of seconds since 1970, got -1e30"},
		{name: "iat a string", tok: rawClaim("iat", `"1700000000"`), want: "the iat claim must be a number (seconds since 1970), got a string"},
		{name: "iss in an array", tok: rawClaim("iss", `["x"]`), want: "the iss claim must be a string, got an array"},
		{name: "a header member twice (alg, last HS256)", tok: func(t *testing.T, h, c map[string]any, key *ecdsa.PrivateKey) string {
			return rawJWS(t, withRawMember(mustJSON(t, h), "alg", `"HS256"`), mustJSON(t, c), key)
		}, want: "appears twice (RFC 7515 section 4)"},
		{name: "a header member twice (kid)", tok: func(t *testing.T, h, c map[string]any, key *ecdsa.PrivateKey) string {
			return rawJWS(t, withRawMember(mustJSON(t, h), "kid", `"other"`), mustJSON(t, c), key)
		}, want: "appears twice (RFC 7515 section 4)"},
		{name: "padding after the header", tok: func(t *testing.T, h, c map[string]any, key *ecdsa.PrivateKey) string {
			p := parts(t, h, c, key)
			return p[0] + "=." + p[1] + "." + p[2]
		}, want: "JOSE header is not base64url"},
		{name: "white space inside", tok: func(t *testing.T, h, c map[string]any, key *ecdsa.PrivateKey) string {
			p := parts(t, h, c, key)
			return p[0] + ". " + p[1] + "." + p[2]
		}, want: "its payload is not base64url without padding or white space (RFC 7515 section 2)"},
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
		}, want: "the exp claim must be a number of seconds since 1970, got 1e30, out of range"},
		joseCase{name: "a claim twice (exp, last 1e30)", tok: func(t *testing.T, h, c map[string]any, key *ecdsa.PrivateKey) string {
			return rawJWS(t, mustJSON(t, h), withRawMember(mustJSON(t, c), "exp", "1e30"), key)
		}, want: "its claim 'exp' appears twice (RFC 7519 section 4)"},
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

// TestMCPServer_AccessTokenJOSEMatrix sends each row as the Bearer
// access token of an MCP request to a tracker that has this server verify
// its tokens: every one is 401 invalid_token with a description, and no
// MCP answer.
func TestMCPServer_AccessTokenJOSEMatrix(t *testing.T) {
	e := newEnv(t)
	tracker, err := mcpserver.New(mcpserver.Config{
		ID: "tracker", Resource: e.mcpURL, Verifier: e.as,
		AuthServerIssuer: e.asURL, Scopes: e.as.Scopes(),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.setMCP(tracker)
	token := e.accessToken(t, "issues.read")
	other := e.accessToken(t, "issues.read")
	parts := strings.Split(token, ".")
	enc := base64.RawURLEncoding.EncodeToString
	var header map[string]any
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if err := json.Unmarshal(hb, &header); err != nil {
		t.Fatal(err)
	}
	withHeader := func(edit func(map[string]any)) string {
		h := map[string]any{}
		for k, v := range header {
			h[k] = v
		}
		edit(h)
		return enc(mustJSON(t, h))
	}
	jwks := getBodyBytes(t, e.asURL+"/jwks")
	hs256, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: jwks},
		(&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", header["kid"]))
	if err != nil {
		t.Fatal(err)
	}
	hsJWS, err := hs256.Sign(mustJSON(t, map[string]any{"sub": alice}))
	if err != nil {
		t.Fatal(err)
	}
	hsToken, _ := hsJWS.CompactSerialize()
	attacker := newECKey(t)
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	byAttacker := func(edit func(map[string]any)) string {
		h := map[string]any{"alg": "ES256", "typ": "at+jwt"}
		edit(h)
		return rawJWS(t, mustJSON(t, h), payload, attacker)
	}
	for _, tt := range []struct{ name, token, want string }{
		{"alg none", withHeader(func(h map[string]any) { h["alg"] = "none" }) + "." + parts[1] + ".", "not an ES256 JWT: its alg is 'none'"},
		{"alg NONE", withHeader(func(h map[string]any) { h["alg"] = "NONE" }) + "." + parts[1] + ".", "its alg is 'NONE'"},
		{"HS256 keyed with the JWKS document", hsToken, "its alg is 'HS256'"},
		{"RS256 named over the ES256 signature", withHeader(func(h map[string]any) { h["alg"] = "RS256" }) + "." + parts[1] + "." + parts[2], "its alg is 'RS256'"},
		{"the attacker's key under an unknown kid", byAttacker(func(h map[string]any) { h["kid"] = "nope" }), "kid 'nope'"},
		{"jwk and jku naming the attacker's key", byAttacker(func(h map[string]any) {
			h["jwk"], h["jku"] = jose.JSONWebKey{Key: attacker.Public()}, "https://attacker.example/jwks"
		}), "kid ''"},
		{"the attacker's key under the server's kid", byAttacker(func(h map[string]any) { h["kid"] = header["kid"] }), "the signature does not verify with this authorization server's key '" + header["kid"].(string) + "'"},
		{"the signature of another access token", parts[0] + "." + parts[1] + "." + strings.Split(other, ".")[2], "the signature does not verify with this authorization server's key"},
		{"an ID-JAG", e.jag(t, nil), "oauth-id-jag+jwt"},
		{"JWE compact", "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d", "it has 5 parts, a JWE (encrypted)"},
		{"JWS JSON serialization, flattened", string(mustJSON(t, map[string]string{"protected": parts[0], "payload": parts[1], "signature": parts[2]})), "it is in the JWS JSON serialization; send the compact one"},
		{"padding after the header", parts[0] + "=." + parts[1] + "." + parts[2], "its JOSE header is not base64url"},
		{"a trailing dot", token + ".", "it has 4 dot-separated parts, not the 3 of a compact JWS"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, e.mcpURL, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			req.Header.Set("Authorization", "Bearer "+tt.token)
			r := do(t, req)
			if r.status != http.StatusUnauthorized || !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Fatalf("HTTP %d, WWW-Authenticate %q: want 401 invalid_token", r.status, r.header.Get("WWW-Authenticate"))
			}
			if d := r.str("error_description"); !strings.Contains(d, tt.want) {
				t.Errorf("error_description %q, want one containing %q", d, tt.want)
			}
		})
	}
}

func getBodyBytes(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTokenEndpoint_ClientAssertionJOSEMatrix sends each row as the client
// assertion of a metadata-document client (private_key_jwt), signed with
// its key where it is signed at all, with a valid ID-JAG: every one is
// 401 invalid_client with a description, and no access token. A client
// assertion needs no typ (RFC 7523), so the rows on typ are left out.
func TestTokenEndpoint_ClientAssertionJOSEMatrix(t *testing.T) {
	m := newMetadataClients(t)
	e := newEnv(t, func(c *authserver.Config) {
		c.CIMD = cimd.New(cimd.DefaultConfig(), &cimd.Options{Timeout: time.Second})
		c.Clients[m.jwt] = ""
	})
	jwks := mustJSON(t, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &m.key.PublicKey, KeyID: "client-key"}}})
	claims := func() map[string]any {
		now := e.clock.Now()
		return map[string]any{"iss": m.jwt, "sub": m.jwt, "aud": e.asURL, "jti": randomString(), "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
	}
	for _, row := range joseMatrix(jwks) {
		if strings.HasPrefix(row.name, "typ ") || row.name == "a DPoP proof of the attacker's key" {
			continue
		}
		t.Run(row.name, func(t *testing.T) {
			h := map[string]any{"alg": "ES256", "typ": "JWT", "kid": "client-key"}
			jag := e.jag(t, func(c map[string]any) { c["client_id"] = m.jwt })
			r := e.post(t, metadataGrant(jag, "", row.tok(t, h, claims(), m.key)))
			if r.status != http.StatusUnauthorized || r.str("error") != "invalid_client" {
				t.Fatalf("HTTP %d %s, want 401 invalid_client", r.status, r.raw)
			}
			if d := r.str("error_description"); d == "" || !strings.Contains(d, row.want) {
				t.Errorf("error_description %q, want one containing %q", d, row.want)
			}
			if _, ok := r.body["access_token"]; ok {
				t.Errorf("a refusal carries an access_token: %s", r.raw)
			}
		})
	}
	// A client assertion typed as another token is refused (RFC 8725
	// section 3.11): a DPoP proof, an ID-JAG or a SET the client signed
	// cannot pass for one.
	for typ, want := range map[string]string{
		"dpop+jwt":           "typ 'dpop+jwt' is that of a DPoP proof (RFC 9449), not of a client assertion",
		"oauth-id-jag+jwt":   "typ 'oauth-id-jag+jwt' is that of an ID-JAG",
		"secevent+jwt":       "typ 'secevent+jwt' is that of a Security Event Token",
		"application/AT+JWT": "typ 'application/AT+JWT' is that of an access token",
	} {
		h := map[string]any{"alg": "ES256", "typ": typ, "kid": "client-key"}
		jag := e.jag(t, func(c map[string]any) { c["client_id"] = m.jwt })
		r := e.post(t, metadataGrant(jag, "", rawJWS(t, mustJSON(t, h), mustJSON(t, claims()), m.key)))
		if r.status != http.StatusUnauthorized || r.str("error") != "invalid_client" || !strings.Contains(r.str("error_description"), want) {
			t.Errorf("typ %s: HTTP %d %s, want 401 invalid_client saying %q", typ, r.status, r.raw, want)
		}
	}
	// The control: the valid assertion the rows are made from, and one
	// typed client-authentication+jwt (draft-ietf-oauth-rfc7523bis) or
	// not at all.
	for _, typ := range []any{"JWT", "client-authentication+jwt", "application/Client-Authentication+JWT", nil} {
		h := map[string]any{"alg": "ES256", "typ": typ, "kid": "client-key"}
		if typ == nil {
			delete(h, "typ")
		}
		jag := e.jag(t, func(c map[string]any) { c["client_id"] = m.jwt })
		if r := e.post(t, metadataGrant(jag, "", rawJWS(t, mustJSON(t, h), mustJSON(t, claims()), m.key))); r.status != http.StatusOK {
			t.Fatalf("control typ %v: HTTP %d %s", typ, r.status, r.raw)
		}
	}
}
