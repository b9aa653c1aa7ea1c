package authserver_test

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// The MCP server's own credentials at its authorization server, for
// introspection.
const (
	resourceServer       = "mcp-server-tracker"
	resourceServerSecret = "rs-secret"
)

// TestTrustedIssuers_AcceptsEachTrustedIdP: ID-JAGs of every trusted IdP
// redeem, the second one's keys found by discovery; others are refused.
func TestTrustedIssuers_AcceptsEachTrustedIdP(t *testing.T) {
	var second *fakeIdP
	e := newEnv(t, func(c *authserver.Config) {
		second = newFakeIdP(t, time.Now)
		c.TrustedIssuers = []authserver.TrustedIssuer{{Issuer: second.issuer}} // JWKS URL discovered
	})
	second.now = e.clock.Now
	untrusted := newFakeIdP(t, e.clock.Now)
	tests := []struct {
		name      string
		idp       *fakeIdP
		wantError string
	}{
		{"first IdP, JWKS URL given", e.idp, ""},
		{"second IdP, JWKS URL discovered", second, ""},
		{"an IdP not trusted", untrusted, "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.post(t, grant(tt.idp.mint(t, tt.idp.claims(e.asURL, e.mcpURL))))
			if r.str("error") != tt.wantError {
				t.Fatalf("HTTP %d %s, want error %q", r.status, r.raw, tt.wantError)
			}
			if tt.wantError != "" {
				if !strings.Contains(r.str("error_description"), `untrusted issuer '`+untrusted.issuer+`'`) {
					t.Errorf("description %q", r.str("error_description"))
				}
				if untrusted.jwksHits.Load() != 0 {
					t.Error("the untrusted IdP's keys were fetched")
				}
			}
		})
	}
}

// introspect posts token to the introspection endpoint with Basic
// credentials (nil: none).
func (e *env) introspect(t *testing.T, creds *[2]string, form url.Values) tokenReply {
	t.Helper()
	hr, err := http.NewRequest(http.MethodPost, e.asURL+"/introspect", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if creds != nil {
		hr.SetBasicAuth(url.QueryEscape(creds[0]), url.QueryEscape(creds[1]))
	}
	return do(t, hr)
}

func TestIntrospection(t *testing.T) {
	e := newEnv(t, func(c *authserver.Config) {
		c.ResourceServers = map[string]string{resourceServer: resourceServerSecret}
	})
	token := e.accessToken(t, "issues.read")
	rs := &[2]string{resourceServer, resourceServerSecret}
	owner := &[2]string{confidentialClient, confidentialSecret}
	other := &[2]string{otherClient, otherSecret}
	tests := []struct {
		name       string
		creds      *[2]string
		form       url.Values
		wantStatus int
		wantActive bool
		wantError  string
	}{
		{"the MCP server's credentials", rs, url.Values{"token": {token}}, 200, true, ""},
		{"the client the token was issued to", owner, url.Values{"token": {token}, "token_type_hint": {"access_token"}}, 200, true, ""},
		{"another client", other, url.Values{"token": {token}}, 200, false, ""},
		{"an unknown token", rs, url.Values{"token": {"not-a-token"}}, 200, false, ""},
		{"an ID-JAG", rs, url.Values{"token": {e.jag(t, nil)}}, 200, false, ""},
		{"no credentials", nil, url.Values{"token": {token}}, 401, false, "invalid_client"},
		{"wrong secret", &[2]string{resourceServer, "guess"}, url.Values{"token": {token}}, 401, false, "invalid_client"},
		{"a public client", nil, url.Values{"token": {token}, "client_id": {publicClient}}, 401, false, "invalid_client"},
		// Basic with an empty secret is client_id alone: it proves nothing.
		{"a public client in Basic with an empty secret", &[2]string{publicClient, ""}, url.Values{"token": {token}}, 401, false, "invalid_client"},
		{"no token", rs, url.Values{}, 400, false, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.introspect(t, tt.creds, tt.form)
			if r.status != tt.wantStatus || r.str("error") != tt.wantError {
				t.Fatalf("HTTP %d %s, want %d %q", r.status, r.raw, tt.wantStatus, tt.wantError)
			}
			if r.header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q", r.header.Get("Cache-Control"))
			}
			if tt.wantStatus != 200 {
				return
			}
			if active, _ := r.body["active"].(bool); active != tt.wantActive {
				t.Fatalf("active = %v, want %v: %s", r.body["active"], tt.wantActive, r.raw)
			}
			if !tt.wantActive {
				if len(r.body) != 1 {
					t.Errorf("an inactive token's answer says more than active: %s", r.raw)
				}
				return
			}
			want := map[string]any{
				"client_id": confidentialClient, "sub": alice, "aud": e.mcpURL, "scope": "issues.read",
				"iss": e.asURL, "token_type": "Bearer", "exp": float64(e.clock.Now().Add(time.Hour).Unix()),
			}
			for k, v := range want {
				if r.body[k] != v {
					t.Errorf("%s = %v, want %v", k, r.body[k], v)
				}
			}
		})
	}
	t.Run("DPoP-bound", func(t *testing.T) {
		key := newECKey(t)
		g := withProofs(grant(e.jag(t, nil)), e.tokenProof(t, key))
		tr := e.post(t, g)
		if tr.status != 200 {
			t.Fatalf("grant: HTTP %d %s", tr.status, tr.raw)
		}
		r := e.introspect(t, rs, url.Values{"token": {tr.str("access_token")}})
		cnf, _ := r.body["cnf"].(map[string]any)
		if r.body["active"] != true || r.str("token_type") != "DPoP" || cnf["jkt"] != jkt(t, key) {
			t.Fatalf("HTTP %d %s", r.status, r.raw)
		}
	})
	t.Run("expired", func(t *testing.T) {
		e.clock.Advance(time.Hour + time.Minute)
		r := e.introspect(t, rs, url.Values{"token": {token}})
		if r.status != 200 || r.body["active"] != false {
			t.Fatalf("HTTP %d %s", r.status, r.raw)
		}
	})
}

