package interop_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/auth/extauth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"

	"github.com/xaa-idp/xaa-idp/fixtures"
	"github.com/xaa-idp/xaa-idp/idptest"
)

// handlerCase is one connection of the Go SDK's EnterpriseHandler to a
// demo MCP server, configured as a user of the SDK would configure it.
type handlerCase struct {
	user     string
	idp      *oauthex.ClientCredentials // at the IdP
	mcp      *oauthex.ClientCredentials // at the MCP authorization server
	server   idptest.DemoServer
	endpoint string   // the MCP URL the transport is given; "" means server.URL
	resource string   // MCPResourceURI; "" means server.URL
	scopes   []string // MCPScopes
}

// connectEnterprise logs c.user in through extauth.PerformOIDCLogin and
// connects to c's MCP server with extauth.EnterpriseHandler on the SDK's
// streamable transport (RFC 8693 token exchange at the IdP, RFC 7523 JWT
// bearer grant at the MCP authorization server). advance runs between the
// login and the connection.
func connectEnterprise(t *testing.T, issuer string, c handlerCase, advance func()) (*mcp.ClientSession, error) {
	t.Helper()
	if c.endpoint == "" {
		c.endpoint = c.server.URL
	}
	if c.resource == "" {
		c.resource = c.server.URL
	}
	httpClient := &http.Client{Timeout: 15 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := extauth.PerformOIDCLogin(ctx, &extauth.OIDCLoginConfig{
		IssuerURL: issuer, Credentials: c.idp, RedirectURL: redirectURL,
		Scopes: []string{"openid", "profile", "email"}, HTTPClient: httpClient,
	}, headlessFetcher(redirectURL, c.user, c.user))
	if err != nil {
		t.Fatalf("PerformOIDCLogin(%s as %s): %v", c.idp.ClientID, c.user, err)
	}
	if advance != nil {
		advance()
	}
	handler, err := extauth.NewEnterpriseHandler(&extauth.EnterpriseHandlerConfig{
		IdPIssuerURL: issuer, IdPCredentials: c.idp,
		MCPAuthServerURL: c.server.AuthServer, MCPResourceURI: c.resource, MCPCredentials: c.mcp, MCPScopes: c.scopes,
		IDTokenFetcher: func(context.Context) (*oauth2.Token, error) { return tok, nil },
		HTTPClient:     httpClient,
	})
	if err != nil {
		t.Fatal(err)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "xaa-idp-interop-go", Version: "0"}, nil)
	session, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: c.endpoint, OAuthHandler: handler, HTTPClient: httpClient}, nil)
	if err == nil {
		t.Cleanup(func() { _ = session.Close() })
	}
	return session, err
}

// goWhoami calls whoami and returns its structured content.
func goWhoami(t *testing.T, session *mcp.ClientSession) map[string]any {
	t.Helper()
	res, err := session.CallTool(context.Background(), &mcp.CallToolParams{Name: "whoami"})
	if err != nil || res.IsError {
		t.Fatalf("whoami: %v %+v", err, res)
	}
	who, _ := res.StructuredContent.(map[string]any)
	return who
}

