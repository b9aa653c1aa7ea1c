package demo_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/xaa-idp/xaa-idp/demo"
	"github.com/xaa-idp/xaa-idp/fixtures"
	"github.com/xaa-idp/xaa-idp/policy"
)

const (
	idpIssuer = "http://127.0.0.1:8080"
)

func demoConfig(t *testing.T) *policy.Config {
	t.Helper()
	cfg, err := policy.Parse(fixtures.Demo, fixtures.DemoFile)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// fakeIdP serves a JWKS of one ES256 key, kid "k", as an IdP's; the signer signs ID-JAGs with it.
func fakeIdP(t *testing.T) (*httptest.Server, jose.Signer) {
	t.Helper()
	idp, key := fakeIdPKey(t)
	return idp, signerOf(t, key, "oauth-id-jag+jwt")
}

// fakeIdPKey is fakeIdP with the private key itself, for signing SETs too.
func fakeIdPKey(t *testing.T) (*httptest.Server, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k", Algorithm: "ES256"}}})
	}))
	t.Cleanup(idp.Close)
	return idp, key
}

// signerOf signs JWTs of the JWS type typ with key, kid "k".
func signerOf(t *testing.T, key *ecdsa.PrivateKey, typ jose.ContentType) jose.Signer {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "k"}},
		(&jose.SignerOptions{}).WithType(typ))
	if err != nil {
		t.Fatal(err)
	}
	return signer
}

// serveAuthorizationServer serves the stack's authorization server of an MCP server.
func serveAuthorizationServer(t *testing.T, stack []demo.Service, server string) *httptest.Server {
	t.Helper()
	for _, svc := range stack {
		if svc.Server == server && svc.Role == "authorization server" {
			srv := httptest.NewServer(svc.Handler)
			t.Cleanup(srv.Close)
			return srv
		}
	}
	t.Fatalf("the stack has no authorization server for %s", server)
	return nil
}

// TestStack_OneAuthServerAndOneMCPServerPerServer checks that every MCP
// server of the demo configuration gets its authorization server at its
// issuer and its MCP server at its first resource.
func TestStack_OneAuthServerAndOneMCPServerPerServer(t *testing.T) {
	cfg := demoConfig(t)
	stack, err := demo.Stack(cfg, idpIssuer, nil)
	if err != nil {
		t.Fatal(err)
	}
	type want struct{ url, addr string }
	got := map[string]want{}
	for _, svc := range stack {
		if svc.Handler == nil {
			t.Errorf("%s %s has no handler", svc.Server, svc.Role)
		}
		got[svc.Server+" "+svc.Role] = want{svc.URL, svc.Addr}
	}
	if len(stack) != 2*len(cfg.MCPServers) {
		t.Errorf("%d services for %d MCP servers", len(stack), len(cfg.MCPServers))
	}
	tests := []struct {
		service string
		want    want
	}{
		{"tracker authorization server", want{"http://127.0.0.1:8101", "127.0.0.1:8101"}},
		{"tracker MCP server", want{"http://127.0.0.1:8201/mcp", "127.0.0.1:8201"}},
		{"crm authorization server", want{"http://127.0.0.1:8104", "127.0.0.1:8104"}},
		{"crm MCP server", want{"http://127.0.0.1:8204/mcp", "127.0.0.1:8204"}},
	}
	for _, tt := range tests {
		if got[tt.service] != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.service, got[tt.service], tt.want)
		}
	}
}

// TestStack_RefusesTwoServicesOnOneAddress: the demo listens on the
// address each URL names, so two URLs on one host:port cannot both work.
func TestStack_RefusesTwoServicesOnOneAddress(t *testing.T) {
	cfg := demoConfig(t)
	cfg.MCPServers[1].Issuer = cfg.MCPServers[0].Issuer
	_, err := demo.Stack(cfg, idpIssuer, nil)
	if err == nil || !strings.Contains(err.Error(), "give each its own port") {
		t.Fatalf("err = %v, want a port conflict", err)
	}
}

// TestStack_RefusesAServerThatIsNotOnLoopback: the demo listens on the
// host each URL names; an authorization server elsewhere is refused with
// the reason, not with the error of a DNS lookup or a bind.
func TestStack_RefusesAServerThatIsNotOnLoopback(t *testing.T) {
	cfg := demoConfig(t)
	cfg.MCPServers[1].Issuer = "https://as.mine.example"
	_, err := demo.Stack(cfg, idpIssuer, nil)
	if err == nil || !strings.Contains(err.Error(), "https://as.mine.example is not a loopback URL") || !strings.Contains(err.Error(), cfg.MCPServers[1].ID) {
		t.Fatalf("err = %v, want the server and its URL named as not on loopback", err)
	}
}