func TestSubjectMapping(t *testing.T) {
	users := []authserver.User{
		{Username: "alice", Sub: "00u-alice-local", Email: aliceEmail},
		{Username: "bob", Sub: "00u-bob", Email: "bob@acme.example"},
		{Username: "sam", Sub: "00u-sam", Email: "sam@acme.example"},
		{Username: "kim", Sub: "00u-kim", Email: "kim@acme.example"},
	}
	tests := []struct {
		name         string
		subject      string
		edit         func(map[string]any)
		wantError    string
		wantDesc     string
		wantSub      string
		wantUsername string
	}{
		{"sub, the default, of a known user", "", func(c map[string]any) { c["sub"] = "00u-bob" }, "", "", "00u-bob", "bob"},
		{"sub of a user known only to the IdP", authserver.SubjectSub, nil, "", "", alice, ""},
		{"email", authserver.SubjectEmail, nil, "", "", "00u-alice-local", "alice"},
		{"email in another case", authserver.SubjectEmail, func(c map[string]any) { c["email"] = "Alice@ACME.example" }, "", "", "00u-alice-local", "alice"},
		{"email missing", authserver.SubjectEmail, func(c map[string]any) { delete(c, "email") }, "invalid_grant", "the ID-JAG has no email claim", "", ""},
		{"email unknown", authserver.SubjectEmail, func(c map[string]any) { c["email"] = "eve@evil.example" }, "invalid_grant", `no local user has the ID-JAG's email 'eve@evil.example'`, "", ""},
		// Unicode case folding would take the long s for s, and the Kelvin sign for k: another
		// address, which someone could register at the IdP.
		{"email with a long s for an s", authserver.SubjectEmail, func(c map[string]any) { c["email"] = "\u017fam@acme.example" }, "invalid_grant", "no local user has the ID-JAG's email", "", ""},
		{"email with a Kelvin sign for a k", authserver.SubjectEmail, func(c map[string]any) { c["email"] = "\u212aim@acme.example" }, "invalid_grant", "no local user has the ID-JAG's email", "", ""},
		{"email of sam in another case", authserver.SubjectEmail, func(c map[string]any) { c["email"] = "SAM@acme.example" }, "", "", "00u-sam", "sam"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *authserver.Config) { c.Subject, c.Users = tt.subject, users })
			r := e.post(t, grant(e.jag(t, tt.edit)))
			if r.str("error") != tt.wantError || !strings.Contains(r.str("error_description"), tt.wantDesc) {
				t.Fatalf("HTTP %d %s, want %q with %q", r.status, r.raw, tt.wantError, tt.wantDesc)
			}
			if tt.wantError != "" {
				return
			}
			at, err := e.as.VerifyAccessToken(t.Context(), r.str("access_token"), e.mcpURL)
			if err != nil {
				t.Fatal(err)
			}
			if at.Subject != tt.wantSub || at.Username != tt.wantUsername {
				t.Errorf("sub %q username %q, want %q %q", at.Subject, at.Username, tt.wantSub, tt.wantUsername)
			}
		})
	}
}

