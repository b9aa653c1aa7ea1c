package idptest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/modelcontextprotocol/go-sdk/auth/extauth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/idptest"
	"github.com/xaa-idp/xaa-idp/policy"
)

// exampleT stands in for the *testing.T that a test passes to idptest.New;
// examples have none. Its cleanups run when the example returns.
type exampleT struct{ cleanups []func() }

func (t *exampleT) Helper()                           {}
func (t *exampleT) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (t *exampleT) Cleanup(f func())                  { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) done() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}

// claims decodes a JWT's claims without verifying it, to show what is in it.
func claims(raw string) map[string]any {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.EdDSA})
	if err != nil {
		panic(err)
	}
	var c map[string]any
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		panic(err)
	}
	return c
}

// An IdP with the demo company: log a user in, get an ID-JAG for one of
// the MCP servers.
func ExampleNew() {
	t := &exampleT{} // in a test: the *testing.T
	defer t.done()

	srv := idptest.New(t)
	tok := srv.Login("alice")
	fmt.Println("logged in through", tok.ClientID)

	jag := srv.IDJAG("alice", "tracker", "issues.read")
	c := claims(jag)
	fmt.Println(c["sub"], c["aud"], c["client_id"], c["scope"])
	// Output:
	// logged in through mcp-client
	// 00u-alice http://127.0.0.1:8101 mcp-client-at-tracker issues.read
}

// A configuration written for the test, as YAML; or build a *policy.Config
// and pass it to WithConfig.
func ExampleWithConfigYAML() {
	t := &exampleT{}
	defer t.done()

	srv := idptest.New(t, idptest.WithConfigYAML(`
groups: [{name: eng}]
users:
  - {username: ann, password: secret, sub: ann-1, groups: [eng]}
  - {username: ben, password: secret}
clients:
  - {client_id: my-agent, client_secret: s3cret, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}
mcp_servers:
  - id: files
    issuer: https://as.files.example
    resources: [https://mcp.files.example/mcp]
    scopes: [files.read, files.write]
    clients: {my-agent: my-agent-at-files}
    access: [{groups: [eng], scopes: [files.read]}]
`))
	c := claims(srv.IDJAG("ann", "files"))
	fmt.Println(c["sub"], c["client_id"], c["resource"], c["scope"])

	_, err := srv.TryIDJAG("ben", "files")
	var refusal *idpclient.Error
	if errors.As(err, &refusal) {
		fmt.Println(refusal.Code)
	}
	// Output:
	// ann-1 my-agent-at-files https://mcp.files.example/mcp files.read
	// access_denied
}

// Faults make the token endpoint refuse, fail, stall or issue broken
// ID-JAGs, so that a client's error paths can be tested. This one answers
// the next token exchange for the tracker with temporarily_unavailable; the
// audit log shows what was injected.
func ExampleServer_InjectFault() {
	t := &exampleT{}
	defer t.done()

	srv := idptest.New(t)
	srv.InjectFault(policy.Fault{
		Match: policy.FaultMatch{Server: "tracker", GrantType: policy.FaultGrantTokenExchange},
		Error: policy.FaultError{Code: "temporarily_unavailable", Description: "the directory is being upgraded"},
		Times: 1,
	})

	_, err := srv.TryIDJAG("alice", "tracker")
	fmt.Println("first: ", err)
	_, err = srv.TryIDJAG("alice", "tracker")
	fmt.Println("second:", err)

	events := srv.Audit(audit.Filter{Type: audit.TypeTokenExchange}) // newest first
	for _, ev := range events {
		fmt.Println(ev.Outcome, "injected:", ev.Injected)
	}
	fmt.Println(events[1].Reason)
	// Output:
	// first:  temporarily_unavailable: the directory is being upgraded
	// second: <nil>
	// allowed injected: false
	// error injected: true
	// injected fault f1: error temporarily_unavailable (HTTP 503)
}

// The clock moves instead of the test sleeping: an ID token two hours old
// is refused as a subject token.
func ExampleServer_Clock() {
	t := &exampleT{}
	defer t.done()

	srv := idptest.New(t)
	tok := srv.Login("alice")
	srv.Clock().Advance(2 * time.Hour)

	_, err := srv.Exchange(tok, "tracker")
	var refusal *idpclient.Error
	if errors.As(err, &refusal) {
		fmt.Println(refusal.Code, strings.Contains(refusal.Description, "expired"))
	}
	// Output:
	// invalid_request true
}

