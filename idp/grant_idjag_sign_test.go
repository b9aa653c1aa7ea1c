package idp

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/xaa-idp/xaa-idp/idp/signer"
)

// TestIDJAGMatchesGoJose is the golden test of the hand-built ID-JAG
// (idp/signer/jws.go): for every signing algorithm and every optional
// claim, the ID-JAG the ring signs parses and verifies with go-jose, and
// its header and claims decode to exactly what go-jose's own jwt.Signed
// made from the same claims before the ring built tokens itself. The
// header's encoding is the same byte for byte.
func TestIDJAGMatchesGoJose(t *testing.T) {
	base := idJAGClaims{
		Issuer: "http://127.0.0.1:8080", Subject: "00u-alice", Audience: audience{value: "https://as.chat.example"},
		ClientID: "mcp-client-at-chat", JTI: "aGVsbG8td29ybGQtanRp", IssuedAt: 1795635078, Expiry: 1795635378,
	}
	knobs := map[string]func(*idJAGClaims){
		"minimal":  func(*idJAGClaims) {},
		"resource": func(c *idJAGClaims) { c.Resource = "https://mcp.chat.example/mcp" },
		"scope":    func(c *idJAGClaims) { c.Scope = "chat.read chat.write" },
		"email":    func(c *idJAGClaims) { c.Email = "alice@acme.example" },
		"cnf.jkt": func(c *idJAGClaims) {
			c.Confirmation = &confirmation{JKT: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}
		},
		"auth_time": func(c *idJAGClaims) { c.AuthTime = 1795634000 },
		// Characters encoding/json and go-jose could escape differently.
		"escapes": func(c *idJAGClaims) { c.Subject = `u-"<ali&ce>"/é` },
		"everything": func(c *idJAGClaims) {
			c.Resource, c.Scope, c.Email, c.AuthTime = "https://mcp.chat.example/mcp", "chat.read", "alice@acme.example", 1795634000
			c.Confirmation = &confirmation{JKT: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}
		},
	}
	for _, alg := range []string{"ES256", "RS256", "EdDSA"} {
		ring, err := signer.Load(signer.Options{IDTokenAlg: "RS256", IDJAGAlg: alg, Now: time.Now})
		if err != nil {
			t.Fatal(err)
		}
		key := ringKey(t, ring, alg)
		old, err := jose.NewSigner(
			jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: jose.JSONWebKey{Key: key.Key(), KeyID: key.ID()}},
			(&jose.SignerOptions{}).WithType(signer.IDJAGType))
		if err != nil {
			t.Fatal(err)
		}
		for name, knob := range knobs {
			t.Run(alg+"/"+name, func(t *testing.T) {
				c := base
				knob(&c)
				got, err := ring.SignIDJAG(context.Background(), c)
				if err != nil {
					t.Fatal(err)
				}
				want, err := jwt.Signed(old).Claims(c).Serialize()
				if err != nil {
					t.Fatal(err)
				}
				if g, w := strings.Split(got, ".")[0], strings.Split(want, ".")[0]; g != w {
					t.Errorf("header %s, go-jose writes %s", g, w)
				}
				gotHeader, gotClaims := verifyJWT(t, got, alg, key)
				wantHeader, wantClaims := verifyJWT(t, want, alg, key)
				if gotHeader != wantHeader {
					t.Errorf("header %+v, go-jose %+v", gotHeader, wantHeader)
				}
				if !reflect.DeepEqual(gotClaims, wantClaims) {
					t.Errorf("claims\n%v\ngo-jose\n%v", gotClaims, wantClaims)
				}
				if _, ok := gotClaims["aud"].(string); !ok {
					t.Errorf("aud %#v, want a single string (ID-JAG draft section 3)", gotClaims["aud"])
				}
				var std jwt.Claims
				tok, _ := jwt.ParseSigned(got, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
				if err := tok.Claims(key.Public(), &std); err != nil {
					t.Fatal(err)
				}
				if err := std.ValidateWithLeeway(jwt.Expected{Issuer: c.Issuer, AnyAudience: jwt.Audience{c.Audience.value}, Time: time.Unix(c.IssuedAt, 0)}, 0); err != nil {
					t.Errorf("registered claims: %v", err)
				}
			})
		}
	}
}

// TestIDTokenMatchesGoJose does the same for the ID tokens the ring
// re-stamps (idtoken.go): header typ JWT, and json.Number claims keep
// their digits.
func TestIDTokenMatchesGoJose(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			ring, err := signer.Load(signer.Options{IDTokenAlg: alg, IDJAGAlg: "ES256", Now: time.Now})
			if err != nil {
				t.Fatal(err)
			}
			key := ringKey(t, ring, alg)
			claims := map[string]any{
				"iss": "http://127.0.0.1:8080", "sub": "00u-alice", "aud": []string{"mcp-client"},
				"iat": json.Number("1795635078"), "exp": json.Number("1795638678"), "nonce": "n-0S6_WzA2Mj",
			}
			got, err := ring.SignIDToken(context.Background(), claims)
			if err != nil {
				t.Fatal(err)
			}
			old, err := jose.NewSigner(
				jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: jose.JSONWebKey{Key: key.Key(), KeyID: key.ID()}},
				(&jose.SignerOptions{}).WithType("JWT"))
			if err != nil {
				t.Fatal(err)
			}
			payload, _ := json.Marshal(claims)
			jws, err := old.Sign(payload)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := jws.CompactSerialize()
			gotHeader, gotClaims := verifyJWT(t, got, alg, key)
			wantHeader, wantClaims := verifyJWT(t, want, alg, key)
			if gotHeader != wantHeader || !reflect.DeepEqual(gotClaims, wantClaims) {
				t.Errorf("got %+v %v\ngo-jose %+v %v", gotHeader, gotClaims, wantHeader, wantClaims)
			}
			if g, w := strings.SplitN(got, ".", 3)[:2], strings.SplitN(want, ".", 3)[:2]; !reflect.DeepEqual(g, w) {
				t.Errorf("signing input %v, go-jose %v", g, w)
			}
		})
	}
}

