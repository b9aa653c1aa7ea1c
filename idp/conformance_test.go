package idp_test

// The conformance cases of docs/http.md ("Conformance cases"), each through real HTTP against
// the real handler, with every issued token verified against the published
// JWKS as a relying party or an MCP authorization server would. Subtests are
// named "case NN ..." after the numbering there.

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/policy"
)

// Wire values of RFC 8693 and the ID-JAG draft (RFC 8693 section 2.1; draft-ietf-oauth-identity-assertion-authz-grant section 4.3).
const (
	grantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	typeIDJAG          = "urn:ietf:params:oauth:token-type:id-jag"
	typeIDToken        = "urn:ietf:params:oauth:token-type:id_token"
	typeRefreshToken   = "urn:ietf:params:oauth:token-type:refresh_token"
	typeAccessToken    = "urn:ietf:params:oauth:token-type:access_token"
)

// The MCP servers of testdata/conformance.yaml.
const (
	chatAS   = "https://as.chat.example"
	chatMCP  = "https://mcp.chat.example/mcp"
	filesAS  = "https://as.files.example"
	filesMCP = "https://mcp.files.example/mcp"
	vaultAS  = "https://as.vault.example"
	vaultMCP = "https://mcp.vault.example/mcp"
)

// fixture is a conformance IdP with the logins the cases start from. Every
// token it sees is remembered, and when the test ends no audit event may
// contain any of them (docs/audit.md: tokens are never written).
type fixture struct {
	*testIdP
	alice idpclient.Tokens // alice via mcp-client, scope openid email offline_access
	bob   idpclient.Tokens // bob via mcp-client

	tokens []string
}

func newFixture(t *testing.T, cfg *policy.Config) *fixture {
	t.Helper()
	f := &fixture{testIdP: startIdP(t, cfg)}
	f.alice = f.loginAs(t, "mcp-client", "s1", "alice", "alice-pw")
	f.bob = f.loginAs(t, "mcp-client", "s1", "bob", "bob-pw")
	t.Cleanup(func() { f.checkAuditHasNoTokens(t) })
	return f
}

func conformanceConfig(t *testing.T) *policy.Config {
	return loadConfig(t, "testdata/conformance.yaml")
}

// loginAs runs a real code + PKCE login with nonce and remembers the tokens.
func (f *fixture) loginAs(t *testing.T, clientID, secret, username, password string) idpclient.Tokens {
	t.Helper()
	tok := f.login(t, clientID, secret, username, password, "openid", "email", "offline_access")
	for _, k := range []string{"id_token", "refresh_token", "access_token"} {
		f.remember(tok[k])
	}
	return tok
}

// remember keeps a token for checkAuditHasNoTokens. Short values such as
// "x" or "not.a.jwt" are no tokens and would match innocent text.
func (f *fixture) remember(v any) {
	if s, ok := v.(string); ok && len(s) >= 16 {
		f.tokens = append(f.tokens, s)
	}
}

// checkAuditHasNoTokens fails if any audit event, of any type, carries a
// token seen by the test, whole or its signature alone.
func (f *fixture) checkAuditHasNoTokens(t *testing.T) {
	events := f.Audit.Query(audit.Filter{Limit: audit.DefaultCapacity})
	for _, ev := range events {
		raw, err := json.Marshal(ev)
		if err != nil {
			t.Errorf("audit event %s does not encode: %v", ev.ID, err)
			continue
		}
		for _, tok := range f.tokens {
			parts := strings.Split(tok, ".")
			needle := parts[len(parts)-1]
			if strings.Contains(string(raw), tok) || (len(needle) >= 16 && strings.Contains(string(raw), needle)) {
				t.Errorf("audit event %s (%s) contains a token: %s", ev.ID, ev.Type, raw)
			}
		}
	}
}

// exchange posts a token request and remembers every token in it and in
// the answer.
func (f *fixture) exchange(t *testing.T, form url.Values, header http.Header) (*http.Response, map[string]any) {
	t.Helper()
	for _, k := range []string{"subject_token", "actor_token", "refresh_token", "code"} {
		f.remember(form.Get(k))
	}
	resp, body := f.postToken(t, form, header)
	for _, k := range []string{"access_token", "refresh_token", "id_token"} {
		f.remember(body[k])
	}
	return resp, body
}

// exchangeEvents returns the token_exchange audit events, newest first.
func (f *fixture) exchangeEvents() []audit.Event {
	return f.Audit.Query(audit.Filter{Type: audit.TypeTokenExchange, Limit: audit.DefaultCapacity})
}

// b is request B of docs/http.md, "Conformance cases", without its client authentication
// (basicS1 supplies that), for the given subject ID token, with mods applied.
func b(idToken string, mods ...func(url.Values)) url.Values {
	form := url.Values{
		"grant_type":           {grantTokenExchange},
		"requested_token_type": {typeIDJAG},
		"subject_token":        {idToken},
		"subject_token_type":   {typeIDToken},
		"audience":             {chatAS},
		"resource":             {chatMCP},
		"scope":                {"chat.read"},
	}
	for _, m := range mods {
		m(form)
	}
	return form
}

func set(k, v string) func(url.Values) { return func(f url.Values) { f.Set(k, v) } }
func add(k, v string) func(url.Values) { return func(f url.Values) { f.Add(k, v) } }
func del(k string) func(url.Values)    { return func(f url.Values) { f.Del(k) } }

// basic is client_secret_basic as RFC 6749 section 2.3.1 has it: id and
// secret form-URL-encoded, then base64.
func basic(id, secret string) http.Header {
	return basicRaw(url.QueryEscape(id), url.QueryEscape(secret))
}

// basicRaw sends id and secret exactly as given.
func basicRaw(id, secret string) http.Header {
	return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))}}
}

var basicS1 = basic("mcp-client", "s1")

// noAuth is an empty header: no Authorization at all.
var noAuth = http.Header{}

// unverifiedClaims decodes a JWT payload without checking it.
func unverifiedClaims(t testing.TB, raw string) map[string]any {
	t.Helper()
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA})
	if err != nil {
		t.Fatalf("parse JWT: %v", err)
	}
	var c map[string]any
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

func numClaim(t testing.TB, claims map[string]any, name string) int64 {
	t.Helper()
	n, ok := claims[name].(float64)
	if !ok {
		t.Fatalf("claim %s is missing or not a number: %v", name, claims[name])
	}
	return int64(n)
}

