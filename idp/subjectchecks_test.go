package idp_test

import (
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// TestExchange_EachSubjectIDTokenCheckRefusesOnItsOwn mints subject ID
// tokens with the IdP's own signing key (key_files), each valid but for
// one thing, so that every check of conformance cases 27-33 is shown to
// refuse by itself. The tokens of TestConformance_ExchangeRefused fail
// several checks at once (another IdP's token has a foreign key as well
// as a foreign iss; the ID-JAG of case 33 is also for another audience),
// so dropping one check there would go unnoticed.
func TestExchange_EachSubjectIDTokenCheckRefusesOnItsOwn(t *testing.T) {
	key, keyFile := ownedES256Key(t)
	cfg := conformanceConfig(t)
	cfg.Signing.IDTokenAlg, cfg.Signing.IDJAGAlg, cfg.Signing.KeyFiles = "ES256", "ES256", []string{keyFile}
	p := startIdP(t, cfg)
	kid := p.Keys()[0].KID

	now := time.Now()
	valid := map[string]any{
		"iss": p.URL, "sub": "u-alice", "aud": "mcp-client",
		"iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(), "auth_time": now.Unix(),
	}
	with := func(change map[string]any) map[string]any {
		c := maps.Clone(valid)
		for k, v := range change {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	mint := func(typ string, claims map[string]any) string {
		t.Helper()
		opts := &jose.SignerOptions{}
		if typ != "" {
			opts = opts.WithType(jose.ContentType(typ))
		}
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, opts)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := jwt.Signed(s).Claims(claims).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}

	for _, c := range []struct {
		name  string
		token string
		want  string // error_description must contain it; "" for 200
	}{
		{"control: typ JWT", mint("JWT", valid), ""},
		{"control: no typ (OIDC Core does not require one)", mint("", valid), ""},
		{"control: typ application/jwt (RFC 7515 section 4.1.9)", mint("application/jwt", valid), ""},
		{"case 30 iss of another IdP, signed with our key", mint("JWT", with(map[string]any{"iss": "https://other-idp.example"})), "is not this IdP"},
		{"case 30 iss with a trailing slash", mint("JWT", with(map[string]any{"iss": p.URL + "/"})), "is not this IdP"},
		{"case 33 typed as an ID-JAG, otherwise a valid ID token", mint("oauth-id-jag+jwt", valid), "ID-JAG"},
		{"typed as an access token (RFC 9068), otherwise a valid ID token", mint("at+jwt", valid), "not an ID token"},
		{"typed as a security event token (RFC 8417)", mint("secevent+jwt", valid), "not an ID token"},
		{"without sub", mint("JWT", with(map[string]any{"sub": nil})), "no sub"},
		{"without exp", mint("JWT", with(map[string]any{"exp": nil})), "no exp"},
		{"issued in the future", mint("JWT", with(map[string]any{"iat": now.Add(time.Hour).Unix()})), "in the future"},
		{"not valid before an nbf an hour ahead (RFC 7519 section 4.1.5)", mint("JWT", with(map[string]any{"nbf": now.Add(time.Hour).Unix()})), "not valid before"},
		{"control: nbf within the skew", mint("JWT", with(map[string]any{"nbf": now.Add(10 * time.Second).Unix()})), ""},
		{"control: nbf in the past", mint("JWT", with(map[string]any{"nbf": now.Add(-time.Minute).Unix()})), ""},
		{"aud holds the client but azp names another (OIDC Core section 3.1.3.7)", mint("JWT", with(map[string]any{"aud": []string{"mcp-client", "other-client"}, "azp": "other-client"})), "azp"},
		{"control: aud of two with azp the client", mint("JWT", with(map[string]any{"aud": []string{"mcp-client", "other-client"}, "azp": "mcp-client"})), ""},
		{"control: azp the client", mint("JWT", with(map[string]any{"azp": "mcp-client"})), ""},
		// Without azp, aud alone says whom the token is for: the IdP's
		// own ID tokens carry azp, so the conformance case 32 token is
		// refused by azp whether or not aud is checked.
		{"case 32 aud another client, without azp", mint("JWT", with(map[string]any{"aud": "other-client"})), "audience validation failed"},
		{"aud another client, azp this one", mint("JWT", with(map[string]any{"aud": "other-client", "azp": "mcp-client"})), "audience validation failed"},
		// A login in the future would meet every max_auth_age (the age is
		// negative), and the ID-JAG would carry it on.
		{"auth_time an hour ahead", mint("JWT", with(map[string]any{"auth_time": now.Add(time.Hour).Unix()})), "auth_time"},
		{"control: auth_time within the skew", mint("JWT", with(map[string]any{"auth_time": now.Add(10 * time.Second).Unix()})), ""},
		// Signed by our key, so the signature verifies: the description
		// says what is wrong (it said the signature did not verify).
		{"exp a string", mint("JWT", with(map[string]any{"exp": "tomorrow"})), "claims cannot be read"},
		{"sub a number", mint("JWT", with(map[string]any{"sub": 5})), "claims cannot be read"},
		{"a signature that does not verify", mint("JWT", valid)[:len(mint("JWT", valid))-4] + "AAAA", "signature does not verify"},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := p.postToken(t, exchangeForm(c.token), basicS1)
			if c.want == "" {
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d %v, want 200", resp.StatusCode, body)
				}
				return
			}
			if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_request" {
				t.Fatalf("status %d %v, want 400 invalid_request", resp.StatusCode, body)
			}
			if d, _ := body["error_description"].(string); !strings.Contains(d, c.want) {
				t.Errorf("error_description %q, want it to contain %q", d, c.want)
			}
		})
	}
}

// TestExchange_SubjectIDTokenHeaderMembers: a subject ID token whose typ
// is a number was taken for one without typ, and one with an empty crit
// (RFC 7515 section 4.1.11: it MUST NOT be empty) was accepted. Both, and
// a crit naming an unknown extension, are refused saying which member is
// wrong, as the ID-JAG, client assertion and DPoP paths do.
func TestExchange_SubjectIDTokenHeaderMembers(t *testing.T) {
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
	mint := func(name string, value any) string {
		t.Helper()
		opts := (&jose.SignerOptions{}).WithHeader(jose.HeaderKey(name), value)
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, opts)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := jwt.Signed(s).Claims(claims).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	for _, c := range []struct {
		name  string
		token string
		want  string // in error_description; "" for 200
	}{
		{"control: typ JWT", mint("typ", "JWT"), ""},
		{"typ a number", mint("typ", 5), "typ"},
		{"crit empty", mint("crit", []string{}), "crit"},
		{"crit names an unknown extension", mint("crit", []string{"x-unknown"}), "crit"},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := p.postToken(t, exchangeForm(c.token), basicS1)
			if c.want == "" {
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d %v, want 200", resp.StatusCode, body)
				}
				return
			}
			if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_request" {
				t.Fatalf("status %d %v, want 400 invalid_request", resp.StatusCode, body)
			}
			if d, _ := body["error_description"].(string); !strings.Contains(d, c.want) {
				t.Errorf("error_description %q, want it to contain %q", d, c.want)
			}
		})
	}
}
