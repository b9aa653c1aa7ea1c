package idptest_test

// For each kind of fault, the official Go MCP SDK client meets it and fails
// the way a client developer wants to see it fail: the OAuth error code and
// description in the error, a 5xx named as such, a timeout for a client
// that does not wait, and each broken ID-JAG refused by the MCP server's
// authorization server with invalid_grant naming the check that failed.

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth/extauth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/idptest"
	"github.com/xaa-idp/xaa-idp/policy"
)

// startDemo runs the demo company with its MCP servers and returns the
// tracker.
func startDemo(t *testing.T) (*idptest.Server, idptest.DemoServer) {
	t.Helper()
	srv := idptest.New(t)
	return srv, srv.StartDemoServers()["tracker"]
}

// connect is an MCP client built on the SDK's EnterpriseHandler: it
// connects to the tracker as user (logged in beforehand, through
// mcp-client) and calls whoami. It returns the error the SDK returns.
func connect(t *testing.T, srv *idptest.Server, tracker idptest.DemoServer, user string, hc *http.Client) error {
	t.Helper()
	tok := srv.Login(user)
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	handler, err := extauth.NewEnterpriseHandler(&extauth.EnterpriseHandlerConfig{
		IdPIssuerURL:     srv.Issuer(),
		IdPCredentials:   &oauthex.ClientCredentials{ClientID: "mcp-client", ClientSecretAuth: &oauthex.ClientSecretAuth{ClientSecret: "mcp-secret"}},
		MCPAuthServerURL: tracker.AuthServer,
		MCPResourceURI:   tracker.URL,
		MCPCredentials:   &oauthex.ClientCredentials{ClientID: "mcp-client-at-tracker", ClientSecretAuth: &oauthex.ClientSecretAuth{ClientSecret: "mcp-secret"}},
		MCPScopes:        []string{"issues.read"},
		IDTokenFetcher: func(context.Context) (*oauth2.Token, error) {
			return (&oauth2.Token{AccessToken: tok.AccessToken}).WithExtra(map[string]any{"id_token": tok.IDToken}), nil
		},
		HTTPClient: hc,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "fault-test", Version: "0"}, nil)
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: tracker.URL, OAuthHandler: handler}, nil)
	if err != nil {
		return err
	}
	defer session.Close()
	_, err = session.CallTool(ctx, &mcp.CallToolParams{Name: "whoami"})
	return err
}

// oauthError digs the token endpoint's answer out of an SDK error.
func oauthError(t *testing.T, err error) *oauth2.RetrieveError {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("error %v (%T) carries no *oauth2.RetrieveError", err, err)
	}
	return re
}

// injected returns the newest injected event of the type.
func injected(t *testing.T, srv *idptest.Server, typ string) audit.Event {
	t.Helper()
	for _, ev := range srv.Audit(audit.Filter{Type: typ}) {
		if ev.Injected {
			return ev
		}
	}
	t.Fatalf("no injected %s event in the audit log", typ)
	return audit.Event{}
}

// injectedFault returns the first fault the event lists under
// details.faults, as a generic document.
func injectedFault(t *testing.T, ev audit.Event) map[string]any {
	t.Helper()
	list, _ := ev.Details["faults"].([]any)
	if len(list) == 0 {
		t.Fatalf("injected event without details.faults: %+v", ev)
	}
	f, _ := list[0].(map[string]any)
	return f
}