// TestGoSDK_EnterpriseHandler runs the Go SDK's EnterpriseHandler against
// the demo configuration in the configurations a user of it tries: the
// MCP URL with a trailing "/" or a query, a public client, a Client ID
// Metadata Document client (a URL client_id, no secret, at the IdP and at
// the MCP authorization server), a step-up refusal and a denied user,
// whose errors must reach the caller of Connect with the IdP's error code
// and description.
func TestGoSDK_EnterpriseHandler(t *testing.T) {
	// The demo's metadata document client, on a free port.
	docLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cimdID := "http://" + docLn.Addr().String() + "/client-metadata.json"
	doc := fmt.Sprintf(`{"client_id":%q,"client_name":"xaa-idp interop (Go, metadata document)","redirect_uris":["http://127.0.0.1/callback"],"token_endpoint_auth_method":"none","grant_types":["authorization_code","urn:ietf:params:oauth:grant-type:token-exchange","urn:ietf:params:oauth:grant-type:jwt-bearer"]}`, cimdID)
	docSrv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/client-metadata.json" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, doc)
	})}
	go docSrv.Serve(docLn)
	t.Cleanup(func() { docSrv.Close() })

	config := strings.ReplaceAll(string(fixtures.Demo), "http://127.0.0.1:8390/client-metadata.json", cimdID)
	srv := idptest.New(t, idptest.WithConfigYAML(config))
	demo := srv.StartDemoServers()
	issuer := srv.Issuer()
	secret := func(id string) *oauthex.ClientCredentials {
		return &oauthex.ClientCredentials{ClientID: id, ClientSecretAuth: &oauthex.ClientSecretAuth{ClientSecret: "mcp-secret"}}
	}
	public := func(id string) *oauthex.ClientCredentials { return &oauthex.ClientCredentials{ClientID: id} }

	for _, tt := range []struct {
		name   string
		c      handlerCase
		client string // whoami's client_id
	}{
		{"MCP URL as configured", handlerCase{user: "alice", idp: secret("mcp-client"), mcp: secret("mcp-client-at-tracker"), server: demo["tracker"]}, "mcp-client-at-tracker"},
		{"MCP URL and resource with a trailing slash", handlerCase{user: "alice", idp: secret("mcp-client"), mcp: secret("mcp-client-at-tracker"), server: demo["tracker"],
			endpoint: demo["tracker"].URL + "/", resource: demo["tracker"].URL + "/"}, "mcp-client-at-tracker"},
		{"MCP URL with a trailing slash, resource as configured", handlerCase{user: "alice", idp: secret("mcp-client"), mcp: secret("mcp-client-at-tracker"), server: demo["tracker"],
			endpoint: demo["tracker"].URL + "/"}, "mcp-client-at-tracker"},
		{"MCP URL with a query", handlerCase{user: "alice", idp: secret("mcp-client"), mcp: secret("mcp-client-at-tracker"), server: demo["tracker"],
			endpoint: demo["tracker"].URL + "?workspace=acme"}, "mcp-client-at-tracker"},
		{"authorization server issuer with a trailing slash", handlerCase{user: "alice", idp: secret("mcp-client"), mcp: secret("mcp-client-at-tracker"),
			server: idptest.DemoServer{AuthServer: demo["tracker"].AuthServer + "/", URL: demo["tracker"].URL}}, "mcp-client-at-tracker"},
		{"public client", handlerCase{user: "alice", idp: public("mcp-public"), mcp: public("mcp-public-at-tracker"), server: demo["tracker"]}, "mcp-public-at-tracker"},
		{"metadata document client", handlerCase{user: "alice", idp: public(cimdID), mcp: public(cimdID), server: demo["tracker"]}, cimdID},
	} {
		t.Run(tt.name, func(t *testing.T) {
			session, err := connectEnterprise(t, issuer, tt.c, nil)
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			who := goWhoami(t, session)
			if who["sub"] != "00u-alice" || who["client_id"] != tt.client || who["resource"] != demo["tracker"].URL {
				t.Errorf("whoami = %v, want sub 00u-alice, client_id %s, resource %s", who, tt.client, demo["tracker"].URL)
			}
		})
	}

	// MCPScopes: the handler asks the IdP for them in the token exchange
	// (and sends no scope in the JWT bearer grant): the access token has
	// those of them the policy grants the user.
	for _, tt := range []struct {
		name   string
		user   string
		scopes []string
		want   string // whoami's scopes, sorted
	}{
		{"MCPScopes: one scope of the server", "alice", []string{"issues.read"}, "[issues.read]"},
		{"MCPScopes: both scopes of the server", "alice", []string{"issues.write", "issues.read"}, "[issues.read issues.write]"},
		{"MCPScopes: more than the user is granted", "dave", []string{"issues.read", "issues.write"}, "[issues.read]"},
		{"MCPScopes: a scope of another server too", "alice", []string{"issues.read", "wiki.read"}, "[issues.read]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			session, err := connectEnterprise(t, issuer, handlerCase{user: tt.user, idp: secret("mcp-client"), mcp: secret("mcp-client-at-tracker"),
				server: demo["tracker"], scopes: tt.scopes}, nil)
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			who := goWhoami(t, session)
			var got []string
			for _, s := range who["scopes"].([]any) {
				got = append(got, fmt.Sprint(s))
			}
			slices.Sort(got)
			if fmt.Sprint(got) != tt.want {
				t.Errorf("whoami scopes = %v, want %s (whoami %v)", got, tt.want, who)
			}
		})
	}

	// The refusals reach the caller of Connect, with the IdP's error code
	// and the description that says what to do.
	for _, tt := range []struct {
		name    string
		c       handlerCase
		advance time.Duration // the clock moves this far after the login
		want    []string
	}{
		{"step-up: the login is older than max_auth_age", handlerCase{user: "alice", idp: secret("mcp-client"), mcp: secret("mcp-client-at-crm"), server: demo["crm"]},
			16 * time.Minute, []string{"insufficient_user_authentication", "log in again"}},
		{"denied user", handlerCase{user: "mallory", idp: secret("mcp-client"), mcp: secret("mcp-client-at-crm"), server: demo["crm"]},
			0, []string{"access_denied", `user 'mallory' may not use MCP server 'CRM'`}},
		{"user without access", handlerCase{user: "bob", idp: secret("mcp-client"), mcp: secret("mcp-client-at-tracker"), server: demo["tracker"]},
			0, []string{"access_denied", `user 'bob' is not assigned`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := connectEnterprise(t, issuer, tt.c, func() { srv.Clock().Advance(tt.advance) })
			if err == nil {
				t.Fatal("Connect succeeded; want the IdP's refusal")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Connect error %q lacks %s", err, want)
				}
			}
			t.Logf("SDK error: %v", err)
		})
	}

	// After the step-up refusal, a fresh login is enough.
	t.Run("step-up: a fresh login connects", func(t *testing.T) {
		session, err := connectEnterprise(t, issuer, handlerCase{user: "alice", idp: secret("mcp-client"), mcp: secret("mcp-client-at-crm"), server: demo["crm"]}, nil)
		if err != nil {
			t.Fatalf("Connect after a fresh login: %v", err)
		}
		if who := goWhoami(t, session); fmt.Sprint(who["scopes"]) != "[crm.read]" {
			t.Errorf("whoami = %v, want scopes [crm.read]", who)
		}
	})
}