// TestStack_AuthorizationServerIsWiredFromTheConfiguration redeems an
// ID-JAG at the crm authorization server of the demo stack, switched to
// subject: email, then introspects the token with the MCP server's
// credentials and sends /authorize back to a redirect URI the client has
// at the IdP.
func TestStack_AuthorizationServerIsWiredFromTheConfiguration(t *testing.T) {
	idp, signer := fakeIdP(t)
	cfg := demoConfig(t)
	crm := cfg.Server("crm")
	crm.Subject = policy.SubjectEmail
	stack, err := demo.Stack(cfg, idp.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := serveAuthorizationServer(t, stack, "crm")

	now := time.Now()
	jag, _ := jwt.Signed(signer).Claims(map[string]any{
		"iss": idp.URL, "sub": "idp-subject-of-alice", "email": "alice@acme.example", "aud": crm.Issuer,
		"client_id": "mcp-client-at-crm", "resource": crm.Resources[0], "scope": "crm.read",
		"jti": "jti-1", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
	}).Serialize()
	post := func(path string, user, pass string, form url.Values) map[string]any {
		t.Helper()
		status, body := postForm(t, srv.URL+path, user, pass, form)
		if status != http.StatusOK {
			t.Fatalf("POST %s: HTTP %d %v", path, status, body)
		}
		return body
	}
	tok := post("/token", "mcp-client-at-crm", "mcp-secret", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {jag}})
	id, secret := demo.IntrospectionCredentials("crm")
	info := post("/introspect", id, secret, url.Values{"token": {tok["access_token"].(string)}})
	if info["active"] != true || info["username"] != "alice" || info["sub"] != cfg.User("alice").Sub || info["client_id"] != "mcp-client-at-crm" {
		t.Errorf("introspection %v, want alice mapped by email", info)
	}

	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(srv.URL + "/authorize?client_id=mcp-client-at-crm&redirect_uri=http://127.0.0.1:3000/callback&state=s")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, "http://127.0.0.1:3000/callback?") {
		t.Errorf("/authorize: HTTP %d to %q", resp.StatusCode, loc)
	}
}

// TestStack_SharedServerTrustsTheTenantsThatListIt: with tenants, the
// authorization server of an MCP server that two tenants list trusts
// exactly their issuers and knows each one's client under the client_id
// it maps to, with that client's secret at its tenant (docs/http.md,
// "Demo authorization servers"); a third tenant that lists another server is untrusted.
func TestStack_SharedServerTrustsTheTenantsThatListIt(t *testing.T) {
	idp, signer := fakeIdP(t)
	tenant := func(id, client, atServer, issuer string) string {
		return `
  - id: ` + id + `
    users: [{username: alice, password: alice, sub: u-alice-` + id + `}]
    clients: [{client_id: ` + client + `, client_secret: ` + client + `-secret, token_exchange: true}]
    mcp_servers:
      - id: notes
        issuer: ` + issuer + `
        resources: [` + strings.Replace(issuer, ":91", ":92", 1) + `/mcp]
        scopes: [notes.read]
        clients: {` + client + `: ` + atServer + `}
        access: [{users: [alice], scopes: [notes.read]}]`
	}
	cfg, err := policy.Parse([]byte("tenants:"+
		tenant("a", "desk-a", "a-at-notes", "http://127.0.0.1:9101")+
		tenant("b", "desk-b", "b-at-notes", "http://127.0.0.1:9101")+
		tenant("c", "desk-c", "c-at-other", "http://127.0.0.1:9102")), "tenants.yaml")
	if err != nil {
		t.Fatal(err)
	}
	stack, err := demo.Stack(cfg, idp.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	var as http.Handler
	for _, svc := range stack {
		if svc.URL == "http://127.0.0.1:9101" {
			as = svc.Handler
		}
	}
	if len(stack) != 4 || as == nil {
		t.Fatalf("%d services, want an authorization server and an MCP server for each of the 2 issuers", len(stack))
	}
	srv := httptest.NewServer(as)
	defer srv.Close()
	tests := []struct {
		tenant, clientID, secret string
		wantErr                  string // "" for an access token
	}{
		{"a", "a-at-notes", "desk-a-secret", ""},
		{"b", "b-at-notes", "desk-b-secret", ""},
		{"b", "b-at-notes", "desk-a-secret", "invalid_client"},
		{"c", "a-at-notes", "desk-a-secret", "invalid_grant"},
	}
	for i, tt := range tests {
		now := time.Now()
		jag, _ := jwt.Signed(signer).Claims(map[string]any{
			"iss": idp.URL + "/t/" + tt.tenant, "sub": "u-alice-" + tt.tenant, "aud": "http://127.0.0.1:9101",
			"client_id": tt.clientID, "resource": "http://127.0.0.1:9201/mcp", "scope": "notes.read",
			"jti": fmt.Sprint("jti-", i), "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
		}).Serialize()
		form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {jag}}
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(tt.clientID, tt.secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if got, _ := body["error"].(string); got != tt.wantErr || (tt.wantErr == "" && body["access_token"] == nil) {
			t.Errorf("tenant %s as %s: HTTP %d %v, want error %q", tt.tenant, tt.clientID, resp.StatusCode, body, tt.wantErr)
		}
	}
}

// TestStack_MetadataDocumentClientCannotUseBasic: the demo registers the
// metadata document clients an MCP server maps (the demo's `connect --cimd`
// client at the tracker); client_secret_basic with that URL and an empty
// secret must not redeem the client's ID-JAG without its document ever
// being read (it could say private_key_jwt).
func TestStack_MetadataDocumentClientCannotUseBasic(t *testing.T) {
	idp, signer := fakeIdP(t)
	cfg := demoConfig(t)
	tracker := cfg.Server("tracker")
	var metadataClient string
	for id := range tracker.Clients {
		if strings.HasPrefix(id, "http") {
			metadataClient = tracker.Clients[id]
		}
	}
	if metadataClient == "" {
		t.Fatal("the demo's tracker maps no metadata document client")
	}
	stack, err := demo.Stack(cfg, idp.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := serveAuthorizationServer(t, stack, "tracker")

	now := time.Now()
	jag, _ := jwt.Signed(signer).Claims(map[string]any{
		"iss": idp.URL, "sub": "00u-alice", "aud": tracker.Issuer,
		"client_id": metadataClient, "resource": tracker.Resources[0], "scope": "issues.read",
		"jti": "jti-basic", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
	}).Serialize()
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {jag}}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(metadataClient), "")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" {
		t.Fatalf("Basic %s with an empty secret: HTTP %d %v, want 401 invalid_client", metadataClient, resp.StatusCode, body)
	}
}