// TestConformance_Discovery covers cases 1-3 and the metadata fields docs/interop.md says clients require
// checklist.
func TestConformance_Discovery(t *testing.T) {
	p := startIdP(t, conformanceConfig(t))
	fetch := func(t *testing.T, path string) (*http.Response, map[string]any) {
		t.Helper()
		resp, err := http.Get(p.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var doc map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
			t.Fatalf("%s: not JSON: %v", path, err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", path, resp.StatusCode)
		}
		return resp, doc
	}
	strs := func(doc map[string]any, field string) []string {
		var out []string
		list, _ := doc[field].([]any)
		for _, v := range list {
			s, _ := v.(string)
			out = append(out, s)
		}
		return out
	}

	_, oidc := fetch(t, "/.well-known/openid-configuration")
	t.Run("case 01 openid-configuration", func(t *testing.T) {
		if oidc["issuer"] != p.URL {
			t.Errorf("issuer = %v, want %s byte for byte", oidc["issuer"], p.URL)
		}
		if strings.HasSuffix(p.URL, "/") {
			t.Errorf("issuer %s ends with a slash", p.URL)
		}
		for _, field := range []string{"authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint"} {
			if v, _ := oidc[field].(string); !strings.HasPrefix(v, p.URL+"/") {
				t.Errorf("%s = %v, want an endpoint under the issuer", field, oidc[field])
			}
		}
		wantSets := []struct {
			field string
			want  []string
			exact bool
		}{
			{"response_types_supported", []string{"code"}, true},
			{"code_challenge_methods_supported", []string{"S256"}, true},
			{"identity_chaining_requested_token_types_supported", []string{typeIDJAG}, true},
			{"dpop_signing_alg_values_supported", []string{"ES256", "RS256", "PS256", "EdDSA", "Ed25519"}, true},
			{"subject_types_supported", []string{"public"}, false},
			{"id_token_signing_alg_values_supported", []string{"RS256"}, false},
			{"scopes_supported", []string{"openid", "email", "profile", "offline_access"}, false},
			{"grant_types_supported", []string{"authorization_code", "refresh_token", grantTokenExchange}, false},
			{"token_endpoint_auth_methods_supported", []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"}, false},
		}
		for _, w := range wantSets {
			got := strs(oidc, w.field)
			if w.exact && !slices.Equal(got, w.want) {
				t.Errorf("%s = %v, want %v", w.field, got, w.want)
			}
			for _, v := range w.want {
				if !slices.Contains(got, v) {
					t.Errorf("%s = %v, lacks %s", w.field, got, v)
				}
			}
		}
	})

	t.Run("case 02 oauth-authorization-server is the same document", func(t *testing.T) {
		_, oauth := fetch(t, "/.well-known/oauth-authorization-server")
		if !reflect.DeepEqual(oauth, oidc) {
			t.Errorf("the two metadata documents differ:\n%v\n%v", oauth, oidc)
		}
	})

	t.Run("case 03 jwks", func(t *testing.T) {
		jwksURI, _ := oidc["jwks_uri"].(string)
		resp, err := http.Get(jwksURI)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("jwks_uri: status %d", resp.StatusCode)
		}
		var set struct {
			Keys []map[string]any `json:"keys"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
			t.Fatal(err)
		}
		if len(set.Keys) == 0 {
			t.Fatal("jwks has no keys")
		}
		for _, k := range set.Keys {
			if k["kid"] == nil || k["kid"] == "" || k["alg"] == nil || k["alg"] == "" || k["use"] != "sig" {
				t.Errorf("key %v: want kid, alg and use sig", k)
			}
			for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
				if _, ok := k[private]; ok {
					t.Errorf("key %v publishes the private member %q", k["kid"], private)
				}
			}
		}
	})
}

// TestConformance_Login covers case 4: a code + PKCE login with nonce gives
// an ID token a strict relying party accepts.
func TestConformance_Login(t *testing.T) {
	f := newFixture(t, conformanceConfig(t))
	if f.alice.RefreshToken() == "" {
		t.Error("no refresh_token although offline_access was requested")
	}
	if tt, _ := f.alice["token_type"].(string); !strings.EqualFold(tt, "Bearer") {
		t.Errorf("token_type = %v, want Bearer", f.alice["token_type"])
	}
	hdr, c := f.verifyJWT(t, f.alice.IDToken())
	if hdr.Algorithm != "RS256" {
		t.Errorf("ID token alg = %s, want RS256 (OIDC's default)", hdr.Algorithm)
	}
	if typ, ok := hdr.ExtraHeaders[jose.HeaderType]; ok && typ != "JWT" {
		t.Errorf("ID token typ = %v, want JWT or none", typ)
	}
	if c["iss"] != f.URL {
		t.Errorf("iss = %v, want %s", c["iss"], f.URL)
	}
	var aud []string
	switch a := c["aud"].(type) {
	case string:
		aud = []string{a}
	case []any:
		for _, v := range a {
			s, _ := v.(string)
			aud = append(aud, s)
		}
	}
	if !slices.Contains(aud, "mcp-client") {
		t.Errorf("aud = %v, want it to contain mcp-client", c["aud"])
	}
	if c["sub"] != "u-alice" {
		t.Errorf("sub = %v, want u-alice", c["sub"])
	}
	if c["nonce"] != "n-0S6_WzA2Mj" {
		t.Errorf("nonce = %v, want the one sent", c["nonce"])
	}
	numClaim(t, c, "auth_time")
	if exp, iat := numClaim(t, c, "exp"), numClaim(t, c, "iat"); exp <= iat {
		t.Errorf("exp %d is not after iat %d", exp, iat)
	}
	if c["email"] != "alice@example.com" {
		t.Errorf("email = %v, want alice@example.com", c["email"])
	}
	// Claims follow the scopes (OIDC Core section 5.4): neither profile
	// nor groups was requested.
	if c["name"] != nil || c["groups"] != nil {
		t.Errorf("name = %v, groups = %v: claims of scopes that were not requested", c["name"], c["groups"])
	}
}

// grantCase is a token exchange that must yield an ID-JAG.
type grantCase struct {
	name     string
	form     url.Values
	header   http.Header
	skip     string // why the case is not implemented
	sub      string
	aud      string
	clientID string
	resource string // "" means no resource claim
	scope    string // granted scope, in the response and the ID-JAG
	twice    bool   // send the same request again: it must work again, with a new jti
	check    func(t *testing.T, claims map[string]any)
}

// TestConformance_ExchangeIssuesIDJAG covers the positive cases 5-17.
func TestConformance_ExchangeIssuesIDJAG(t *testing.T) {
	f := newFixture(t, conformanceConfig(t))
	pub := f.loginAs(t, "pub-client", "", "alice", "alice-pw")
	alice := f.alice.IDToken()
	aliceAuthTime := numClaim(t, unverifiedClaims(t, alice), "auth_time")
	dpopKey := newP256(t)

	cases := []grantCase{
		{name: "case 05 basic auth", form: b(alice), header: basicS1,
			sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read"},
		{name: "case 06 client_secret_post",
			form: b(alice, set("client_id", "mcp-client"), set("client_secret", "s1")), header: noAuth,
			sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read"},
		{name: "case 07 public client sends only client_id",
			form: b(pub.IDToken(), set("client_id", "pub-client")), header: noAuth,
			sub: "u-alice", aud: chatAS, clientID: "pub-client-at-chat", resource: chatMCP, scope: "chat.read"},
		{name: "case 07 public client sends client_id as Basic with an empty password (golang.org/x/oauth2)",
			form: b(pub.IDToken()), header: basic("pub-client", ""),
			sub: "u-alice", aud: chatAS, clientID: "pub-client-at-chat", resource: chatMCP, scope: "chat.read"},
		{name: "case 08 without resource (stable EMA)", form: b(alice, del("resource")), header: basicS1,
			sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", scope: "chat.read"},
		{name: "case 09 audience with trailing slash", form: b(alice, set("audience", chatAS+"/")), header: basicS1,
			sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read"},
		{name: "case 09 audience alias", form: b(alice, set("audience", "urn:example:chat")), header: basicS1,
			sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read"},
		{name: "case 10 bob is downscoped", form: b(f.bob.IDToken(), set("scope", "chat.read chat.write")), header: basicS1,
			sub: "u-bob", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read"},
		// The draft allows either no scope or the policy's default; the
		// IdP grants everything the matching entries allow.
		{name: "case 11 without scope grants the assigned scopes", form: b(alice, del("scope")), header: basicS1,
			sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read chat.write"},
		{name: "case 12 refresh token as subject, not consumed",
			form:   b(f.alice.RefreshToken(), set("subject_token_type", typeRefreshToken)),
			header: basicS1, twice: true,
			sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read"},
		{name: "case 13 the same request twice", form: b(alice), header: basicS1, twice: true,
			sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read"},
		{name: "case 14 unknown parameter and empty code= (Go SDK)",
			form: b(alice, set("code", ""), set("foo", "bar")), header: basicS1,
			sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read"},
		{name: "case 14 empty actor_token= and actor_token_type= (zitadel client)",
			form: b(alice, set("actor_token", ""), set("actor_token_type", "")), header: basicS1,
			sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read"},
		{name: "case 15 DPoP binds the ID-JAG", form: b(alice), header: f.dpopHeader(t, proof{key: dpopKey}),
			sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read",
			check: wantJKT(jkt(t, dpopKey))},
		{name: "case 16 email and auth_time when the server wants them", form: b(alice), header: basicS1,
			sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read",
			check: func(t *testing.T, c map[string]any) {
				if c["email"] != "alice@example.com" {
					t.Errorf("email = %v, want alice@example.com", c["email"])
				}
				if got := numClaim(t, c, "auth_time"); got != aliceAuthTime {
					t.Errorf("auth_time = %d, want the ID token's %d", got, aliceAuthTime)
				}
			}},
		{name: "case 16 no email for a server without include_email",
			form: b(alice, set("audience", filesAS), set("resource", filesMCP), set("scope", "files.read")), header: basicS1,
			sub: "u-alice", aud: filesAS, clientID: "mcp-client-at-files", resource: filesMCP, scope: "files.read",
			check: func(t *testing.T, c map[string]any) {
				if _, ok := c["email"]; ok {
					t.Errorf("email = %v, want none (EMA section 7.4.3)", c["email"])
				}
			}},
		{name: "case 17 SAML assertion for a refresh token", skip: "SAML 2.0 subject tokens are not implemented"},
		{name: "client_secret_basic with form-URL-encoded id and secret",
			form: b(alice), header: basicRaw("mcp%2Dclient", "s%31"),
			sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read"},
		// Clients differ in scope order, repeats and spacing; the ID-JAG
		// carries each granted scope once, in the server's order.
		{name: "scopes in another order", form: b(alice, set("scope", "chat.write chat.read")), header: basicS1,
			sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read chat.write"},
		{name: "a scope repeated", form: b(alice, set("scope", "chat.read chat.read")), header: basicS1,
			sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read"},
		{name: "scopes with extra spaces", form: b(alice, set("scope", " chat.write  chat.read ")), header: basicS1,
			sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read chat.write"},
		{name: "an unknown scope beside a known one is dropped", form: b(alice, set("scope", "chat.read other.scope")), header: basicS1,
			sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read"},
		{name: "Content-Type with charset and odd case", form: b(alice), header: http.Header{
			"Authorization": basicS1["Authorization"], "Content-Type": {"Application/X-WWW-Form-URLEncoded; Charset=UTF-8"}},
			sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read"},
		{name: "resource with a trailing slash yields the configured resource",
			form: b(alice, set("resource", chatMCP+"/")), header: basicS1,
			sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.skip != "" {
				t.Skip(tc.skip)
			}
			first := f.expectIDJAG(t, tc)
			if tc.twice {
				second := f.expectIDJAG(t, tc)
				if first == second {
					t.Errorf("two exchanges gave the same jti %q", first)
				}
			}
		})
	}
}

// expectIDJAG sends the case's request, checks the answer and the ID-JAG as
// an MCP authorization server would, and returns the ID-JAG's jti.
func (f *fixture) expectIDJAG(t *testing.T, tc grantCase) string {
	t.Helper()
	resp, body := f.exchange(t, tc.form, tc.header)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200: %v", resp.StatusCode, body)
	}
	checkTokenHeaders(t, resp)
	if body["issued_token_type"] != typeIDJAG {
		t.Errorf("issued_token_type = %v, want %s", body["issued_token_type"], typeIDJAG)
	}
	if body["token_type"] != "N_A" {
		t.Errorf("token_type = %v, want N_A", body["token_type"])
	}
	if body["expires_in"] != float64(300) {
		t.Errorf("expires_in = %v, want 300", body["expires_in"])
	}
	if body["scope"] != tc.scope {
		t.Errorf("response scope = %v, want %q", body["scope"], tc.scope)
	}
	if _, ok := body["refresh_token"]; ok {
		t.Error("the exchange answered with a refresh_token")
	}
	jag, _ := body["access_token"].(string)
	hdr, c := f.verifyJWT(t, jag)
	if typ := hdr.ExtraHeaders[jose.HeaderType]; typ != "oauth-id-jag+jwt" {
		t.Errorf("ID-JAG typ = %v, want oauth-id-jag+jwt", typ)
	}
	if hdr.Algorithm != "RS256" && hdr.Algorithm != "ES256" {
		t.Errorf("ID-JAG alg = %s, want RS256 or ES256", hdr.Algorithm)
	}
	want := map[string]any{"iss": f.URL, "sub": tc.sub, "aud": tc.aud, "client_id": tc.clientID}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("ID-JAG %s = %#v, want %#v", k, c[k], v)
		}
	}
	for k, v := range map[string]string{"resource": tc.resource, "scope": tc.scope} {
		got, present := c[k]
		switch {
		case v == "" && present:
			t.Errorf("ID-JAG has %s %v, want none", k, got)
		case v != "" && got != v:
			t.Errorf("ID-JAG %s = %#v, want %q", k, got, v)
		}
	}
	if life := numClaim(t, c, "exp") - numClaim(t, c, "iat"); life != 300 {
		t.Errorf("ID-JAG exp - iat = %d, want 300", life)
	}
	jti, _ := c["jti"].(string)
	if jti == "" {
		t.Error("ID-JAG has no jti")
	}
	if _, bound := c["cnf"]; bound != (tc.header.Get("DPoP") != "") {
		t.Errorf("ID-JAG cnf = %v for a request with DPoP header %q", c["cnf"], tc.header.Get("DPoP"))
	}
	if tc.check != nil {
		tc.check(t, c)
	}
	ev := f.exchangeEvents()[0]
	if ev.Outcome != audit.Allowed || ev.JTI != jti || ev.ScopeGranted != tc.scope {
		t.Errorf("audit event: outcome %q jti %q scope_granted %q, want allowed %q %q", ev.Outcome, ev.JTI, ev.ScopeGranted, jti, tc.scope)
	}
	return jti
}

// refusal is a token request that must be refused.
type refusal struct {
	name   string
	form   url.Values
	header http.Header // nil: Basic mcp-client:s1
	status int         // 0: 400
	code   string
	// outcome is the audit event's outcome; "" for requests refused before
	// they are known to be a token exchange, which leave no such event.
	outcome string
	user    string        // the audit event's user, when the subject was resolved
	clock   time.Duration // the IdP's clock runs this far ahead for the request
	// Requests that are not a form POST.
	method, contentType, rawBody string
	wwwAuthenticate              bool // a WWW-Authenticate: Basic challenge is due
	after                        func(t *testing.T, body map[string]any)
}

// expectRefusal sends the request and checks the RFC 6749 section 5.2
// error answer and its audit event.
func (f *fixture) expectRefusal(t *testing.T, tc refusal) {
	t.Helper()
	if tc.header == nil {
		tc.header = basicS1
	}
	if tc.status == 0 {
		tc.status = http.StatusBadRequest
	}
	if tc.clock != 0 {
		f.clock.offset = tc.clock
		defer func() { f.clock.offset = 0 }()
	}
	before := len(f.exchangeEvents())
	var resp *http.Response
	var body map[string]any
	if tc.method == "" && tc.contentType == "" {
		resp, body = f.exchange(t, tc.form, tc.header)
	} else {
		resp, body = f.send(t, tc)
	}
	checkOAuthError(t, resp, body, tc.status, tc.code)
	if tc.wwwAuthenticate {
		if h := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Basic") {
			t.Errorf("WWW-Authenticate = %q, want a Basic challenge (RFC 6749 section 5.2)", h)
		}
	}
	if tc.after != nil {
		tc.after(t, body)
	}

	events := f.exchangeEvents()
	if tc.outcome == "" {
		if len(events) != before {
			t.Errorf("%d token_exchange audit events for a request that is no token exchange", len(events)-before)
		}
		return
	}
	if len(events) != before+1 {
		t.Fatalf("%d new token_exchange audit events, want 1", len(events)-before)
	}
	ev := events[0]
	if ev.Outcome != tc.outcome || ev.Error != tc.code {
		t.Errorf("audit event outcome %q error %q, want %q %q", ev.Outcome, ev.Error, tc.outcome, tc.code)
	}
	if ev.Reason == "" {
		t.Error("audit event has no reason")
	}
	if tc.user != "" && ev.User != tc.user {
		t.Errorf("audit event user = %q, want %q", ev.User, tc.user)
	}
	if ev.JTI != "" {
		t.Errorf("a refused exchange was audited with jti %q", ev.JTI)
	}
}

// checkOAuthError asserts an RFC 6749 section 5.2 error answer that carries
// no token.
func checkOAuthError(t *testing.T, resp *http.Response, body map[string]any, status int, code string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("status %d, want %d: %v", resp.StatusCode, status, body)
	}
	if body["error"] != code {
		t.Errorf("error = %v, want %s (%v)", body["error"], code, body["error_description"])
	}
	if d, _ := body["error_description"].(string); d == "" {
		t.Error("no error_description")
	}
	checkTokenHeaders(t, resp)
	for _, k := range []string{"access_token", "refresh_token", "id_token"} {
		if _, ok := body[k]; ok {
			t.Errorf("an error answer carries %s", k)
		}
	}
}

// checkTokenHeaders asserts the headers of every token endpoint answer,
// success or error: RFC 6749 section 5.1 (and 5.2 by reference) requires
// Cache-Control: no-store and Pragma: no-cache, and the body is JSON.
func checkTokenHeaders(t *testing.T, resp *http.Response) {
	t.Helper()
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	if p := resp.Header.Get("Pragma"); p != "no-cache" {
		t.Errorf("Pragma = %q, want no-cache", p)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
}

// send is for the requests postToken cannot make: another method or
// content type.
func (f *fixture) send(t *testing.T, tc refusal) (*http.Response, map[string]any) {
	t.Helper()
	method := tc.method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequest(method, f.URL+"/oauth/token", strings.NewReader(tc.rawBody))
	if err != nil {
		t.Fatal(err)
	}
	if tc.contentType != "" {
		req.Header.Set("Content-Type", tc.contentType)
	}
	for k, v := range tc.header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("%s answered %s with a non-JSON body: %v", req.URL, resp.Status, err)
	}
	return resp, body
}

// TestConformance_ExchangeRefused covers the negative cases 18-49 in the
// default modes.
func TestConformance_ExchangeRefused(t *testing.T) {
	f := newFixture(t, conformanceConfig(t))
	other := f.loginAs(t, "other-client", "s2", "alice", "alice-pw")
	alice := f.alice.IDToken()
	bob := f.bob.IDToken()
	jsonB, _ := json.Marshal(map[string]string{
		"grant_type": grantTokenExchange, "requested_token_type": typeIDJAG, "subject_token": alice,
		"subject_token_type": typeIDToken, "audience": chatAS, "resource": chatMCP, "scope": "chat.read",
	})
	const (
		errored = audit.Error
		denied  = audit.Denied
	)

	cases := []refusal{
		{name: "case 18 GET /token", method: http.MethodGet, status: http.StatusMethodNotAllowed, code: "invalid_request"},
		{name: "case 19 JSON body", contentType: "application/json", rawBody: string(jsonB), code: "invalid_request"},
		{name: "case 20 without grant_type", form: b(alice, del("grant_type")), code: "invalid_request"},
		{name: "case 21 unknown grant_type", form: b(alice, set("grant_type", "urn:example:foo")), code: "unsupported_grant_type"},
		{name: "case 22 without requested_token_type", form: b(alice, del("requested_token_type")), code: "invalid_request", outcome: errored},
		{name: "case 23 requested_token_type access_token", form: b(alice, set("requested_token_type", typeAccessToken)), code: "invalid_request", outcome: errored},
		{name: "case 24 without subject_token", form: b(alice, del("subject_token")), code: "invalid_request", outcome: errored},
		{name: "case 25 without subject_token_type", form: b(alice, del("subject_token_type")), code: "invalid_request", outcome: errored},
		{name: "case 26 subject_token_type access_token", form: b(alice, set("subject_token_type", typeAccessToken)), code: "invalid_request", outcome: errored},
		{name: "case 26 subject_token_type jwt", form: b(alice, set("subject_token_type", "urn:ietf:params:oauth:token-type:jwt")), code: "invalid_request", outcome: errored},
		{name: "case 26 subject_token_type saml1", form: b(alice, set("subject_token_type", "urn:ietf:params:oauth:token-type:saml1")), code: "invalid_request", outcome: errored},
		{name: "case 34 without audience", form: b(alice, del("audience")), code: "invalid_request", outcome: errored},
		// A missing parameter is refused before the DPoP proof and the
		// subject token are looked at (docs/http.md, "Processing, in order").
		{name: "case 34 without audience, with a bad DPoP proof", form: b(alice, del("audience")),
			header: http.Header{"Authorization": basicS1["Authorization"], "Dpop": {"not-a-proof"}}, code: "invalid_request", outcome: errored},
		{name: "case 34 without audience, with an unknown refresh token", form: b("rt_unknown", set("subject_token_type", typeRefreshToken), del("audience")),
			code: "invalid_request", outcome: errored},
		{name: "case 35 unknown audience", form: b(alice, set("audience", "https://unknown.example")), code: "invalid_target", outcome: errored},
		{name: "case 36 audience and resource of different servers", form: b(alice, set("resource", filesMCP)), code: "invalid_target", outcome: errored},
		{name: "case 37 unknown resource", form: b(alice, set("resource", "https://mcp.chat.example/other")), code: "invalid_target", outcome: errored},
		{name: "case 38 two audiences", form: b(alice, add("audience", filesAS)), code: "invalid_request", outcome: errored},
		{name: "two resources", form: b(alice, add("resource", filesMCP)), code: "invalid_request", outcome: errored},
		{name: "case 39 Basic with a wrong secret", form: b(alice), header: basic("mcp-client", "wrong"),
			status: http.StatusUnauthorized, code: "invalid_client", outcome: errored, wwwAuthenticate: true},
		{name: "a client_id URL not form-encoded in Basic", form: b(alice), header: basicRaw("https://app.example/client.json", ""),
			status: http.StatusUnauthorized, code: "invalid_client", outcome: errored, wwwAuthenticate: true,
			after: func(t *testing.T, body map[string]any) {
				if d, _ := body["error_description"].(string); !strings.Contains(d, `client_id 'https' is not registered at this IdP; the Basic credentials hold more than one ':'`) {
					t.Errorf("error_description %q does not say why", d)
				}
			}},
		{name: "public client with a Basic password", form: b(alice), header: basic("pub-client", "x"),
			status: http.StatusUnauthorized, code: "invalid_client", outcome: errored, wwwAuthenticate: true},
		{name: "case 40 unknown client_id", form: b(alice, set("client_id", "nobody"), set("client_secret", "x")), header: noAuth,
			status: http.StatusUnauthorized, code: "invalid_client", outcome: errored},
		{name: "case 41 confidential client without credentials", form: b(alice, set("client_id", "mcp-client")), header: noAuth,
			status: http.StatusUnauthorized, code: "invalid_client", outcome: errored},
		{name: "case 41 no client at all", form: b(alice), header: noAuth,
			status: http.StatusUnauthorized, code: "invalid_client", outcome: errored},
		{name: "case 42 Basic and client_secret in the body", form: b(alice, set("client_secret", "s1")),
			code: "invalid_request", outcome: errored},
		// A client authentication parameter sent twice is a request error
		// (RFC 6749 section 3.2), whichever value comes first.
		{name: "client_secret twice, the wrong one first", form: b(alice, set("client_id", "mcp-client"), set("client_secret", "wrong"), add("client_secret", "s1")),
			header: noAuth, code: "invalid_request", outcome: errored},
		{name: "client_id twice", form: b(alice, set("client_id", "nobody"), add("client_id", "mcp-client"), set("client_secret", "s1")),
			header: noAuth, code: "invalid_request", outcome: errored},
		{name: "case 43 client not enabled for token exchange", form: b(other.IDToken()), header: basic("other-client", "s2"),
			code: "unauthorized_client", outcome: errored},
		{name: "case 44 bob is not assigned to files",
			form: b(bob, set("audience", filesAS), set("resource", filesMCP), set("scope", "files.read")),
			code: "access_denied", outcome: denied, user: "bob"},
		{name: "case 45 bob asks only for a scope he lacks", form: b(bob, set("scope", "chat.write")),
			code: "invalid_scope", outcome: denied, user: "bob"},
		{name: "case 46 login too old for the server (ID token)",
			form:  b(alice, set("audience", vaultAS), set("resource", vaultMCP), set("scope", "vault.read")),
			clock: 10 * time.Minute, code: "insufficient_user_authentication", outcome: denied, user: "alice",
			after: wantMaxAge(300)},
		{name: "case 46 login too old for the server (refresh token)",
			form: b(f.alice.RefreshToken(), set("subject_token_type", typeRefreshToken),
				set("audience", vaultAS), set("resource", vaultMCP), set("scope", "vault.read")),
			clock: time.Hour, code: "insufficient_user_authentication", outcome: denied, user: "alice",
			after: wantMaxAge(300)},
		{name: "case 47 unknown refresh token", form: b("rt_unknown", set("subject_token_type", typeRefreshToken)),
			code: "invalid_grant", outcome: errored},
		{name: "case 48 refresh token of another client",
			form: b(other.RefreshToken(), set("subject_token_type", typeRefreshToken)),
			code: "invalid_grant", outcome: errored},
		{name: "case 49 actor_token without actor_token_type", form: b(alice, set("actor_token", "x")),
			code: "invalid_request", outcome: errored},
		{name: "actor_token_type without actor_token", form: b(alice, set("actor_token_type", typeIDToken)),
			code: "invalid_request", outcome: errored},
		{name: "subject_token_type saml2 is not implemented",
			form: b("PHNhbWw+", set("subject_token_type", "urn:ietf:params:oauth:token-type:saml2")),
			code: "invalid_request", outcome: errored},
	}
	cases = append(cases, subjectTokenRefusals(t, f, "invalid_request")...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { f.expectRefusal(t, tc) })
	}
	t.Run("case 18 Allow header", func(t *testing.T) {
		resp, _ := f.send(t, refusal{method: http.MethodGet})
		if allow := resp.Header.Get("Allow"); allow != http.MethodPost {
			t.Errorf("Allow = %q, want POST", allow)
		}
	})
}

func wantMaxAge(seconds float64) func(t *testing.T, body map[string]any) {
	return func(t *testing.T, body map[string]any) {
		if body["max_age"] != seconds {
			t.Errorf("max_age = %v, want %v", body["max_age"], seconds)
		}
	}
}

// subjectTokenRefusals are cases 27-33: subject ID tokens that must be
// refused with the configured code (exchange.subject_token_error).
func subjectTokenRefusals(t *testing.T, f *fixture, code string) []refusal {
	t.Helper()
	alice := f.alice.IDToken()
	claims := unverifiedClaims(t, alice)
	exp := time.Unix(numClaim(t, claims, "exp"), 0)
	parts := strings.Split(alice, ".")
	var hdr map[string]any
	raw, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if err := json.Unmarshal(raw, &hdr); err != nil {
		t.Fatal(err)
	}
	kid, _ := hdr["kid"].(string)

	// A payload changed under the original signature: bob instead of alice.
	tampered := map[string]any{}
	for k, v := range claims {
		tampered[k] = v
	}
	tampered["sub"] = "u-bob"
	payload, _ := json.Marshal(tampered)
	tamperedToken := parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]

	stranger, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	foreignKey := mintIDToken(t, stranger, "stranger", jose.RS256, claims)
	foreignKeyOurKid := mintIDToken(t, stranger, kid, jose.RS256, claims)

	// Another IdP's ID token for the same user and client.
	elsewhere := startIdP(t, conformanceConfig(t))
	otherIssuer := elsewhere.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid").IDToken()
	f.remember(otherIssuer)

	noneHeader, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT", "kid": kid})
	algNone := base64.RawURLEncoding.EncodeToString(noneHeader) + "." + parts[1] + "."

	// An ID-JAG issued by this IdP, presented as if it were an ID token.
	resp, body := f.exchange(t, b(alice), basicS1)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("exchange for an ID-JAG: %d %v", resp.StatusCode, body)
	}
	jag, _ := body["access_token"].(string)

	rows := []struct {
		name  string
		token string
		clock time.Duration
	}{
		{"case 27 not a JWT", "not.a.jwt", 0},
		{"case 28 expired a minute ago", alice, time.Until(exp) + time.Minute},
		{"case 29 tampered payload", tamperedToken, 0},
		{"case 30 signed by an unknown key", foreignKey, 0},
		{"case 30 signed by another key under our kid", foreignKeyOurKid, 0},
		{"case 30 issued by another IdP", otherIssuer, 0},
		{"case 31 alg none", algNone, 0},
		{"case 33 an ID-JAG as the subject ID token", jag, 0},
	}
	var out []refusal
	for _, r := range rows {
		out = append(out, refusal{name: r.name, form: b(r.token), clock: r.clock, code: code, outcome: audit.Error})
	}
	// Case 32 needs the token of a client that may exchange: alice's ID
	// token for mcp-client presented by pub-client.
	out = append(out, refusal{
		name: "case 32 ID token issued to another client", form: b(alice, set("client_id", "pub-client")), header: noAuth,
		code: code, outcome: audit.Error,
		after: func(t *testing.T, body map[string]any) {
			if d, _ := body["error_description"].(string); !strings.Contains(d, "audience validation failed") {
				t.Errorf("error_description = %q, want it to say audience validation failed", d)
			}
		},
	})
	return out
}

// TestConformance_SubjectTokenErrorInvalidGrant covers cases 27-33 with
// exchange.subject_token_error: invalid_grant (the draft's example and the
// MCP conformance mock).
func TestConformance_SubjectTokenErrorInvalidGrant(t *testing.T) {
	cfg := conformanceConfig(t)
	cfg.Exchange.SubjectTokenError = policy.ErrInvalidGrant
	f := newFixture(t, cfg)
	for _, tc := range subjectTokenRefusals(t, f, "invalid_grant") {
		t.Run(tc.name, func(t *testing.T) { f.expectRefusal(t, tc) })
	}
}

// TestConformance_RequireResource covers case 8 in the EMA draft mode.
func TestConformance_RequireResource(t *testing.T) {
	cfg := conformanceConfig(t)
	cfg.Exchange.RequireResource = true
	f := newFixture(t, cfg)
	f.expectRefusal(t, refusal{form: b(f.alice.IDToken(), del("resource")), code: "invalid_request", outcome: audit.Error})
	f.expectIDJAG(t, grantCase{form: b(f.alice.IDToken()), header: basicS1,
		sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read"})
}

// TestConformance_DeniedUserGetsInvalidRequestInStrictMode covers case 44
// with exchange.denied_error: invalid_request (strict RFC 8693): the code
// changes, the audit still records a denial.
func TestConformance_DeniedUserGetsInvalidRequestInStrictMode(t *testing.T) {
	cfg := conformanceConfig(t)
	cfg.Exchange.DeniedError = policy.ErrInvalidRequest
	f := newFixture(t, cfg)
	f.expectRefusal(t, refusal{
		form: b(f.bob.IDToken(), set("audience", filesAS), set("resource", filesMCP), set("scope", "files.read")),
		code: "invalid_request", outcome: audit.Denied, user: "bob",
	})
}

// TestConformance_SingleUseSubject covers case 50: with
// exchange.single_use_subject an ID token is exchanged once per server;
// a refresh token, a long-lived grant, stays reusable (case 12).
func TestConformance_SingleUseSubject(t *testing.T) {
	cfg := conformanceConfig(t)
	cfg.Exchange.SingleUseSubject = true
	f := newFixture(t, cfg)
	alice := f.alice.IDToken()
	chat := grantCase{form: b(alice), header: basicS1,
		sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read"}
	f.expectIDJAG(t, chat)
	f.expectRefusal(t, refusal{form: b(alice), code: "invalid_grant", outcome: audit.Error})
	f.expectIDJAG(t, grantCase{form: b(alice, set("audience", filesAS), set("resource", filesMCP), set("scope", "files.read")), header: basicS1,
		sub: "u-alice", aud: filesAS, clientID: "mcp-client-at-files", resource: filesMCP, scope: "files.read"})
	rt := chat
	rt.form = b(f.alice.RefreshToken(), set("subject_token_type", typeRefreshToken))
	f.expectIDJAG(t, rt)
	f.expectIDJAG(t, rt)
}

// browser is a user agent with a cookie jar that does not follow
// redirects, so that each hop can be checked.
type browser struct {
	p  *testIdP
	hc *http.Client
}

func newBrowser(p *testIdP) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{p: p, hc: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// authResult is where an /authorize request ended.
type authResult struct {
	status     int         // of the last IdP response
	issuer     string      // of the IdP asked
	location   *url.URL    // the redirect back to the client; nil if none
	header     http.Header // of the last IdP response
	loginShown bool        // the login form was shown on the way
}

// authorize starts a code flow and follows the IdP's redirects until the
// IdP sends the browser back to redirect_uri. On the login form it signs in
// as username, or stops when username is "".
func (br *browser) authorize(t *testing.T, params url.Values, username, password string) authResult {
	t.Helper()
	back, err := url.Parse(params.Get("redirect_uri"))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, br.p.URL+"/authorize?"+params.Encode(), nil)
	res := authResult{issuer: br.p.URL}
	for range 10 {
		resp, err := br.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		res.status, res.header = resp.StatusCode, resp.Header
		loc := resp.Header.Get("Location")
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400 && loc != "":
			next, err := req.URL.Parse(loc)
			if err != nil {
				t.Fatal(err)
			}
			if next.Scheme == back.Scheme && next.Host == back.Host && next.Path == back.Path {
				res.location = next
				return res
			}
			req, _ = http.NewRequest(http.MethodGet, next.String(), nil)
		case resp.StatusCode == http.StatusOK && strings.Contains(string(body), `name="password"`):
			res.loginShown = true
			if username == "" {
				return res
			}
			form := url.Values{"authRequestID": {req.URL.Query().Get("authRequestID")}, "username": {username}, "password": {password}}
			req, _ = http.NewRequest(http.MethodPost, br.p.URL+"/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		default:
			return res
		}
	}
	t.Fatal("too many redirects")
	return res
}

// pkce returns an RFC 7636 verifier of 128 characters and its S256 challenge.
func pkce() (verifier, challenge string) {
	buf := make([]byte, 96)
	_, _ = rand.Read(buf)
	verifier = base64.RawURLEncoding.EncodeToString(buf)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

func authParams(redirectURI, challenge string) url.Values {
	return url.Values{
		"response_type":         {"code"},
		"client_id":             {"mcp-client"},
		"redirect_uri":          {redirectURI},
		"scope":                 {"openid email offline_access"},
		"state":                 {"st:1%2Fx"},
		"nonce":                 {"n-1"},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
	}
}

// TestConformance_Authorize covers case 51 and SSO at /authorize.
func TestConformance_Authorize(t *testing.T) {
	p := startIdP(t, conformanceConfig(t))
	const callback = "http://127.0.0.1/callback"
	_, challenge := pkce()

	for _, uri := range []string{"https://evil.example/cb", "http://127.0.0.1/other"} {
		t.Run("case 51 unregistered redirect_uri "+uri, func(t *testing.T) {
			resp, err := newBrowser(p).hc.Get(p.URL + "/authorize?" + authParams(uri, challenge).Encode())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("status %d, want 400", resp.StatusCode)
			}
			if loc := resp.Header.Get("Location"); loc != "" {
				t.Errorf("redirected to %s; an unregistered redirect_uri must not be used", loc)
			}
		})
	}

	t.Run("case 51 missing code_challenge", func(t *testing.T) {
		params := authParams(callback, challenge)
		params.Del("code_challenge")
		params.Del("code_challenge_method")
		res := newBrowser(p).authorize(t, params, "", "")
		wantRedirectError(t, res, "invalid_request")
	})

	t.Run("loopback redirect_uri on another port (RFC 8252)", func(t *testing.T) {
		res := newBrowser(p).authorize(t, authParams("http://127.0.0.1:53123/callback", challenge), "alice", "alice-pw")
		if res.location == nil || res.location.Query().Get("code") == "" {
			t.Fatalf("no code at the loopback redirect URI: %+v", res)
		}
		if got := res.location.Query().Get("state"); got != "st:1%2Fx" {
			t.Errorf("state = %q, want it byte for byte", got)
		}
	})

	t.Run("prompt=none without a session", func(t *testing.T) {
		params := authParams(callback, challenge)
		params.Set("prompt", "none")
		wantRedirectError(t, newBrowser(p).authorize(t, params, "", ""), "login_required")
	})

	t.Run("single sign-on", func(t *testing.T) {
		br := newBrowser(p)
		first := br.authorize(t, authParams(callback, challenge), "alice", "alice-pw")
		if !first.loginShown || first.location == nil || first.location.Query().Get("code") == "" {
			t.Fatalf("first login: %+v", first)
		}
		again := br.authorize(t, authParams(callback, challenge), "", "")
		if again.loginShown || again.location == nil || again.location.Query().Get("code") == "" {
			t.Errorf("second authorize with the session: %+v, want a code without the login form", again)
		}
		params := authParams(callback, challenge)
		params.Set("prompt", "none")
		if silent := br.authorize(t, params, "", ""); silent.location == nil || silent.location.Query().Get("code") == "" {
			t.Errorf("prompt=none with the session: %+v, want a code", silent)
		}
		params.Set("prompt", "login")
		if forced := br.authorize(t, params, "", ""); !forced.loginShown {
			t.Errorf("prompt=login: %+v, want the login form again", forced)
		}
	})
}

func wantRedirectError(t *testing.T, res authResult, code string) {
	t.Helper()
	if res.location == nil {
		t.Fatalf("no redirect to the client (status %d), want error=%s", res.status, code)
	}
	q := res.location.Query()
	if q.Get("error") != code || q.Get("code") != "" {
		t.Errorf("redirect %s, want error=%s and no code", res.location, code)
	}
	if q.Get("state") != "st:1%2Fx" {
		t.Errorf("state = %q, want it echoed", q.Get("state"))
	}
	if got := q["iss"]; len(got) != 1 || got[0] != res.issuer {
		t.Errorf("iss = %q, want the issuer %q once (RFC 9207: error responses too)", got, res.issuer)
	}
}

// TestConformance_CodeGrant covers case 52: a code is single use and bound
// to its PKCE verifier.
func TestConformance_CodeGrant(t *testing.T) {
	f := &fixture{testIdP: startIdP(t, conformanceConfig(t))}
	t.Cleanup(func() { f.checkAuditHasNoTokens(t) })
	const callback = "http://127.0.0.1/callback"
	code := func(t *testing.T) (code, verifier string) {
		t.Helper()
		verifier, challenge := pkce()
		res := newBrowser(f.testIdP).authorize(t, authParams(callback, challenge), "alice", "alice-pw")
		if res.location == nil || res.location.Query().Get("code") == "" {
			t.Fatalf("no code: %+v", res)
		}
		return res.location.Query().Get("code"), verifier
	}
	redeem := func(code, verifier string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback}, "code_verifier": {verifier}}
	}
	refused := func(t *testing.T, form url.Values) {
		t.Helper()
		before := len(f.Audit.Query(audit.Filter{Type: audit.TypeToken, Outcome: audit.Error}))
		resp, body := f.exchange(t, form, basicS1)
		checkOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
		if after := len(f.Audit.Query(audit.Filter{Type: audit.TypeToken, Outcome: audit.Error})); after != before+1 {
			t.Errorf("%d new token audit events with outcome error, want 1", after-before)
		}
	}

	t.Run("case 52 code replay", func(t *testing.T) {
		c, v := code(t)
		resp, body := f.exchange(t, redeem(c, v), basicS1)
		if resp.StatusCode != http.StatusOK || body["id_token"] == nil {
			t.Fatalf("first redemption: %d %v", resp.StatusCode, body)
		}
		refused(t, redeem(c, v))
	})
	t.Run("case 52 wrong code_verifier", func(t *testing.T) {
		c, _ := code(t)
		other, _ := pkce()
		refused(t, redeem(c, other))
	})
	t.Run("empty code= is absent", func(t *testing.T) {
		resp, body := f.exchange(t, redeem("", "x"), basicS1)
		checkOAuthError(t, resp, body, http.StatusBadRequest, "invalid_request")
	})
}

// TestConformance_Tokens covers userinfo, refresh token rotation and
// revocation (case 47).
func TestConformance_Tokens(t *testing.T) {
	f := newFixture(t, conformanceConfig(t))

	t.Run("userinfo with the access token", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, f.URL+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+f.alice["access_token"].(string))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var info map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || info["sub"] != "u-alice" || info["email"] != "alice@example.com" {
			t.Errorf("userinfo: %d %v", resp.StatusCode, info)
		}
		// The user's personal data, as /me/mcp-servers and introspection
		// answer theirs: no cache keeps it.
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("userinfo Cache-Control = %q, want no-store", cc)
		}
	})

	t.Run("refresh grant rotates the refresh token", func(t *testing.T) {
		tok := f.loginAs(t, "mcp-client", "s1", "alice", "alice-pw")
		old := tok.RefreshToken()
		refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {old}}
		resp, body := f.exchange(t, refresh, basicS1)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("refresh: %d %v", resp.StatusCode, body)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control = %q, want no-store", cc)
		}
		rotated, _ := body["refresh_token"].(string)
		if rotated == "" || rotated == old {
			t.Fatalf("refresh_token = %q, want a new one", rotated)
		}
		f.expectIDJAG(t, grantCase{form: b(rotated, set("subject_token_type", typeRefreshToken)), header: basicS1,
			sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read"})
		// The old one again is a reuse, which also revokes the rotated one
		// (TestRefreshReuse_RevokesTheFamily).
		resp, body = f.exchange(t, refresh, basicS1)
		checkOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
		f.expectRefusal(t, refusal{form: b(old, set("subject_token_type", typeRefreshToken)), code: "invalid_grant", outcome: audit.Error})
	})

	t.Run("case 47 revoked refresh token", func(t *testing.T) {
		tok := f.loginAs(t, "mcp-client", "s1", "alice", "alice-pw")
		rt := tok.RefreshToken()
		asSubject := b(rt, set("subject_token_type", typeRefreshToken))
		f.expectIDJAG(t, grantCase{form: asSubject, header: basicS1,
			sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read"})

		req, _ := http.NewRequest(http.MethodPost, f.URL+"/revoke",
			strings.NewReader(url.Values{"token": {rt}, "token_type_hint": {"refresh_token"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("mcp-client", "s1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("revocation: status %d", resp.StatusCode)
		}
		f.expectRefusal(t, refusal{form: asSubject, code: "invalid_grant", outcome: audit.Error})
	})
}