func TestFault_ErrorReachesTheSDKWithCodeAndDescription(t *testing.T) {
	srv, tracker := startDemo(t)
	const desc = "the directory is being upgraded; retry in a minute"
	id := srv.InjectFault(policy.Fault{
		Match: policy.FaultMatch{Client: "mcp-client", User: "alice", Server: "tracker", GrantType: policy.FaultGrantTokenExchange},
		Error: policy.FaultError{Code: "temporarily_unavailable", Status: http.StatusServiceUnavailable, Description: desc},
	})

	err := connect(t, srv, tracker, "alice", nil)
	if err == nil {
		t.Fatal("alice connected through a temporarily_unavailable token exchange")
	}
	re := oauthError(t, err)
	if re.ErrorCode != "temporarily_unavailable" || re.ErrorDescription != desc || re.Response.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("SDK saw %d %q %q, want 503 temporarily_unavailable %q", re.Response.StatusCode, re.ErrorCode, re.ErrorDescription, desc)
	}
	if msg := err.Error(); !strings.Contains(msg, "token exchange failed") || !strings.Contains(msg, "temporarily_unavailable") || !strings.Contains(msg, desc) {
		t.Errorf("the error does not say what happened: %v", err)
	}

	// The fault matches alice only: carol, also in engineering, connects.
	if err := connect(t, srv, tracker, "carol", nil); err != nil {
		t.Errorf("carol, whom the fault does not match: %v", err)
	}

	ev := injected(t, srv, audit.TypeTokenExchange)
	if ev.Outcome != audit.Error || ev.Error != "temporarily_unavailable" || ev.User != "alice" || ev.Server != "tracker" || ev.ClientID != "mcp-client" {
		t.Errorf("audit event %+v", ev)
	}
	f := injectedFault(t, ev)
	if f["id"] != id || f["error"].(map[string]any)["code"] != "temporarily_unavailable" {
		t.Errorf("audit details.faults[0] = %v, want fault %s with its error", f, id)
	}
}

func TestFault_BareHTTPStatusIsReportedAsSuch(t *testing.T) {
	srv, tracker := startDemo(t)
	srv.InjectFault(policy.Fault{Match: policy.FaultMatch{GrantType: policy.FaultGrantTokenExchange}, HTTPStatus: http.StatusBadGateway})

	err := connect(t, srv, tracker, "alice", nil)
	if err == nil {
		t.Fatal("connected through a 502")
	}
	re := oauthError(t, err)
	if re.Response.StatusCode != http.StatusBadGateway || re.ErrorCode != "" {
		t.Errorf("SDK saw %d with error code %q, want a bare 502", re.Response.StatusCode, re.ErrorCode)
	}
	if !strings.Contains(err.Error(), "502 Bad Gateway") {
		t.Errorf("the error does not name the 502: %v", err)
	}
	ev := injected(t, srv, audit.TypeTokenExchange)
	if ev.Outcome != audit.Error || ev.Error != "" || !strings.Contains(ev.Reason, "bare HTTP 502") {
		t.Errorf("audit event %+v", ev)
	}
	if got := injectedFault(t, ev)["http_status"]; got != float64(502) {
		t.Errorf("details.faults[0].http_status = %v", got)
	}
}

func TestFault_DelayTimesOutAClientThatDoesNotWait(t *testing.T) {
	srv, tracker := startDemo(t)
	const delay = 300 * time.Millisecond
	srv.InjectFault(policy.Fault{Match: policy.FaultMatch{Server: "tracker"}, Delay: policy.Duration(delay)})

	err := connect(t, srv, tracker, "alice", &http.Client{Timeout: 100 * time.Millisecond})
	var ne net.Error
	if err == nil || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("a client with a 100ms timeout: err = %v, want a timeout", err)
	}
	if !strings.Contains(err.Error(), "token exchange failed") {
		t.Errorf("the timeout is not placed at the token exchange: %v", err)
	}

	// A patient client gets through, the delay later.
	start := time.Now()
	if err := connect(t, srv, tracker, "alice", &http.Client{Timeout: 5 * time.Second}); err != nil {
		t.Fatalf("a client with a 5s timeout: %v", err)
	}
	if took := time.Since(start); took < delay {
		t.Errorf("the connection took %v, less than the %v delay", took, delay)
	}
	ev := injected(t, srv, audit.TypeTokenExchange)
	if ev.Outcome != audit.Allowed || injectedFault(t, ev)["delay"] != "300ms" {
		t.Errorf("audit event %+v, want an allowed exchange marked with the 300ms delay", ev)
	}
}