// ringKey is the ring's published key of alg.
func ringKey(t *testing.T, ring *signer.Ring, alg string) *signer.Key {
	t.Helper()
	for _, k := range ring.Published() {
		if string(k.SignatureAlgorithm()) == alg {
			return k
		}
	}
	t.Fatalf("no %s key", alg)
	return nil
}

type joseHeader struct{ alg, kid, typ string }

// verifyJWT verifies tok with go-jose and returns its header and claims.
func verifyJWT(t *testing.T, tok, alg string, key *signer.Key) (joseHeader, map[string]any) {
	t.Helper()
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil {
		t.Fatalf("go-jose cannot parse %s: %v", tok, err)
	}
	var claims map[string]any
	if err := parsed.Claims(key.Public(), &claims); err != nil {
		t.Fatalf("go-jose cannot verify %s: %v", tok, err)
	}
	h := parsed.Headers[0]
	return joseHeader{h.Algorithm, h.KeyID, fmt.Sprint(h.ExtraHeaders[jose.HeaderType])}, claims
}

// TestIDJAGClaims_AppendJSONIsMarshal holds the hand-written encoder of
// the ID-JAG's claims (idJAGClaims.AppendJSON) to what encoding/json made
// of them before, byte for byte: for every combination of the optional
// claims and of aud's two forms (the knobs: id_jag.aud, resource_claim,
// email, tenant_claim; a server's include_email and aud_tenant; DPoP's
// cnf; auth_time), with plain values and with values that need escaping.
// The ring signs exactly those bytes.
func TestIDJAGClaims_AppendJSONIsMarshal(t *testing.T) {
	ring, err := signer.Load(signer.Options{IDTokenAlg: "RS256", IDJAGAlg: "ES256", Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	plain := []string{"http://127.0.0.1:8080/t/acme", "00u-alice", "https://as.chat.example", "mcp-client-at-chat",
		"aGVsbG8td29ybGQtanRp", "https://mcp.chat.example/mcp", "chat.read chat.write", "alice@acme.example",
		"acme", "tenant-at-chat", "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}
	tricky := []string{`http://h/<"&">`, "u-\"ali\\ce\"\n\t\x01", "https://as.example/?a=1&b=<2>", "client\u2028\u2029",
		"jti-\xff-bad-utf8", "https://mcp.example/é/日本", "a b\x7f", "ali+ce@\u00e9.example", "ten&ant", "", "jkt/\x00"}
	const optional = 9 // aud array, resource, scope, auth_time, email, email_verified, tenant, aud_tenant, cnf
	signed := 0
	for _, v := range [][]string{plain, tricky} {
		for mask := range 1 << optional {
			on := func(i int) bool { return mask&(1<<i) != 0 }
			c := idJAGClaims{
				Issuer: v[0], Subject: v[1], Audience: audience{value: v[2], array: on(0)}, ClientID: v[3], JTI: v[4],
				IssuedAt: 1795635078, Expiry: 1795635378,
			}
			if on(1) {
				c.Resource = v[5]
			}
			if on(2) {
				c.Scope = v[6]
			}
			if on(3) {
				c.AuthTime = 1795634000
			}
			if on(4) {
				c.Email = v[7]
			}
			c.EmailVerified = on(5)
			if on(6) {
				c.Tenant = v[8]
			}
			if on(7) {
				c.AudTenant = v[9]
			}
			if on(8) {
				c.Confirmation = &confirmation{JKT: v[10]}
			}
			want, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.AppendJSON([]byte("x")); string(got) != "x"+string(want) {
				t.Fatalf("claims %+v:\nAppendJSON %s\njson       %s", c, got[1:], want)
			}
			if mask%7 != 0 { // the ring signs the same bytes: a sample of the combinations
				continue
			}
			jag, err := ring.SignIDJAG(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			payload, err := base64.RawURLEncoding.DecodeString(strings.Split(jag, ".")[1])
			if err != nil || string(payload) != string(want) {
				t.Fatalf("signed payload %s (%v), want %s", payload, err, want)
			}
			signed++
		}
	}
	if signed == 0 {
		t.Fatal("nothing signed")
	}
}

// TestExchangeResponse_AppendJSONIsEncoder holds the hand-written token
// exchange response (exchangeResponse.AppendJSON) to what httpjson.Write,
// encoding/json's Encoder, wrote before, byte for byte.
func TestExchangeResponse_AppendJSONIsEncoder(t *testing.T) {
	for _, scope := range []string{"", "chat.read chat.write", `<&"\>` + "\u2028\xff"} {
		for _, token := range []string{"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln", "<&>"} {
			r := exchangeResponse{IssuedTokenType: tokenTypeIDJAG, AccessToken: token, TokenType: "N_A", ExpiresIn: 300, Scope: scope}
			var want bytes.Buffer
			if err := json.NewEncoder(&want).Encode(r); err != nil {
				t.Fatal(err)
			}
			if got := r.AppendJSON(nil); string(got) != want.String() {
				t.Errorf("AppendJSON %q\nEncoder    %q", got, want.String())
			}
		}
	}
}
