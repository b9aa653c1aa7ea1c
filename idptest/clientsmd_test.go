package idptest_test

// The wire habits of the clients docs/interop.md lists (what they send,
// and what they insist on), one by one: each case sends
// exactly what the named client sends, over real HTTP, to the IdP's issuer,
// to a tenant's issuer, and to the demo authorization server and MCP
// server behind them, and checks the answer against the contract. Each
// case is one of the client behaviours docs/interop.md lists.

import (
	"context"
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

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/zitadel/oidc/v3/pkg/client/tokenexchange"

	"github.com/xaa-idp/xaa-idp/idptest"
)

// clientsmdTenant is one IdP of the walk: alice of group eng, a
// confidential client whose id has a '-' (which docs/interop.md's
// encoders escape as %2D), one whose id and secret hold ':', '+', '%',
// '/' and '=' (RFC 6749 section 2.3.1 form-encoding changes them, and a
// raw ':' in the id would split Basic), a public client, and one MCP
// server that maps each of them to a client id of its own.
const clientsmdTenant = `groups:
  - name: eng
users:
  - username: alice
    password: alice-pw
    sub: u-alice
    email: alice@example.com
    groups: [eng]
clients:
  - client_id: mcp-client
    client_secret: mcp-secret
    redirect_uris: [http://127.0.0.1/callback, "http://[::1]/callback", http://localhost/callback]
    token_exchange: true
  - client_id: urn:acme:agent
    client_secret: "p:w+d%/="
    redirect_uris: [http://127.0.0.1/callback]
    token_exchange: true
  - client_id: pub-client
    redirect_uris: [http://127.0.0.1/callback]
    token_exchange: true
mcp_servers:
  - id: notes
    issuer: http://127.0.0.1:9101
    resources: [http://127.0.0.1:9201/mcp]
    scopes: [notes.read, notes.write]
    clients:
      mcp-client: mcp-client-at-notes
      urn:acme:agent: "urn:notes:agent"
      pub-client: pub-client-at-notes
    access:
      - groups: [eng]
        scopes: [notes.read, notes.write]
`

// clientsmdConfig is the walk's configuration: one IdP, or (tenants) two
// tenants that each hold it, at /t/acme and /oauth2/default.
func clientsmdConfig(tenants bool) string {
	if !tenants {
		return clientsmdTenant
	}
	indented := "    " + strings.ReplaceAll(strings.TrimSuffix(clientsmdTenant, "\n"), "\n", "\n    ") + "\n"
	return "tenants:\n  - id: acme\n    path: /t/acme\n" + indented + "  - id: beta\n    path: /oauth2/default\n" + indented
}

const (
	cmJWTBearer     = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	cmTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	cmIDJAG         = "urn:ietf:params:oauth:token-type:id-jag"
	cmIDToken       = "urn:ietf:params:oauth:token-type:id_token"
	cmCallback      = "http://127.0.0.1/callback"
)

// cmSite is one issuer of the walk with the MCP server it lists.
type cmSite struct {
	name   string
	issuer string
	base   string // scheme and host
	// discovery are the URLs the TypeScript and Go SDKs try for the issuer
	// (docs/interop.md; RFC 8414 section 3.1 path insertion for an issuer
	// with a path, then OpenID Connect's appended form).
	discovery []string
	notes     idptest.DemoServer
}

// cmRequest is a request sent exactly as a client sends it: header names
// with their case, the body as written.
type cmRequest struct {
	method string
	url    string
	header [][2]string
	body   string
	// chunked sends the body with Transfer-Encoding: chunked and no
	// Content-Length, as clients that stream their body do.
	chunked bool
}

type cmResponse struct {
	status int
	header http.Header
	raw    string
	json   map[string]any
}

func cmSend(t *testing.T, r cmRequest) cmResponse {
	t.Helper()
	if r.method == "" {
		r.method = http.MethodPost
	}
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
		if r.chunked {
			body = struct{ io.Reader }{body}
		}
	}
	req, err := http.NewRequest(r.method, r.url, body)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range r.header {
		req.Header[h[0]] = append(req.Header[h[0]], h[1])
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := cmResponse{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &out.json)
	return out
}

// form is a POST of a form-encoded body with the given Content-Type.
func cmForm(u, contentType, body string, header ...[2]string) cmRequest {
	return cmRequest{url: u, body: body, header: append([][2]string{{"Content-Type", contentType}}, header...)}
}

const cmFormType = "application/x-www-form-urlencoded"

func cmBasic(user, pass string) [2]string {
	return [2]string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))}
}

// cmEncodedBasic is client_secret_basic as RFC 6749 section 2.3.1 has it:
// each part form-URL-encoded, '-' included (docs/interop.md: "mcp%2Dclient").
func cmEncodedBasic(user, pass string) [2]string {
	enc := func(s string) string {
		var b strings.Builder
		for _, c := range []byte(s) {
			if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
				b.WriteByte(c)
			} else {
				b.WriteString("%" + strings.ToUpper(hexByte(c)))
			}
		}
		return b.String()
	}
	return cmBasic(enc(user), enc(pass))
}

func hexByte(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&15]})
}

// cmJWT decodes a JWT's header and claims, verifying its signature with the
// JWKS at jwksURI.
func cmJWT(t *testing.T, raw, jwksURI string) (jose.Header, map[string]any) {
	t.Helper()
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA})
	if err != nil {
		t.Fatalf("parse JWT: %v", err)
	}
	resp := cmSend(t, cmRequest{method: http.MethodGet, url: jwksURI})
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(resp.raw), &set); err != nil {
		t.Fatalf("JWKS %s: %v", jwksURI, err)
	}
	keys := set.Key(tok.Headers[0].KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q not in the JWKS at %s", tok.Headers[0].KeyID, jwksURI)
	}
	var c map[string]any
	if err := tok.Claims(keys[0].Key, &c); err != nil {
		t.Fatalf("the JWT does not verify with the published key: %v", err)
	}
	return tok.Headers[0], c
}