// TestStack_RefusesTwoReuseSettingsForOneServer: the one authorization
// server of an MCP server that two tenants list either accepts a redeemed
// ID-JAG again or not, so the tenants must agree on allow_id_jag_reuse.
// When they do, both tenants' ID-JAGs may be reused there.
func TestStack_RefusesTwoReuseSettingsForOneServer(t *testing.T) {
	tenant := func(id, reuse string) string {
		return `
  - id: ` + id + `
    users: [{username: alice, password: alice, sub: u-alice-` + id + `}]
    clients: [{client_id: desk-` + id + `, client_secret: s-` + id + `, token_exchange: true}]
    mcp_servers:
      - id: notes
        issuer: http://127.0.0.1:9101
        resources: [http://127.0.0.1:9201/mcp]
        scopes: [notes.read]` + reuse + `
        clients: {desk-` + id + `: ` + id + `-at-notes}
        access: [{users: [alice], scopes: [notes.read]}]`
	}
	on := "\n        allow_id_jag_reuse: true"
	for _, tt := range []struct {
		name, a, b string
		wantErr    bool
	}{
		{"neither", "", "", false},
		{"both", on, on, false},
		{"only the second", "", on, true},
		{"only the first", on, "\n        allow_id_jag_reuse: false", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := policy.Parse([]byte("tenants:"+tenant("a", tt.a)+tenant("b", tt.b)), "tenants.yaml")
			if err != nil {
				t.Fatal(err)
			}
			_, err = demo.Stack(cfg, idpIssuer, nil)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Stack: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "tenants a and b list the MCP server at http://127.0.0.1:9101 with allow_id_jag_reuse") {
				t.Fatalf("Stack: %v, want an error naming both tenants and allow_id_jag_reuse", err)
			}
		})
	}
}

// TestStack_SubjectSubIsTheDefault: subject: sub is what an MCP server
// without subject gets, so two tenants that list one server, one writing
// subject: sub and the other leaving it out, map its subjects one way:
// the demo serves them. subject: email against either is refused.
func TestStack_SubjectSubIsTheDefault(t *testing.T) {
	tenant := func(id, subject string) string {
		return `
  - id: ` + id + `
    users: [{username: alice, password: alice, sub: u-alice-` + id + `, email: alice@` + id + `.example}]
    clients: [{client_id: desk-` + id + `, client_secret: s-` + id + `, token_exchange: true}]
    mcp_servers:
      - id: notes
        issuer: http://127.0.0.1:9101
        resources: [http://127.0.0.1:9201/mcp]
        scopes: [notes.read]` + subject + `
        include_email: true
        clients: {desk-` + id + `: ` + id + `-at-notes}
        access: [{users: [alice], scopes: [notes.read]}]`
	}
	sub, email := "\n        subject: sub", "\n        subject: email"
	for _, tt := range []struct {
		name, a, b string
		wantErr    bool
	}{
		{"sub, then the default", sub, "", false},
		{"the default, then sub", "", sub, false},
		{"the default, then email", "", email, true},
		{"sub, then email", sub, email, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := policy.Parse([]byte("tenants:"+tenant("a", tt.a)+tenant("b", tt.b)), "tenants.yaml")
			if err != nil {
				t.Fatal(err)
			}
			_, err = demo.Stack(cfg, idpIssuer, nil)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Stack: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "tenants a and b list the MCP server at http://127.0.0.1:9101 with subject") {
				t.Fatalf("Stack: %v, want an error naming both tenants and subject", err)
			}
		})
	}
}