func TestFault_BrokenIDJAGIsRefusedByTheAuthorizationServer(t *testing.T) {
	srv, tracker := startDemo(t)
	cases := []struct {
		kind  string
		check string // what the authorization server's error_description names
		code  string // its error; "" for invalid_grant
	}{
		{policy.FaultWrongTyp, `typ 'JWT' is not 'oauth-id-jag+jwt'`, ""},
		{policy.FaultWrongAud, `aud '` + tracker.URL + `' is not this authorization server`, ""},
		{policy.FaultExpired, "ID-JAG expired at", ""},
		{policy.FaultNotYetValid, "ID-JAG is not valid before", ""},
		{policy.FaultBadSignature, "signature does not verify", ""},
		{policy.FaultUnknownKID, `kid 'xaa-idp-fault-unknown-kid' is not in the IdP JWKS`, ""},
		{policy.FaultMissingClientID, "ID-JAG has no client_id", ""},
		{policy.FaultAlgNone, `ID-JAG alg 'none' is not allowed`, ""},
		{policy.FaultUnmappedClient, `client_id 'mcp-client' is not the authenticated client 'mcp-client-at-tracker'`, ""},
		// RFC 8707 §2: a resource the server does not serve is invalid_target.
		{policy.FaultWrongResource, `resource 'https://wrong-resource.invalid/mcp' is not a resource of this authorization server`, "invalid_target"},
		{policy.FaultWrongIss, `untrusted issuer 'https://wrong-issuer.invalid'`, ""},
		{policy.FaultMultipleAud, "ID-JAG aud has 2 values", ""},
		{policy.FaultWrongCnf, `the ID-JAG is DPoP-bound (cnf.jkt 'rkRxKMqdsMzIp7xCyOgWgHCCxI1YsZTMUYI9675C_SQ'); send a DPoP proof with that key`, ""},
		{policy.FaultMissingSub, "ID-JAG has no sub", ""},
		{policy.FaultMissingJTI, "ID-JAG has no jti", ""},
		// A scope the server does not define: a strict server refuses it
		// (invalid_scope, RFC 6749 §5.2), however the client asks.
		{policy.FaultUnknownScope, `ID-JAG scope 'xaa-idp-fault-unknown-scope' is not a scope of this authorization server`, "invalid_scope"},
	}
	for _, c := range cases {
		t.Run(c.kind, func(t *testing.T) {
			id := srv.InjectFault(policy.Fault{Match: policy.FaultMatch{Server: "tracker"}, IDJAG: c.kind})
			defer srv.RemoveFault(id)
			err := connect(t, srv, tracker, "alice", nil)
			if err == nil {
				t.Fatalf("connected with a %s ID-JAG", c.kind)
			}
			re := oauthError(t, err)
			code := c.code
			if code == "" {
				code = "invalid_grant"
			}
			if re.ErrorCode != code || !strings.Contains(re.ErrorDescription, c.check) {
				t.Errorf("authorization server answered %q %q; want %s naming %q", re.ErrorCode, re.ErrorDescription, code, c.check)
			}
			if !strings.Contains(err.Error(), "JWT bearer grant failed") {
				t.Errorf("the SDK does not place the failure at the JWT bearer grant: %v", err)
			}
			ev := injected(t, srv, audit.TypeTokenExchange)
			// The event records the ID-JAG as issued: no jti under missing_jti.
			if ev.Outcome != audit.Allowed || (ev.JTI == "") != (c.kind == "missing_jti") || injectedFault(t, ev)["id_jag"] != c.kind {
				t.Errorf("audit event %+v, want the allowed exchange marked with id_jag %s", ev, c.kind)
			}
			if !strings.Contains(ev.Reason, "a broken ID-JAG ("+c.kind+")") {
				t.Errorf("audit reason %q does not say what was injected", ev.Reason)
			}
		})
	}
	// Without the faults, the next connection is served a sound ID-JAG.
	if err := connect(t, srv, tracker, "alice", nil); err != nil {
		t.Errorf("after the faults: %v", err)
	}
}