// TestAuthorize: /authorize serves no grant but answers at once, with the
// error response of RFC 6749 §4.1.2.1 carrying iss (RFC 9207 §2, which
// SEP-2468 of the MCP specification of 2026-07-28 recommends to
// authorization servers and has clients check).
func TestAuthorize(t *testing.T) {
	e := newEnv(t, func(c *authserver.Config) {
		c.RedirectURIs = map[string][]string{
			confidentialClient: {"http://127.0.0.1/callback", "https://app.example/cb?x=1"},
			publicClient:       {"https://public.example/cb"},
		}
	})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := []struct {
		name      string
		query     url.Values
		wantTo    string // the redirect's target without query; "" for a 400
		wantDesc  string // for a 400
		wantQuery url.Values
	}{
		{
			name:   "registered URI, state carried back",
			query:  url.Values{"response_type": {"code"}, "client_id": {confidentialClient}, "redirect_uri": {"https://app.example/cb?x=1"}, "state": {"xyz"}},
			wantTo: "https://app.example/cb", wantQuery: url.Values{"x": {"1"}, "error": {"unsupported_response_type"}, "state": {"xyz"}, "iss": {e.asURL}},
		},
		{
			name:   "loopback URI on another port (RFC 8252 §7.3)",
			query:  url.Values{"client_id": {confidentialClient}, "redirect_uri": {"http://127.0.0.1:53682/callback"}, "state": {"s"}},
			wantTo: "http://127.0.0.1:53682/callback", wantQuery: url.Values{"error": {"unsupported_response_type"}, "state": {"s"}, "iss": {e.asURL}},
		},
		{
			name:   "redirect_uri omitted, the only one registered",
			query:  url.Values{"client_id": {publicClient}},
			wantTo: "https://public.example/cb", wantQuery: url.Values{"error": {"unsupported_response_type"}, "iss": {e.asURL}},
		},
		{name: "unknown client", query: url.Values{"client_id": {"stranger"}, "redirect_uri": {"https://app.example/cb?x=1"}}, wantDesc: `unknown client 'stranger'`},
		{name: "unregistered redirect URI", query: url.Values{"client_id": {confidentialClient}, "redirect_uri": {"https://evil.example/cb"}}, wantDesc: `redirect_uri 'https://evil.example/cb' is not registered`},
		{name: "redirect_uri omitted, several registered", query: url.Values{"client_id": {confidentialClient}}, wantDesc: "has 2 registered"},
		{name: "client without redirect URIs", query: url.Values{"client_id": {otherClient}, "redirect_uri": {"https://x.example/cb"}}, wantDesc: "is not registered"},
		{name: "no client_id", query: url.Values{}, wantDesc: "client_id is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := client.Get(e.asURL + "/authorize?" + tt.query.Encode())
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if tt.wantTo == "" {
				var body map[string]string
				_ = json.NewDecoder(resp.Body).Decode(&body)
				if resp.StatusCode != 400 || body["error"] != "invalid_request" || !strings.Contains(body["error_description"], tt.wantDesc) ||
					!strings.Contains(body["error_description"], "JWT bearer grant") {
					t.Fatalf("HTTP %d %v, want 400 invalid_request with %q", resp.StatusCode, body, tt.wantDesc)
				}
				return
			}
			loc, err := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != http.StatusFound || err != nil {
				t.Fatalf("HTTP %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			q := loc.Query()
			loc.RawQuery = ""
			if loc.String() != tt.wantTo || !strings.Contains(q.Get("error_description"), "JWT bearer grant") {
				t.Errorf("redirected to %s with %v", loc, q)
			}
			q.Del("error_description")
			if q.Encode() != tt.wantQuery.Encode() {
				t.Errorf("query %v, want %v", q, tt.wantQuery)
			}
		})
	}
}

// signRaw signs header and payload, both JSON exactly as given, as a
// compact ES256 JWS: member order and spelling are the test's, not the
// encoder's.
func signRaw(t *testing.T, key *ecdsa.PrivateKey, header, payload string) string {
	t.Helper()
	enc := base64.RawURLEncoding.EncodeToString
	input := enc([]byte(header)) + "." + enc([]byte(payload))
	sum := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + enc(sig)
}

// TestIDJAG_MemberNamesAreCaseSensitive: JOSE header parameter and claim
// names are case-sensitive (RFC 7515 §4, RFC 7519 §4). A member spelled in
// another case is an unknown one, never a second value of the real one:
// otherwise an ID-JAG signed by one trusted IdP could name another trusted
// IdP as its issuer, and a token whose typ is JWT pass as an ID-JAG.
func TestIDJAG_MemberNamesAreCaseSensitive(t *testing.T) {
	var second *fakeIdP
	e := newEnv(t, func(c *authserver.Config) {
		second = newFakeIdP(t, time.Now)
		c.TrustedIssuers = []authserver.TrustedIssuer{{Issuer: second.issuer, JWKSURL: second.jwksURL()}}
	})
	second.now = e.clock.Now
	k := e.idp.currentKey()
	key := k.Key.(*ecdsa.PrivateKey)
	header := func(typ string) string {
		return fmt.Sprintf(`{"alg":"ES256","kid":%q,%s}`, k.KeyID, typ)
	}
	payload := func(edit func(map[string]any), extra string) string {
		c := e.claims()
		if edit != nil {
			edit(c)
		}
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSuffix(string(b), "}") + extra + "}"
	}

	t.Run("iss of another trusted IdP in another case", func(t *testing.T) {
		jag := signRaw(t, key, header(`"typ":"oauth-id-jag+jwt"`), payload(nil, fmt.Sprintf(`,"Iss":%q,"Sub":"00u-bob-of-the-second-idp"`, second.issuer)))
		r := e.post(t, grant(jag))
		if r.status != http.StatusOK {
			t.Logf("refused: %s", r.raw)
			return // refusing it is safe too
		}
		at, err := e.as.VerifyAccessToken(t.Context(), r.str("access_token"), e.mcpURL)
		if err != nil {
			t.Fatal(err)
		}
		if at.IdPIssuer != e.idp.issuer || at.Subject != alice {
			t.Fatalf("an ID-JAG signed by %s was redeemed as %s of %s", e.idp.issuer, at.Subject, at.IdPIssuer)
		}
	})
	t.Run("client_id only in another case", func(t *testing.T) {
		jag := signRaw(t, key, header(`"typ":"oauth-id-jag+jwt"`), payload(func(c map[string]any) { delete(c, "client_id") }, fmt.Sprintf(`,"Client_ID":%q`, confidentialClient)))
		r := e.post(t, grant(jag))
		if r.str("error") != "invalid_grant" || !strings.Contains(r.str("error_description"), "no client_id") {
			t.Fatalf("HTTP %d %s, want invalid_grant: no client_id", r.status, r.raw)
		}
	})
	t.Run("typ JWT with an ID-JAG typ in another case", func(t *testing.T) {
		jag := signRaw(t, key, header(`"typ":"JWT","Typ":"oauth-id-jag+jwt"`), payload(nil, ""))
		r := e.post(t, grant(jag))
		if r.str("error") != "invalid_grant" || !strings.Contains(r.str("error_description"), `typ 'JWT'`) {
			t.Fatalf("HTTP %d %s, want invalid_grant for typ JWT", r.status, r.raw)
		}
	})
}

// TestIDJAG_TypIsAMediaType: typ names a media type (RFC 7515 §4.1.9): a
// recipient must read oauth-id-jag+jwt and application/oauth-id-jag+jwt
// as the same type, and media types compare without regard to case (RFC
// 2045 §5.1). Any other type stays refused.
func TestIDJAG_TypIsAMediaType(t *testing.T) {
	e := newEnv(t)
	k := e.idp.currentKey()
	key := k.Key.(*ecdsa.PrivateKey)
	for _, c := range []struct {
		typ string
		ok  bool
	}{
		{"oauth-id-jag+jwt", true},
		{"application/oauth-id-jag+jwt", true},
		{"Application/OAuth-ID-JAG+JWT", true},
		{"OAUTH-ID-JAG+JWT", true},
		{"application/jwt", false},
		{"JWT", false},
		{"text/oauth-id-jag+jwt", false},
		{"application/application/oauth-id-jag+jwt", false},
		{"oauth-id-jag+jwt ", false},
	} {
		t.Run(c.typ, func(t *testing.T) {
			b, err := json.Marshal(e.claims())
			if err != nil {
				t.Fatal(err)
			}
			jag := signRaw(t, key, fmt.Sprintf(`{"alg":"ES256","kid":%q,"typ":%q}`, k.KeyID, c.typ), string(b))
			r := e.post(t, grant(jag))
			if c.ok && r.status != http.StatusOK {
				t.Fatalf("HTTP %d %s, want 200", r.status, r.raw)
			}
			if !c.ok && (r.str("error") != "invalid_grant" || !strings.Contains(r.str("error_description"), "typ")) {
				t.Fatalf("HTTP %d %s, want invalid_grant naming the typ", r.status, r.raw)
			}
		})
	}
}

// TestAuthorize_BodyIsBounded: /authorize reads a form body no larger than
// the token endpoint's (64 KiB), as every other endpoint of the server
// does; net/http's ParseForm alone would read 10 MiB of it into memory for
// anyone, and the description quotes the client_id back.
func TestAuthorize_BodyIsBounded(t *testing.T) {
	e := newEnv(t)
	form := url.Values{"client_id": {strings.Repeat("c", 1<<20)}}.Encode()
	resp, err := http.Post(e.asURL+"/authorize", "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]string
	_ = json.Unmarshal(raw, &body)
	if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_request" || !strings.Contains(body["error_description"], "larger than 65536 bytes") {
		t.Fatalf("HTTP %d %.300s, want 400 invalid_request: the body is larger than 65536 bytes", resp.StatusCode, raw)
	}
	if len(raw) > 4<<10 {
		t.Errorf("the answer is %d bytes: it quotes the body", len(raw))
	}
}