// cmOAuthError checks an RFC 6749 section 5.2 answer.
func cmOAuthError(t *testing.T, r cmResponse, status int, code string) {
	t.Helper()
	if r.status != status || r.json["error"] != code {
		t.Errorf("answer %d %s, want %d with error %s", r.status, r.raw, status, code)
	}
	if d, _ := r.json["error_description"].(string); d == "" {
		t.Errorf("no error_description: %s", r.raw)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q on an error of the token endpoint, want no-store", cc)
	}
	for _, k := range []string{"access_token", "refresh_token", "id_token"} {
		if _, ok := r.json[k]; ok {
			t.Errorf("an error answer carries %s", k)
		}
	}
}

// cmLogin runs the code flow as a relying party does: query is the
// /authorize query string as the client writes it (order, encoding and
// extra parameters its own); it signs alice in and returns the redirect
// back to the client.
func cmLogin(t *testing.T, s cmSite, query string) *url.URL {
	t.Helper()
	meta := cmSend(t, cmRequest{method: http.MethodGet, url: s.discovery[0]}).json
	authz, _ := meta["authorization_endpoint"].(string)
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	next := authz + "?" + query
	var form url.Values
	for range 10 {
		var resp *http.Response
		var err error
		if form != nil {
			resp, err = hc.PostForm(next, form)
			form = nil
		} else {
			resp, err = hc.Get(next)
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		switch {
		case resp.StatusCode/100 == 3 && loc != "":
			u, err := resp.Request.URL.Parse(loc)
			if err != nil {
				t.Fatal(err)
			}
			if u.Path == "/callback" {
				return u
			}
			next = u.String()
		case resp.StatusCode == http.StatusOK && strings.Contains(string(body), `name="password"`):
			form = url.Values{"authRequestID": {resp.Request.URL.Query().Get("authRequestID")}, "username": {"alice"}, "password": {"alice-pw"}}
			next = resp.Request.URL.Scheme + "://" + resp.Request.URL.Host + resp.Request.URL.Path
		default:
			t.Fatalf("login stopped at %s: %d %s", resp.Request.URL, resp.StatusCode, body)
		}
	}
	t.Fatal("login: too many redirects")
	return nil
}

func cmPKCE(n int) (verifier, challenge string) {
	verifier = strings.Repeat("aB3-._~", n)[:n]
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// cmSites starts the walk's IdPs (one without tenants, one with two) with
// their demo servers, and returns the issuers to walk: the IdP's, and each
// tenant's.
func cmSites(t *testing.T) []cmSite {
	t.Helper()
	single := idptest.New(t, idptest.WithConfigYAML(clientsmdConfig(false)))
	sites := []cmSite{{
		name: "idp", issuer: single.Issuer(), base: single.URL(),
		discovery: []string{single.URL() + "/.well-known/oauth-authorization-server", single.URL() + "/.well-known/openid-configuration"},
		notes:     single.StartDemoServers()["notes"],
	}}
	// An authorization server whose issuer ends with "/" (so the
	// protected-resource metadata names it so, and the TypeScript client
	// sends it so as audience) and has a path, and an MCP server whose
	// resource is an origin (the TypeScript client's URL objects write it
	// with a "/").
	slashed := strings.Replace(clientsmdTenant, "issuer: http://127.0.0.1:9101\n", "issuer: http://127.0.0.1:9101/oauth2/notes/\n", 1)
	slashed = strings.Replace(slashed, "resources: [http://127.0.0.1:9201/mcp]", "resources: [http://127.0.0.1:9201]", 1)
	if !strings.Contains(slashed, "/oauth2/notes/\n") || !strings.Contains(slashed, "[http://127.0.0.1:9201]") {
		t.Fatal("the variant configuration was not made")
	}
	other := idptest.New(t, idptest.WithConfigYAML(slashed))
	sites = append(sites, cmSite{
		name: "idp, issuer of the authorization server with a path and a slash", issuer: other.Issuer(), base: other.URL(),
		discovery: []string{other.URL() + "/.well-known/oauth-authorization-server", other.URL() + "/.well-known/openid-configuration"},
		notes:     other.StartDemoServers()["notes"],
	})
	multi := idptest.New(t, idptest.WithConfigYAML(clientsmdConfig(true)))
	notes := multi.StartDemoServers()["notes"]
	for _, id := range multi.TenantIDs() {
		iss := multi.TenantIssuer(id)
		path := strings.TrimPrefix(iss, multi.URL())
		sites = append(sites, cmSite{
			name: "tenant " + id, issuer: iss, base: multi.URL(),
			discovery: []string{
				multi.URL() + "/.well-known/oauth-authorization-server" + path,
				multi.URL() + "/.well-known/openid-configuration" + path,
				iss + "/.well-known/openid-configuration",
			},
			notes: notes,
		})
	}
	return sites
}

// TestClientsMD_WireHabits walks the wire habits the IdP must accept
// (docs/interop.md, "Clients") at every issuer and at the demo servers.
func TestClientsMD_WireHabits(t *testing.T) {
	for _, s := range cmSites(t) {
		t.Run(s.name, func(t *testing.T) { walkClientsMD(t, s) })
	}
}

func walkClientsMD(t *testing.T, s cmSite) {
	// Discovery as the TypeScript and Go SDKs do it.
	var meta map[string]any
	t.Run("discovery at every path the SDKs try", func(t *testing.T) {
		for i, u := range s.discovery {
			r := cmSend(t, cmRequest{method: http.MethodGet, url: u, header: [][2]string{
				{"Accept", "application/json"}, {"MCP-Protocol-Version", "2025-11-25"}}})
			if r.status != http.StatusOK || r.json == nil {
				t.Fatalf("GET %s: %d %s", u, r.status, r.raw)
			}
			if i == 0 {
				meta = r.json
			} else if !reflect.DeepEqual(r.json, meta) {
				t.Errorf("%s differs from %s", u, s.discovery[0])
			}
		}
	})
	if meta == nil {
		t.FailNow()
	}
	str := func(k string) string { v, _ := meta[k].(string); return v }
	list := func(k string) []string {
		var out []string
		l, _ := meta[k].([]any)
		for _, v := range l {
			s, _ := v.(string)
			out = append(out, s)
		}
		return out
	}
	t.Run("issuer byte-identical, no trailing slash", func(t *testing.T) {
		if str("issuer") != s.issuer || strings.HasSuffix(str("issuer"), "/") {
			t.Errorf("issuer %q, want %q", str("issuer"), s.issuer)
		}
	})
	t.Run("the fields the clients require", func(t *testing.T) {
		for _, k := range []string{"jwks_uri", "userinfo_endpoint", "authorization_endpoint", "token_endpoint"} {
			if !strings.HasPrefix(str(k), s.issuer+"/") {
				t.Errorf("%s = %q, want an endpoint under %s", k, str(k), s.issuer)
			}
		}
		exact := map[string][]string{
			"response_types_supported":                          {"code"},
			"code_challenge_methods_supported":                  {"S256"},
			"identity_chaining_requested_token_types_supported": {cmIDJAG},
		}
		for k, want := range exact {
			if got := list(k); !slices.Equal(got, want) {
				t.Errorf("%s = %v, want %v", k, got, want)
			}
		}
		contains := map[string][]string{
			"subject_types_supported":               {"public"},
			"id_token_signing_alg_values_supported": {"RS256"},
			"token_endpoint_auth_methods_supported": {"client_secret_basic", "client_secret_post", "none", "private_key_jwt"},
			"grant_types_supported":                 {"authorization_code", "refresh_token", cmTokenExchange},
		}
		for k, want := range contains {
			for _, v := range want {
				if !slices.Contains(list(k), v) {
					t.Errorf("%s = %v, lacks %s", k, list(k), v)
				}
			}
		}
	})
	token := str("token_endpoint")

	// The demo MCP server and its authorization server, as the TypeScript
	// client finds them: 401, protected-resource metadata, then RFC 8414.
	var prm map[string]any
	t.Run("resource side discovery", func(t *testing.T) {
		r := cmSend(t, cmRequest{url: s.notes.URL, header: [][2]string{{"Content-Type", "application/json"}, {"Accept", "application/json, text/event-stream"}},
			body: `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`})
		if r.status != http.StatusUnauthorized || !strings.Contains(r.header.Get("WWW-Authenticate"), "resource_metadata=") {
			t.Fatalf("MCP server without a token: %d %q", r.status, r.header.Get("WWW-Authenticate"))
		}
		// The TypeScript client follows resource_metadata; both SDKs
		// otherwise try the path form, then the root (RFC 9728 section 3.1).
		challenge := r.header.Get("WWW-Authenticate")
		_, after, _ := strings.Cut(challenge, `resource_metadata="`)
		given, _, _ := strings.Cut(after, `"`)
		u, _ := url.Parse(s.notes.URL)
		for _, at := range []string{given, u.Scheme + "://" + u.Host + "/.well-known/oauth-protected-resource" + u.Path, u.Scheme + "://" + u.Host + "/.well-known/oauth-protected-resource"} {
			r = cmSend(t, cmRequest{method: http.MethodGet, url: at, header: [][2]string{{"MCP-Protocol-Version", "2025-11-25"}}})
			if r.status != http.StatusOK {
				t.Fatalf("protected-resource metadata at %s: %d %s", at, r.status, r.raw)
			}
			if prm == nil {
				prm = r.json
			} else if !reflect.DeepEqual(prm, r.json) {
				t.Errorf("protected-resource metadata at %s differs from the one at %s", at, given)
			}
		}
	})
	if prm == nil {
		t.FailNow()
	}
	servers, _ := prm["authorization_servers"].([]any)
	if len(servers) == 0 {
		t.Fatalf("protected-resource metadata names no authorization server: %v", prm)
	}
	prmAS, _ := servers[0].(string)
	t.Logf("authorization server %s, resource %v", prmAS, prm["resource"])
	resource, _ := prm["resource"].(string)
	if resource != s.notes.URL {
		t.Errorf("protected-resource metadata resource = %q, want %q", resource, s.notes.URL)
	}
	var asMeta map[string]any
	t.Run("authorization server metadata", func(t *testing.T) {
		u, _ := url.Parse(strings.TrimSuffix(prmAS, "/"))
		r := cmSend(t, cmRequest{method: http.MethodGet, url: u.Scheme + "://" + u.Host + "/.well-known/oauth-authorization-server" + u.Path,
			header: [][2]string{{"Accept", "application/json"}, {"MCP-Protocol-Version", "2025-11-25"}}})
		if r.status != http.StatusOK {
			t.Fatalf("authorization server metadata: %d %s", r.status, r.raw)
		}
		asMeta = r.json
		for _, k := range []string{"issuer", "authorization_endpoint", "token_endpoint"} {
			if v, _ := asMeta[k].(string); v == "" {
				t.Errorf("authorization server metadata lacks %s: %v", k, asMeta)
			}
		}
		for k, want := range map[string]string{"response_types_supported": "", "code_challenge_methods_supported": "", "grant_types_supported": cmJWTBearer} {
			l, _ := asMeta[k].([]any)
			if len(l) == 0 || want != "" && !slices.Contains(l, any(want)) {
				t.Errorf("authorization server metadata %s = %v, want it non-empty (with %q)", k, asMeta[k], want)
			}
		}
		// The TypeScript client's check, exactly.
		if iss, _ := asMeta["issuer"].(string); iss != prmAS && !(strings.HasSuffix(prmAS, "/") && iss == strings.TrimSuffix(prmAS, "/")) {
			t.Errorf("authorization server issuer %q, the protected-resource metadata names %q", iss, prmAS)
		}
	})
	if asMeta == nil {
		t.FailNow()
	}
	asIssuer, _ := asMeta["issuer"].(string)
	asToken, _ := asMeta["token_endpoint"].(string)

	// The code flow as production relying parties and the Go
	// SDK send it: no nonce, a 128-character verifier, a state with ':' and
	// "%2F", approval_prompt=force, parameters in their own order; the
	// code redeemed with Basic.
	var idToken string
	t.Run("code flow without nonce, long verifier, odd state, extra parameters", func(t *testing.T) {
		verifier, challenge := cmPKCE(128)
		const state = "af0ifjsldkj:x%2Fy/+ z"
		query := "approval_prompt=force&state=" + url.QueryEscape(state) + "&code_challenge_method=S256&scope=openid+email+profile&redirect_uri=" +
			url.QueryEscape("http://127.0.0.1:53124/callback") + "&code_challenge=" + challenge + "&client_id=mcp-client&response_type=code&access_type=offline&prompt=consent&response_mode=query&ui_locales=en-US&login_hint="
		back := cmLogin(t, s, query)
		if got := back.Query().Get("state"); got != state {
			t.Errorf("state came back as %q, want %q byte for byte", got, state)
		}
		if meta["authorization_response_iss_parameter_supported"] == true && back.Query().Get("iss") != s.issuer {
			t.Errorf("the redirect's iss is %q, want %q (RFC 9207; the TypeScript client checks it)", back.Query().Get("iss"), s.issuer)
		}
		if back.Host != "127.0.0.1:53124" {
			t.Errorf("redirected to %s, want the loopback port the client asked for", back)
		}
		code := back.Query().Get("code")
		r := cmSend(t, cmForm(token, cmFormType, "grant_type=authorization_code&code="+url.QueryEscape(code)+"&redirect_uri="+url.QueryEscape("http://127.0.0.1:53124/callback")+"&code_verifier="+verifier,
			cmBasic("mcp-client", "mcp-secret"), [2]string{"Accept", "application/json"}))
		if r.status != http.StatusOK {
			t.Fatalf("code redeemed with Basic: %d %s", r.status, r.raw)
		}
		// No-store on every token response, the code grant's too.
		if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Pragma") != "no-cache" {
			t.Errorf("code grant answer Cache-Control %q Pragma %q, want no-store and no-cache", r.header.Get("Cache-Control"), r.header.Get("Pragma"))
		}
		idToken, _ = r.json["id_token"].(string)
		hdr, c := cmJWT(t, idToken, str("jwks_uri"))
		// RS256 unless the client registered another algorithm.
		if hdr.Algorithm != "RS256" {
			t.Errorf("ID token alg %s, want RS256 (docs/interop.md)", hdr.Algorithm)
		}
		if _, ok := c["nonce"]; ok {
			t.Errorf("ID token has a nonce %v though none was sent", c["nonce"])
		}
		// The ID token's aud holds the client that presents it.
		if aud := c["aud"]; aud != "mcp-client" && !reflect.DeepEqual(aud, []any{"mcp-client"}) {
			t.Errorf("ID token aud %v, want mcp-client", aud)
		}
	})
	if idToken == "" {
		t.FailNow()
	}
	t.Run("state byte for byte in an error redirect too", func(t *testing.T) {
		const state = "x:y%2Fz/+ &="
		q := url.Values{"response_type": {"code"}, "client_id": {"mcp-client"}, "redirect_uri": {"http://127.0.0.1:53125/callback"}, "scope": {"openid"},
			"state": {state}, "approval_prompt": {"force"}}
		r := cmSend(t, cmRequest{method: http.MethodGet, url: str("authorization_endpoint") + "?" + q.Encode()})
		loc, err := url.Parse(r.header.Get("Location"))
		if r.status != http.StatusFound || err != nil || loc.Query().Get("error") != "invalid_request" || loc.Query().Get("state") != state {
			t.Fatalf("/authorize without code_challenge: %d Location %q, want a redirect with error=invalid_request and state %q", r.status, r.header.Get("Location"), state)
		}
		if loc.Query().Get("iss") != s.issuer {
			t.Errorf("the error redirect's iss is %q, want %q (RFC 9207)", loc.Query().Get("iss"), s.issuer)
		}
	})
	t.Run("loopback redirect URIs: an IP literal on any port, localhost as registered", func(t *testing.T) {
		for _, cb := range []string{"http://[::1]:61000/callback", "http://localhost/callback"} {
			_, challenge := cmPKCE(43)
			q := url.Values{"response_type": {"code"}, "client_id": {"mcp-client"}, "redirect_uri": {cb}, "scope": {"openid"},
				"state": {"s"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
			back := cmLogin(t, s, q.Encode())
			if back.Query().Get("code") == "" || back.Scheme+"://"+back.Host+back.Path != cb {
				t.Errorf("redirect_uri %s: came back to %s", cb, back)
			}
		}
	})

	exchange := url.Values{
		"grant_type":           {cmTokenExchange},
		"requested_token_type": {cmIDJAG},
		"subject_token":        {idToken},
		"subject_token_type":   {cmIDToken},
		"audience":             {prmAS},
		"resource":             {resource},
		"scope":                {"notes.read"},
	}
	post := exchange.Encode() + "&client_id=mcp-client&client_secret=mcp-secret"
	// expectIDJAG checks an exchange answer as the clients of
	// docs/interop.md need it, and returns the ID-JAG.
	expectIDJAG := func(t *testing.T, r cmResponse, clientID, scope string) string {
		t.Helper()
		if r.status != http.StatusOK {
			t.Fatalf("exchange: %d %s", r.status, r.raw)
		}
		if r.json["issued_token_type"] != cmIDJAG || r.json["token_type"] != "N_A" || r.json["expires_in"] != float64(300) || r.json["scope"] != scope {
			t.Errorf("exchange answer %s, want issued_token_type %s, token_type N_A, expires_in 300, scope %s", r.raw, cmIDJAG, scope)
		}
		if _, ok := r.json["refresh_token"]; ok {
			t.Error("the exchange answered with a refresh token")
		}
		if cc := r.header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control %q, want no-store", cc)
		}
		jag, _ := r.json["access_token"].(string)
		hdr, c := cmJWT(t, jag, str("jwks_uri"))
		if hdr.ExtraHeaders[jose.HeaderType] != "oauth-id-jag+jwt" || hdr.KeyID == "" {
			t.Errorf("ID-JAG header typ %v kid %q, want oauth-id-jag+jwt and a kid", hdr.ExtraHeaders[jose.HeaderType], hdr.KeyID)
		}
		want := map[string]any{"iss": s.issuer, "aud": asIssuer, "client_id": clientID, "resource": resource, "sub": "u-alice", "scope": scope}
		for k, v := range want {
			if c[k] != v {
				t.Errorf("ID-JAG %s = %v, want %v", k, c[k], v)
			}
		}
		exp, _ := c["exp"].(float64)
		iat, _ := c["iat"].(float64)
		if jti, _ := c["jti"].(string); jti == "" || exp-iat != 300 {
			t.Errorf("ID-JAG jti %v, exp-iat %v: want a jti and 300 s", c["jti"], exp-iat)
		}
		return jag
	}

	jags := map[string]string{}
	exchanges := []struct {
		name     string
		req      cmRequest
		clientID string // at the authorization server
		scope    string // granted; "" for notes.read
	}{
		{"TypeScript: client_secret_post, audience from the protected-resource metadata verbatim",
			cmForm(token, cmFormType, post, [2]string{"Accept", "application/json"}), "mcp-client-at-notes", ""},
		{"audience with a trailing slash",
			cmForm(token, cmFormType, strings.Replace(post, "audience="+url.QueryEscape(prmAS), "audience="+url.QueryEscape(strings.TrimSuffix(prmAS, "/")+"/"), 1)), "mcp-client-at-notes", ""},
		{"audience without a trailing slash",
			cmForm(token, cmFormType, strings.Replace(post, "audience="+url.QueryEscape(prmAS), "audience="+url.QueryEscape(strings.TrimSuffix(prmAS, "/")), 1)), "mcp-client-at-notes", ""},
		{"Go SDK: an empty code= on the token exchange",
			cmForm(token, cmFormType, "code=&"+post), "mcp-client-at-notes", ""},
		{"zitadel: empty actor_token= and actor_token_type=",
			cmForm(token, cmFormType, post+"&actor_token=&actor_token_type="), "mcp-client-at-notes", ""},
		{"an unknown extra parameter",
			cmForm(token, cmFormType, post+"&approval_prompt=force&foo=bar"), "mcp-client-at-notes", ""},
		{"Basic, id and secret form-URL-encoded (mcp%2Dclient)",
			cmForm(token, cmFormType, exchange.Encode(), cmEncodedBasic("mcp-client", "mcp-secret")), "mcp-client-at-notes", ""},
		{"Basic, as they are",
			cmForm(token, cmFormType, exchange.Encode(), cmBasic("mcp-client", "mcp-secret")), "mcp-client-at-notes", ""},
		{"charset in Content-Type, no space (Java clients)",
			cmForm(token, cmFormType+";charset=UTF-8", post), "mcp-client-at-notes", ""},
		{"charset in Content-Type, spaced and quoted",
			cmForm(token, cmFormType+`; charset="utf-8"`, post), "mcp-client-at-notes", ""},
		{"Content-Type in another case, header names lower case",
			cmRequest{url: token, body: post, header: [][2]string{{"content-type", "Application/X-WWW-Form-Urlencoded"}, {"accept", "application/json, text/plain, */*"}}}, "mcp-client-at-notes", ""},
		{"grant_type last, parameters in another order",
			cmForm(token, cmFormType, "client_secret=mcp-secret&scope=notes.read&resource="+url.QueryEscape(resource)+"&audience="+url.QueryEscape(prmAS)+
				"&subject_token_type="+url.QueryEscape(cmIDToken)+"&subject_token="+idToken+"&client_id=mcp-client&requested_token_type="+url.QueryEscape(cmIDJAG)+
				"&grant_type="+url.QueryEscape(cmTokenExchange)), "mcp-client-at-notes", ""},
		{"empty scope= is absent: every scope the policy allows",
			cmForm(token, cmFormType, strings.Replace(post, "scope=notes.read", "scope=", 1)), "mcp-client-at-notes", "notes.read notes.write"},
		{"empty parameters the exchange does not use",
			cmForm(token, cmFormType, post+"&code=&redirect_uri=&code_verifier=&refresh_token=&assertion=&client_assertion=&client_assertion_type=&authorization_details=&dpop_jkt="), "mcp-client-at-notes", ""},
		{"Basic and the same client_id in the body",
			cmForm(token, cmFormType, exchange.Encode()+"&client_id=mcp-client", cmEncodedBasic("mcp-client", "mcp-secret")), "mcp-client-at-notes", ""},
		{"resource with a trailing slash",
			cmForm(token, cmFormType, strings.Replace(post, "resource="+url.QueryEscape(resource), "resource="+url.QueryEscape(resource+"/"), 1)), "mcp-client-at-notes", ""},
		{"a chunked body without Content-Length",
			cmRequest{url: token, body: post, header: [][2]string{{"Content-Type", cmFormType}}, chunked: true}, "mcp-client-at-notes", ""},
		{"Expect: 100-continue (curl on a long body)",
			cmForm(token, cmFormType, post, [2]string{"Expect", "100-continue"}), "mcp-client-at-notes", ""},
		{"the same resource twice (RFC 8707 repeats it)",
			cmForm(token, cmFormType, post+"&resource="+url.QueryEscape(resource)), "mcp-client-at-notes", ""},
	}
	for _, ex := range exchanges {
		t.Run(ex.name, func(t *testing.T) {
			if ex.scope == "" {
				ex.scope = "notes.read"
			}
			jags[ex.name] = expectIDJAG(t, cmSend(t, ex.req), ex.clientID, ex.scope)
		})
	}
	t.Run("zitadel's tokenexchange client, as it is", func(t *testing.T) {
		// The real client: discovery at the issuer, Basic with
		// url.QueryEscape'd credentials, empty actor_token= and
		// actor_token_type=, audience and resource as lists.
		te, err := tokenexchange.NewTokenExchangerClientCredentials(context.Background(), s.issuer, "mcp-client", "mcp-secret")
		if err != nil {
			t.Fatalf("zitadel's token exchanger: %v", err)
		}
		resp, err := tokenexchange.ExchangeToken(context.Background(), te, idToken, cmIDToken, "", "",
			[]string{resource}, []string{prmAS}, []string{"notes.read"}, cmIDJAG)
		if err != nil {
			t.Fatalf("zitadel's ExchangeToken: %v", err)
		}
		if resp.IssuedTokenType != cmIDJAG || resp.TokenType != "N_A" || resp.ExpiresIn != 300 {
			t.Errorf("zitadel read issued_token_type %q token_type %q expires_in %d", resp.IssuedTokenType, resp.TokenType, resp.ExpiresIn)
		}
		_, c := cmJWT(t, resp.AccessToken, str("jwks_uri"))
		if c["aud"] != asIssuer || c["client_id"] != "mcp-client-at-notes" || c["resource"] != resource {
			t.Errorf("ID-JAG aud %v client_id %v resource %v", c["aud"], c["client_id"], c["resource"])
		}
	})
	t.Run("retry: the same exchange again gives another ID-JAG", func(t *testing.T) {
		a := expectIDJAG(t, cmSend(t, cmForm(token, cmFormType, post)), "mcp-client-at-notes", "notes.read")
		b := expectIDJAG(t, cmSend(t, cmForm(token, cmFormType, post)), "mcp-client-at-notes", "notes.read")
		ca, cb := cmUnverified(t, a), cmUnverified(t, b)
		if ca["jti"] == cb["jti"] {
			t.Errorf("two exchanges gave one jti %v", ca["jti"])
		}
	})

	// A client whose id and secret hold ':' and the characters form
	// encoding changes : its own ID token, Basic encoded.
	t.Run("Basic with ':' in client_id and secret, form-URL-encoded and as it is", func(t *testing.T) {
		verifier, challenge := cmPKCE(64)
		q := url.Values{"response_type": {"code"}, "client_id": {"urn:acme:agent"}, "redirect_uri": {cmCallback}, "scope": {"openid"},
			"state": {"s"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
		back := cmLogin(t, s, q.Encode())
		r := cmSend(t, cmForm(token, cmFormType, url.Values{"grant_type": {"authorization_code"}, "code": {back.Query().Get("code")},
			"redirect_uri": {cmCallback}, "code_verifier": {verifier}}.Encode(), cmEncodedBasic("urn:acme:agent", "p:w+d%/=")))
		if r.status != http.StatusOK {
			t.Fatalf("code redeemed with encoded Basic: %d %s", r.status, r.raw)
		}
		form := url.Values{}
		for k, v := range exchange {
			form[k] = v
		}
		form.Set("subject_token", r.json["id_token"].(string))
		jag := expectIDJAG(t, cmSend(t, cmForm(token, cmFormType, form.Encode(), cmEncodedBasic("urn:acme:agent", "p:w+d%/="))), "urn:notes:agent", "notes.read")
		// As it is (curl -u, btoa): Basic splits at the first ':', and the
		// client_id is the longest prefix that names a client.
		expectIDJAG(t, cmSend(t, cmForm(token, cmFormType, form.Encode(), cmBasic("urn:acme:agent", "p:w+d%/="))), "urn:notes:agent", "notes.read")
		// At the authorization server, with its client id there, encoded.
		r = cmSend(t, cmForm(asToken, cmFormType, url.Values{"grant_type": {cmJWTBearer}, "assertion": {jag}, "resource": {resource}}.Encode(),
			cmEncodedBasic("urn:notes:agent", "p:w+d%/=")))
		if r.status != http.StatusOK || r.json["token_type"] == nil {
			t.Errorf("JWT bearer grant with encoded Basic holding ':': %d %s", r.status, r.raw)
		}
	})
	t.Run("public client: client_id alone", func(t *testing.T) {
		verifier, challenge := cmPKCE(43)
		q := url.Values{"response_type": {"code"}, "client_id": {"pub-client"}, "redirect_uri": {cmCallback}, "scope": {"openid"},
			"state": {"s"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
		back := cmLogin(t, s, q.Encode())
		r := cmSend(t, cmForm(token, cmFormType, url.Values{"grant_type": {"authorization_code"}, "code": {back.Query().Get("code")},
			"redirect_uri": {cmCallback}, "code_verifier": {verifier}, "client_id": {"pub-client"}}.Encode()))
		if r.status != http.StatusOK {
			t.Fatalf("public client's code: %d %s", r.status, r.raw)
		}
		pubIDToken, _ := r.json["id_token"].(string)
		form := url.Values{"client_id": {"pub-client"}}
		for k, v := range exchange {
			form[k] = v
		}
		form.Set("subject_token", pubIDToken)
		jag := expectIDJAG(t, cmSend(t, cmForm(token, cmFormType, "code=&"+form.Encode())), "pub-client-at-notes", "notes.read")
		r = cmSend(t, cmForm(asToken, cmFormType, url.Values{"grant_type": {cmJWTBearer}, "assertion": {jag}, "resource": {resource}, "client_id": {"pub-client-at-notes"}}.Encode()))
		if r.status != http.StatusOK {
			t.Errorf("JWT bearer grant for a public client: %d %s", r.status, r.raw)
		}
		// The ID token of pub-client presented by mcp-client.
		form.Del("client_id")
		r = cmSend(t, cmForm(token, cmFormType, form.Encode()+"&client_id=mcp-client&client_secret=mcp-secret"))
		if r.status == http.StatusOK {
			t.Errorf("mcp-client exchanged pub-client's ID token: %s", r.raw)
		}
	})
	t.Run("retry: a code redeemed twice is refused", func(t *testing.T) {
		// A client whose first answer was lost retries; RFC 6749 section
		// 4.1.2 refuses the second redemption (and revokes the login).
		verifier, challenge := cmPKCE(43)
		q := url.Values{"response_type": {"code"}, "client_id": {"mcp-client"}, "redirect_uri": {cmCallback}, "scope": {"openid"},
			"state": {"s"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
		code := cmLogin(t, s, q.Encode()).Query().Get("code")
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {cmCallback}, "code_verifier": {verifier}}.Encode()
		if r := cmSend(t, cmForm(token, cmFormType, form, cmBasic("mcp-client", "mcp-secret"))); r.status != http.StatusOK {
			t.Fatalf("code: %d %s", r.status, r.raw)
		}
		cmOAuthError(t, cmSend(t, cmForm(token, cmFormType, form, cmBasic("mcp-client", "mcp-secret"))), http.StatusBadRequest, "invalid_grant")
	})
	t.Run("refusals are RFC 6749 JSON with no-store", func(t *testing.T) {
		r := cmSend(t, cmForm(token, cmFormType, exchange.Encode(), cmBasic("mcp-client", "wrong")))
		cmOAuthError(t, r, http.StatusUnauthorized, "invalid_client")
		if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("WWW-Authenticate %q after a refused Basic, want a Basic challenge (RFC 6749 section 5.2)", r.header.Get("WWW-Authenticate"))
		}
		cmOAuthError(t, cmSend(t, cmForm(token, cmFormType, strings.Replace(post, url.QueryEscape(cmIDJAG), url.QueryEscape("urn:ietf:params:oauth:token-type:access_token"), 1))), http.StatusBadRequest, "invalid_request")
		cmOAuthError(t, cmSend(t, cmForm(token, cmFormType, post+"&audience="+url.QueryEscape("urn:other"))), http.StatusBadRequest, "invalid_request")
	})

	// The JWT bearer grant at the authorization server, each ID-JAG once
	// (a second redemption is a replay).
	redeem := func(t *testing.T, name string, req func(jag string) cmRequest) string {
		t.Helper()
		jag := jags[name]
		if name == "" {
			jag = expectIDJAG(t, cmSend(t, cmForm(token, cmFormType, post)), "mcp-client-at-notes", "notes.read")
		}
		if jag == "" {
			t.Skipf("no ID-JAG from %q", name)
		}
		r := cmSend(t, req(jag))
		if r.status != http.StatusOK || r.json["token_type"] != "Bearer" {
			t.Fatalf("JWT bearer grant: %d %s", r.status, r.raw)
		}
		if _, ok := r.json["refresh_token"]; ok {
			t.Error("the authorization server issued a refresh token")
		}
		if cc := r.header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control %q, want no-store", cc)
		}
		// Replayed: refused, no-store.
		cmOAuthError(t, cmSend(t, req(jag)), http.StatusBadRequest, "invalid_grant")
		at, _ := r.json["access_token"].(string)
		return at
	}
	bearer := url.Values{"grant_type": {cmJWTBearer}}
	bearerForm := func(jag string, extra string) string {
		f := url.Values{"grant_type": bearer["grant_type"], "assertion": {jag}, "resource": {resource}}
		return f.Encode() + extra
	}
	var accessToken string
	t.Run("TypeScript at the authorization server: client_secret_basic and resource", func(t *testing.T) {
		accessToken = redeem(t, exchanges[0].name, func(jag string) cmRequest {
			return cmForm(asToken, cmFormType, bearerForm(jag, ""), cmEncodedBasic("mcp-client-at-notes", "mcp-secret"), [2]string{"Accept", "application/json"})
		})
	})
	t.Run("Go SDK at the authorization server: client_secret_post and an empty code=", func(t *testing.T) {
		redeem(t, exchanges[3].name, func(jag string) cmRequest {
			// x/oauth2's Exchange with AuthStyleInParams: no resource.
			return cmForm(asToken, cmFormType, url.Values{"assertion": {jag}, "client_id": {"mcp-client-at-notes"}, "client_secret": {"mcp-secret"},
				"code": {""}, "grant_type": {cmJWTBearer}}.Encode(), [2]string{"Accept", "application/json"})
		})
	})
	t.Run("at the authorization server: empty scope=, resource= and other parameters are absent", func(t *testing.T) {
		redeem(t, "", func(jag string) cmRequest {
			return cmForm(asToken, cmFormType, url.Values{"assertion": {jag}, "client_id": {"mcp-client-at-notes"}, "client_secret": {"mcp-secret"},
				"code": {""}, "scope": {""}, "resource": {""}, "redirect_uri": {""}, "code_verifier": {""}, "refresh_token": {""},
				"client_assertion": {""}, "client_assertion_type": {""}, "grant_type": {cmJWTBearer}}.Encode())
		})
	})
	t.Run("at the authorization server: Basic and the same client_id in the body", func(t *testing.T) {
		redeem(t, "", func(jag string) cmRequest {
			return cmForm(asToken, cmFormType, bearerForm(jag, "&client_id=mcp-client-at-notes"), cmEncodedBasic("mcp-client-at-notes", "mcp-secret"))
		})
	})
	t.Run("at the authorization server: a chunked body", func(t *testing.T) {
		redeem(t, "", func(jag string) cmRequest {
			return cmRequest{url: asToken, body: bearerForm(jag, ""), chunked: true,
				header: [][2]string{{"Content-Type", cmFormType}, cmEncodedBasic("mcp-client-at-notes", "mcp-secret")}}
		})
	})
	t.Run("at the authorization server: resource with a trailing slash", func(t *testing.T) {
		redeem(t, "", func(jag string) cmRequest {
			return cmForm(asToken, cmFormType, url.Values{"assertion": {jag}, "grant_type": {cmJWTBearer}, "resource": {resource + "/"}}.Encode(),
				cmEncodedBasic("mcp-client-at-notes", "mcp-secret"))
		})
	})
	t.Run("at the authorization server: Basic as it is", func(t *testing.T) {
		redeem(t, exchanges[7].name, func(jag string) cmRequest {
			return cmForm(asToken, cmFormType, bearerForm(jag, ""), cmBasic("mcp-client-at-notes", "mcp-secret"))
		})
	})
	t.Run("at the authorization server: charset, header case, extra parameters", func(t *testing.T) {
		redeem(t, exchanges[8].name, func(jag string) cmRequest {
			return cmRequest{url: asToken, body: bearerForm(jag, "&approval_prompt=force&actor_token=&client_id=mcp-client-at-notes&client_secret=mcp-secret"),
				header: [][2]string{{"content-type", "application/x-www-form-urlencoded; charset=UTF-8"}, {"accept", "application/json, text/plain, */*"}}}
		})
	})
	t.Run("the ID-JAG of a trailing-slash audience is accepted", func(t *testing.T) {
		redeem(t, exchanges[1].name, func(jag string) cmRequest {
			return cmForm(asToken, cmFormType, bearerForm(jag, "&scope=notes.read"), cmEncodedBasic("mcp-client-at-notes", "mcp-secret"))
		})
	})
	t.Run("at the authorization server: refusals are RFC 6749 JSON with no-store", func(t *testing.T) {
		r := cmSend(t, cmForm(asToken, cmFormType, bearerForm("a.b.c", ""), cmBasic("mcp-client-at-notes", "wrong")))
		cmOAuthError(t, r, http.StatusUnauthorized, "invalid_client")
		if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("WWW-Authenticate %q after a refused Basic, want a Basic challenge", r.header.Get("WWW-Authenticate"))
		}
		cmOAuthError(t, cmSend(t, cmForm(asToken, cmFormType, bearerForm("not-a-jwt", ""), cmBasic("mcp-client-at-notes", "mcp-secret"))), http.StatusBadRequest, "invalid_grant")
		cmOAuthError(t, cmSend(t, cmForm(asToken, cmFormType, "grant_type="+url.QueryEscape(cmJWTBearer)+"&assertion=", cmBasic("mcp-client-at-notes", "mcp-secret"))), http.StatusBadRequest, "invalid_request")
	})
	t.Run("the authorization server's /authorize returns state byte for byte", func(t *testing.T) {
		authz, _ := asMeta["authorization_endpoint"].(string)
		const state = "a:b%2Fc"
		r := cmSend(t, cmRequest{method: http.MethodGet, url: authz + "?" + url.Values{"response_type": {"code"}, "client_id": {"mcp-client-at-notes"},
			"redirect_uri": {"http://127.0.0.1:50000/callback"}, "state": {state}, "approval_prompt": {"force"}}.Encode()})
		loc, err := url.Parse(r.header.Get("Location"))
		if r.status/100 != 3 || err != nil || loc.Query().Get("state") != state || loc.Query().Get("error") != "unsupported_response_type" {
			t.Errorf("/authorize: %d Location %q, want a redirect with error=unsupported_response_type and state %q", r.status, r.header.Get("Location"), state)
		}
	})
	t.Run("the MCP server takes the access token", func(t *testing.T) {
		if accessToken == "" {
			t.Skip("no access token")
		}
		r := cmSend(t, cmRequest{url: s.notes.URL, header: [][2]string{{"Content-Type", "application/json"}, {"Accept", "application/json, text/event-stream"},
			{"Authorization", "Bearer " + accessToken}},
			body: `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`})
		if r.status != http.StatusOK {
			t.Errorf("MCP initialize with the access token: %d %s", r.status, r.raw)
		}
	})
}

func cmUnverified(t *testing.T, raw string) map[string]any {
	t.Helper()
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		t.Fatal(err)
	}
	return c
}