// exchange asks for an ID-JAG for the tracker with the SDK's
// oauthex.ExchangeToken, as user through the client.
func exchange(t *testing.T, srv *idptest.Server, creds *oauthex.ClientCredentials, user string) error {
	t.Helper()
	tok := srv.LoginVia(creds.ClientID, user)
	tracker := srv.Config().Server("tracker")
	_, err := oauthex.ExchangeToken(context.Background(), srv.Issuer()+"/oauth/token", &oauthex.TokenExchangeRequest{
		RequestedTokenType: oauthex.TokenTypeIDJAG,
		Audience:           tracker.Issuer,
		Resource:           tracker.Resources[0],
		SubjectToken:       tok.IDToken,
		SubjectTokenType:   oauthex.TokenTypeIDToken,
	}, creds, http.DefaultClient)
	return err
}

var (
	confidential = &oauthex.ClientCredentials{ClientID: "mcp-client", ClientSecretAuth: &oauthex.ClientSecretAuth{ClientSecret: "mcp-secret"}}
	public       = &oauthex.ClientCredentials{ClientID: "mcp-public"}
)

func TestFault_TimesFiresThatOftenThenStops(t *testing.T) {
	srv := idptest.New(t)
	id := srv.InjectFault(policy.Fault{
		Match: policy.FaultMatch{Server: "tracker"},
		Error: policy.FaultError{Code: "server_error"},
		Times: 1,
	})
	err := exchange(t, srv, confidential, "alice")
	if err == nil {
		t.Fatal("the first exchange got through")
	}
	if re := oauthError(t, err); re.ErrorCode != "server_error" || re.Response.StatusCode != http.StatusInternalServerError || !strings.Contains(re.ErrorDescription, id) {
		t.Errorf("SDK saw %d %q %q; want 500 server_error with a description naming fault %s", re.Response.StatusCode, re.ErrorCode, re.ErrorDescription, id)
	}
	if err := exchange(t, srv, confidential, "alice"); err != nil {
		t.Errorf("the second exchange: %v", err)
	}
	fs := srv.Faults()
	if len(fs) != 1 || fs[0].Fired != 1 || fs[0].Remaining == nil || *fs[0].Remaining != 0 {
		t.Errorf("faults after two exchanges: %+v", fs)
	}
}

// The SDK's Connect (v1.8.0) authorizes twice when the first attempt
// fails: once for server/discover, again for the initialize it falls back
// to. A failure that happens once is absorbed; the audit log shows it.
func TestFault_OnceIsAbsorbedBySDKConnectFallback(t *testing.T) {
	srv, tracker := startDemo(t)
	srv.InjectFault(policy.Fault{
		Match: policy.FaultMatch{Server: "tracker"},
		Error: policy.FaultError{Code: "temporarily_unavailable"},
		Times: 1,
	})
	if err := connect(t, srv, tracker, "alice", nil); err != nil {
		t.Fatalf("connect: %v", err)
	}
	events := srv.Audit(audit.Filter{Type: audit.TypeTokenExchange})
	if len(events) != 2 || !events[1].Injected || events[1].Error != "temporarily_unavailable" || events[0].Injected || events[0].Outcome != audit.Allowed {
		t.Errorf("token exchanges, newest first: %+v", events)
	}
}

// Faults for the token exchange alone, as the SDK's oauthex.ExchangeToken
// meets them: a fault naming a client leaves the other clients alone.
func TestFault_ExchangeTokenMeetsAFaultForItsClientOnly(t *testing.T) {
	srv := idptest.New(t)
	srv.InjectFault(policy.Fault{
		Match: policy.FaultMatch{Client: "mcp-public", GrantType: policy.FaultGrantTokenExchange},
		Error: policy.FaultError{Code: "unauthorized_client", Description: "token exchange is switched off for the CLI"},
	})
	if err := exchange(t, srv, confidential, "alice"); err != nil {
		t.Errorf("mcp-client: %v", err)
	}
	err := exchange(t, srv, public, "alice")
	if err == nil {
		t.Fatal("mcp-public got an ID-JAG")
	}
	if re := oauthError(t, err); re.ErrorCode != "unauthorized_client" || re.ErrorDescription != "token exchange is switched off for the CLI" || re.Response.StatusCode != http.StatusBadRequest {
		t.Errorf("SDK saw %d %q %q", re.Response.StatusCode, re.ErrorCode, re.ErrorDescription)
	}
}

