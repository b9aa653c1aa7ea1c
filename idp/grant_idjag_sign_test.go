package idp

import (
	"context"
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