// SetConfig changes the running configuration, as an administrator would:
// here bob, in sales, is assigned to the tracker.
func ExampleServer_SetConfig() {
	t := &exampleT{}
	defer t.done()

	srv := idptest.New(t)
	_, err := srv.TryIDJAG("bob", "tracker")
	fmt.Println("before:", err != nil)

	cfg := *srv.Config()
	cfg.MCPServers = append([]policy.MCPServer(nil), cfg.MCPServers...)
	tracker := &cfg.MCPServers[0]
	tracker.Access = append(tracker.Access, policy.Access{Users: []string{"bob"}, Scopes: []string{"issues.read"}})
	srv.SetConfig(&cfg)

	fmt.Println("after: ", claims(srv.IDJAG("bob", "tracker"))["scope"])
	// Output:
	// before: true
	// after:  issues.read
}

// An MCP client tested end to end: the official Go SDK's Enterprise-Managed
// Authorization handler logs in at the IdP, exchanges the ID token for an
// ID-JAG, trades it at the demo tracker's authorization server for an
// access token and calls the tracker's whoami tool.
func ExampleServer_StartDemoServers() {
	t := &exampleT{}
	defer t.done()

	srv := idptest.New(t)
	tracker := srv.StartDemoServers()["tracker"]

	handler, err := extauth.NewEnterpriseHandler(&extauth.EnterpriseHandlerConfig{
		IdPIssuerURL:     srv.Issuer(),
		IdPCredentials:   &oauthex.ClientCredentials{ClientID: "mcp-client", ClientSecretAuth: &oauthex.ClientSecretAuth{ClientSecret: "mcp-secret"}},
		MCPAuthServerURL: tracker.AuthServer,
		MCPResourceURI:   tracker.URL,
		MCPCredentials:   &oauthex.ClientCredentials{ClientID: "mcp-client-at-tracker", ClientSecretAuth: &oauthex.ClientSecretAuth{ClientSecret: "mcp-secret"}},
		MCPScopes:        []string{"issues.read"},
		IDTokenFetcher: func(context.Context) (*oauth2.Token, error) {
			tok := srv.Login("alice")
			return (&oauth2.Token{AccessToken: tok.AccessToken}).WithExtra(map[string]any{"id_token": tok.IDToken}), nil
		},
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
	})
	if err != nil {
		panic(err)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "my-client", Version: "1"}, nil)
	session, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: tracker.URL, OAuthHandler: handler}, nil)
	if err != nil {
		panic(err)
	}
	defer session.Close()
	res, err := session.CallTool(context.Background(), &mcp.CallToolParams{Name: "whoami"})
	if err != nil {
		panic(err)
	}
	who := res.StructuredContent.(map[string]any)
	fmt.Println(who["sub"], who["client_id"], who["scopes"])
	// Output:
	// 00u-alice mcp-client-at-tracker [issues.read]
}

// A configuration with tenants starts every tenant, each an IdP of its
// own at its issuer; Tenant's helpers act on one.
func ExampleServer_Tenant() {
	t := &exampleT{}
	defer t.done()

	srv := idptest.New(t, idptest.WithConfigYAML(`
tenants:
  - id: acme
    users: [{username: alice, password: alice}]
    clients: [{client_id: desktop, client_secret: s1, redirect_uris: [http://127.0.0.1/cb], token_exchange: true}]
    mcp_servers:
      - {id: notes, issuer: "http://127.0.0.1:9101", resources: ["http://127.0.0.1:9201/mcp"], scopes: [notes.read],
         clients: {desktop: acme-desktop}, access: [{users: [alice], scopes: [notes.read]}]}
  - id: okta
    persona: okta
    path: /oauth2/default
    users: [{username: alice, password: alice, email: alice@okta.example}]
    clients: [{client_id: 0oa-desktop, client_secret: s2, redirect_uris: [http://127.0.0.1/cb], token_exchange: true}]
    mcp_servers:
      - {id: notes, issuer: "http://127.0.0.1:9101", resources: ["http://127.0.0.1:9201/mcp"], scopes: [notes.read],
         clients: {0oa-desktop: okta-desktop}, access: [{users: [alice], scopes: [notes.read]}]}
`))
	for _, id := range srv.TenantIDs() {
		c := claims(srv.Tenant(id).IDJAG("alice", "notes"))
		iss := srv.TenantIssuer(id)
		fmt.Println(id, strings.TrimPrefix(iss, srv.URL()), c["iss"] == iss, c["client_id"], c["tenant"], c["email"], c["resource"])
	}
	// Output:
	// acme /t/acme true acme-desktop acme <nil> http://127.0.0.1:9201/mcp
	// okta /oauth2/default true okta-desktop <nil> alice@okta.example <nil>
}