// The code and refresh grants meet faults too: a login fails, a refresh
// fails, each with the fault's error, and each is audited as injected.
func TestFault_CodeAndRefreshGrants(t *testing.T) {
	srv := idptest.New(t)
	tok := srv.Login("alice") // before the faults

	srv.InjectFault(policy.Fault{
		Match: policy.FaultMatch{User: "alice", GrantType: policy.FaultGrantAuthorizationCode},
		Error: policy.FaultError{Code: "server_error", Description: "the session store is down"},
		Times: 1,
	})
	_, err := srv.TryLogin("mcp-client", "alice")
	var refusal *idpclient.Error
	if !errors.As(err, &refusal) || refusal.Code != "server_error" || refusal.Status != http.StatusInternalServerError || refusal.Description != "the session store is down" {
		t.Errorf("login: err = %v, want 500 server_error", err)
	}
	if _, err := srv.TryLogin("mcp-client", "alice"); err != nil {
		t.Errorf("the second login: %v", err)
	}
	if ev := injected(t, srv, audit.TypeToken); ev.GrantType != "authorization_code" || ev.User != "alice" || ev.Error != "server_error" {
		t.Errorf("audit event %+v", ev)
	}

	srv.InjectFault(policy.Fault{
		Match: policy.FaultMatch{Client: "mcp-client", GrantType: policy.FaultGrantRefreshToken},
		Error: policy.FaultError{Code: "invalid_grant", Description: "refresh tokens were revoked by an administrator"},
		Times: 1,
	})
	conf := &oauth2.Config{
		ClientID: "mcp-client", ClientSecret: "mcp-secret",
		Endpoint: oauth2.Endpoint{TokenURL: srv.Issuer() + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader},
	}
	refresh := func() error {
		_, err := conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		return err
	}
	if re := oauthError(t, refresh()); re.ErrorCode != "invalid_grant" || re.ErrorDescription != "refresh tokens were revoked by an administrator" {
		t.Errorf("refresh: %d %q %q", re.Response.StatusCode, re.ErrorCode, re.ErrorDescription)
	}
	if err := refresh(); err != nil {
		t.Errorf("the second refresh (the refresh token was not used by the first): %v", err)
	}
	if ev := injected(t, srv, audit.TypeToken); ev.GrantType != "refresh_token" || ev.User != "alice" || ev.ClientID != "mcp-client" {
		t.Errorf("audit event %+v", ev)
	}
}

// Faults from the configuration's faults: section fire like runtime ones,
// and keep their counts across a configuration change that leaves them
// alone.
func TestFault_FromTheConfiguration(t *testing.T) {
	const cfg = `
users: [{username: ann, password: pw}]
clients: [{client_id: app, client_secret: s, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}]
mcp_servers:
  - id: files
    issuer: https://as.files.example
    resources: [https://mcp.files.example/mcp]
    clients: {app: app-at-files}
    access: [{users: [ann]}]
faults:
  - id: flaky
    match: {server: files, grant_type: token-exchange}
    error: {code: temporarily_unavailable, description: flaky}
    times: 2
`
	srv := idptest.New(t, idptest.WithConfigYAML(cfg))
	if _, err := srv.TryIDJAG("ann", "files"); err == nil || !strings.Contains(err.Error(), "flaky") {
		t.Fatalf("first exchange: %v", err)
	}
	srv.SetConfig(cfg) // the same faults: the count goes on
	if _, err := srv.TryIDJAG("ann", "files"); err == nil {
		t.Fatal("second exchange got through; the configuration change reset the fault's count")
	}
	if _, err := srv.TryIDJAG("ann", "files"); err != nil {
		t.Fatalf("third exchange: %v", err)
	}
	fs := srv.Faults()
	if len(fs) != 1 || fs[0].ID != "flaky" || fs[0].Source != "config" || fs[0].Fired != 2 {
		t.Errorf("faults: %+v", fs)
	}
	srv.SetConfig(strings.Replace(cfg, "times: 2", "times: 1", 1)) // changed: loaded afresh
	if _, err := srv.TryIDJAG("ann", "files"); err == nil {
		t.Fatal("the changed fault did not fire")
	}
}