// TestGoSDK_OIDCLogin_LoginHint: OIDCLoginConfig.LoginHint reaches the
// IdP's authorization request as login_hint, which prefills the login
// form's username as sent (docs/http.md); the user then types only the
// password. A hint that is the user's email, which the SDK's example
// sends, signs the user in too: the form takes a user's email.
func TestGoSDK_OIDCLogin_LoginHint(t *testing.T) {
	srv := idptest.New(t)
	for _, hint := range []string{"carol", "Carol@acme.example"} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		creds := &oauthex.ClientCredentials{ClientID: "mcp-client", ClientSecretAuth: &oauthex.ClientSecretAuth{ClientSecret: "mcp-secret"}}
		tok, err := extauth.PerformOIDCLogin(ctx, &extauth.OIDCLoginConfig{
			IssuerURL: srv.Issuer(), Credentials: creds, RedirectURL: redirectURL,
			Scopes: []string{"openid"}, LoginHint: hint,
		}, func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, args.URL, nil)
			if err != nil {
				return nil, err
			}
			page, pageURL, err := fetchPage(&http.Client{Timeout: 15 * time.Second}, req)
			if err != nil {
				return nil, err
			}
			_, fields, err := parseLoginForm(page)
			if err != nil {
				return nil, fmt.Errorf("login page %s: %w", pageURL, err)
			}
			if got := fields.Get("username"); got != hint {
				return nil, fmt.Errorf("the login form's username is %q, want %q, the SDK's LoginHint (authorization URL %s)", got, hint, args.URL)
			}
			return headlessFetcher(redirectURL, fields.Get("username"), "carol")(ctx, args)
		})
		if err != nil {
			t.Fatalf("PerformOIDCLogin with LoginHint %q: %v", hint, err)
		}
		idToken, _ := tok.Extra("id_token").(string)
		_, claims := verifyJWT(t, idToken, fetchJWKS(t, discover(t, srv.Issuer()).JWKSURI))
		if sub := claims["sub"]; sub != "00u-carol" {
			t.Errorf("LoginHint %q: ID token sub = %v, want 00u-carol", hint, sub)
		}
	}
}
