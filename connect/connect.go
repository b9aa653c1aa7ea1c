// Package connect is the zero-touch client: it logs a user in once at the
// IdP, then connects to every MCP server the user is assigned to through
// the real Enterprise-Managed Authorization flow (401, protected-resource
// metadata, authorization-server metadata, token exchange at the IdP, JWT
// bearer grant, MCP initialize, whoami), with the official Go SDK's
// extauth handler doing the token work.
package connect

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth/extauth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"

	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/resource/mcpserver"
)

// Options describe one zero-touch connection run.
type Options struct {
	Issuer       string
	ClientID     string
	ClientSecret string // the client's secret at the IdP; the demo registers it at the MCP authorization servers too
	Username     string
	Password     string
	// RedirectURI is a redirect URI registered for the client, where the
	// browserless login catches the code. "": http://127.0.0.1/callback.
	RedirectURI string
	// MCPServers are MCP endpoint URLs. Empty: the servers the user is
	// assigned to, from the IdP's assigned-servers endpoint.
	MCPServers []string
	// All tries every MCP server the client is connected to, assigned or
	// not, so that refusals show too. Ignored when MCPServers is set.
	All        bool
	HTTPClient *http.Client
	// Timeout bounds the login, and each MCP server's connection and
	// first whoami, so that a server that never answers is an error
	// rather than a hang. 0: DefaultTimeout.
	Timeout time.Duration
	// Trace, when set, sees each step of each flow as it happens.
	Trace func(Step)
}

// DefaultTimeout is Options.Timeout's default.
const DefaultTimeout = 30 * time.Second

func (o Options) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return DefaultTimeout
}

// Step is one request of the flow, for a step-by-step view.
type Step struct {
	MCPServer string // the MCP endpoint this step belongs to; "" for the login
	Name      string // e.g. "login", "token exchange"
	Method    string
	URL       string
	Status    int
	Detail    string // what came back, tokens shown only by their decoded claims
}

// Result is the outcome for one MCP server.
type Result struct {
	MCPServer string         // MCP endpoint URL
	Name      string         // the server's name, when the IdP knows it
	Assigned  bool           // the IdP lists the user as assigned to it
	Connected bool           // initialize and whoami succeeded (or the server has no whoami tool)
	Scopes    []string       // scopes granted: whoami's "scopes", else the access token answer's "scope"
	WhoAmI    map[string]any // nil when the server has no whoami tool (only the demo's have one)
	Err       error          // why it was refused

	// atExchange is set when Err is the IdP's answer to the token
	// exchange (the SDK's "token exchange failed"), not the MCP server's
	// or its authorization server's: only then may the login be at fault.
	atExchange bool
	// denied is set when that answer is access_denied: the IdP's policy
	// refuses the user (not assigned, a deny entry, access expired),
	// which only an administrator changes.
	denied bool
}

// setErr records err, of the MCP session, as res's refusal.
func setErr(res *Result, err error) {
	res.Err, res.atExchange = cleanError(err), atExchange(err)
	var re *oauth2.RetrieveError
	res.denied = res.atExchange && errors.As(err, &re) && re.ErrorCode == "access_denied"
}

// Run logs the user in, then connects to each MCP server in turn. Its error
// is for what stops everything (the login); a refused server is a Result.
func Run(ctx context.Context, o Options) ([]Result, error) {
	hc, targets, login, known, err := start(ctx, o)
	if err != nil {
		return nil, err
	}
	var results []Result
	for _, target := range targets {
		results = append(results, connectOne(ctx, o, traced(hc, o.Trace, target, o.Issuer), login, target, known))
	}
	return results, nil
}

func connectOne(ctx context.Context, o Options, hc *http.Client, login *loginSession, target string, known []idpclient.AssignedServer) Result {
	res, session, _ := openSession(ctx, o, hc, login, target, known)
	if session != nil {
		session.Close()
	}
	return res
}

// openSession connects to one MCP server and calls whoami; the session is
// open (the caller's to close) when the Result is Connected, else nil,
// and the handler holds its access token.
func openSession(ctx context.Context, o Options, hc *http.Client, login *loginSession, target string, known []idpclient.AssignedServer) (res Result, _ *mcp.ClientSession, _ *extauth.EnterpriseHandler) {
	res = Result{MCPServer: target}
	// The session outlives ctx: the SDK detaches it from Connect's.
	ctx, cancel := context.WithTimeout(ctx, o.timeout())
	defer cancel()
	// The client_id at the MCP authorization server comes from the IdP's
	// client mapping; for a server the IdP does not list, the IdP's own
	// client_id is the best guess (and the exchange will say no anyway).
	atServer := o.ClientID
	for _, s := range known {
		if s.Resource == target {
			res.Name, res.Assigned, atServer = s.Name, s.Assigned, s.ClientID
		}
	}
	prm, err := discoverResource(ctx, hc, target)
	if err != nil {
		res.Err = err
		return res, nil, nil
	}
	if len(prm.AuthorizationServers) == 0 {
		res.Err = fmt.Errorf("%s names no authorization server in its protected-resource metadata", target)
		return res, nil, nil
	}
	idpCreds := &oauthex.ClientCredentials{ClientID: o.ClientID}
	mcpCreds := &oauthex.ClientCredentials{ClientID: atServer}
	if o.ClientSecret != "" {
		idpCreds.ClientSecretAuth = &oauthex.ClientSecretAuth{ClientSecret: o.ClientSecret}
		mcpCreds.ClientSecretAuth = &oauthex.ClientSecretAuth{ClientSecret: o.ClientSecret}
	}
	handler, err := extauth.NewEnterpriseHandler(&extauth.EnterpriseHandlerConfig{
		IdPIssuerURL:     o.Issuer,
		IdPCredentials:   idpCreds,
		MCPAuthServerURL: prm.AuthorizationServers[0],
		MCPResourceURI:   prm.Resource,
		MCPCredentials:   mcpCreds,
		IDTokenFetcher:   login.idToken,
		HTTPClient:       hc,
	})
	if err != nil {
		res.Err = err
		return res, nil, nil
	}
	// The capabilities declare the extension this client speaks (the
	// demo MCP servers declare it too), and nothing else: connect serves
	// no roots, which the SDK's default capabilities claim.
	caps := &mcp.ClientCapabilities{}
	caps.AddExtension(mcpserver.ExtensionEMA, nil)
	client := mcp.NewClient(&mcp.Implementation{Name: "xaa-idp-connect", Version: "1"}, &mcp.ClientOptions{Capabilities: caps})
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: target, HTTPClient: hc, OAuthHandler: handler}, nil)
	if err != nil {
		setErr(&res, err)
		return res, nil, nil
	}
	whoami(ctx, session, handler, &res)
	if !res.Connected {
		session.Close()
		return res, nil, nil
	}
	return res, session, handler
}

// whoami calls the whoami tool on an open session and records the answer
// in res: Connected with the caller's identity and scopes, or Err. whoami
// is the demo MCP servers' tool, not MCP's: a server that has none (one
// of a team's own) answered the session's requests with the access token,
// so it is connected all the same, who the user is there unknown (until
// 2026-12-06 it was refused, "unknown tool"). The scopes are whoami's, or
// else those the authorization server granted the access token.
func whoami(ctx context.Context, session *mcp.ClientSession, handler *extauth.EnterpriseHandler, res *Result) {
	res.Connected, res.WhoAmI, res.Scopes, res.Err, res.atExchange, res.denied = false, nil, nil, nil, false, false
	out, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "whoami"})
	if err != nil {
		if !lacksTool(ctx, session, "whoami") {
			setErr(res, err)
			return
		}
		res.Connected = true
		res.Scopes = grantedScopes(handler)
		return
	}
	if out.IsError {
		res.Err = fmt.Errorf("whoami failed: %s", toolText(out))
		return
	}
	res.Connected = true
	if m, ok := out.StructuredContent.(map[string]any); ok {
		res.WhoAmI = m
	} else {
		_ = json.Unmarshal([]byte(toolText(out)), &res.WhoAmI)
	}
	if sc, ok := res.WhoAmI["scopes"].([]any); ok {
		for _, s := range sc {
			res.Scopes = append(res.Scopes, fmt.Sprint(s))
		}
	} else {
		res.Scopes = grantedScopes(handler)
	}
}

// atExchange reports whether err, from the SDK's session, failed at the
// token exchange with the IdP (extauth.EnterpriseHandler's step 3).
func atExchange(err error) bool {
	return strings.Contains(err.Error(), "token exchange failed")
}

// maxToolsListed bounds the tools lacksTool reads: a server could page
// its list without end.
const maxToolsListed = 10000

// lacksTool reports whether the server's tool list, read to its end,
// has no tool of that name. A list it cannot read (the session refused,
// the server gone) or does not end says nothing: false.
func lacksTool(ctx context.Context, session *mcp.ClientSession, name string) bool {
	n := 0
	for tool, err := range session.Tools(ctx, nil) {
		if err != nil || tool.Name == name || n == maxToolsListed {
			return false
		}
		n++
	}
	return true
}

// grantedScopes are the scopes of the access token the handler holds, as
// the authorization server's answer gave them (its "scope"); nil when it
// gave none.
func grantedScopes(handler *extauth.EnterpriseHandler) []string {
	if handler == nil {
		return nil
	}
	ts, err := handler.TokenSource(context.Background())
	if err != nil || ts == nil {
		return nil
	}
	tok, err := ts.Token()
	if err != nil {
		return nil
	}
	scope, _ := tok.Extra("scope").(string)
	return strings.Fields(scope)
}

// discoverResource does what an MCP client does first: call the server
// unauthenticated, read resource_metadata from the 401 challenge (RFC 9728
// section 5.1), and fetch the protected-resource metadata.
func discoverResource(ctx context.Context, hc *http.Client, target string) (*oauthex.ProtectedResourceMetadata, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(`{"jsonrpc":"2.0","id":0,"method":"ping"}`))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := hc.Do(req)
	if err != nil {
		// Most often the MCP servers are not started: serve runs the IdP
		// alone. Go's text, `Post "...": dial tcp ...: connect:
		// connection refused`, says neither.
		var op *net.OpError
		if errors.Is(err, syscall.ECONNREFUSED) && errors.As(err, &op) && op.Addr != nil {
			return nil, fmt.Errorf("MCP server unreachable: nothing answers at %s (connection refused): start it (xaa-idp demo serves the configuration's MCP servers; serve runs the IdP alone), or check the URL", op.Addr)
		}
		return nil, fmt.Errorf("MCP server unreachable: %w", err)
	}
	// Only the status and the challenge count; a little of the body is
	// read so that the connection can be reused, not an endless one.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		return nil, fmt.Errorf("%s answered %s without a token; an EMA-protected MCP server answers 401", target, resp.Status)
	}
	challenges, err := oauthex.ParseWWWAuthenticate(resp.Header.Values("WWW-Authenticate"))
	if err != nil {
		return nil, fmt.Errorf("%s: malformed WWW-Authenticate: %w", target, err)
	}
	metaURL := ""
	for _, c := range challenges {
		if strings.EqualFold(c.Scheme, "bearer") && c.Params["resource_metadata"] != "" {
			metaURL = c.Params["resource_metadata"]
		}
	}
	if metaURL == "" {
		return nil, fmt.Errorf("%s: the 401 has no resource_metadata in WWW-Authenticate", target)
	}
	return oauthex.GetProtectedResourceMetadata(ctx, metaURL, target, hc)
}

func toolText(r *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range r.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			b.WriteString(t.Text)
		}
	}
	return b.String()
}

// cleanError keeps the part of an SDK error chain that says why: the
// OAuth error the IdP or the authorization server answered.
func cleanError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		switch {
		case re.ErrorCode == "" && re.Response != nil && re.Response.Request != nil:
			// No OAuth error, a bare status (a proxy's 502): say who answered
			// what, without the page.
			return fmt.Errorf("%s answered %s", re.Response.Request.URL.Redacted(), re.Response.Status)
		case re.ErrorCode == "" && re.Response != nil:
			return fmt.Errorf("a token endpoint answered %s", re.Response.Status)
		case re.ErrorDescription != "":
			return fmt.Errorf("%s: %s", re.ErrorCode, re.ErrorDescription)
		}
		return fmt.Errorf("%s", re.ErrorCode)
	}
	return err
}

// traced wraps hc so that each request becomes a Step. issuer is the
// IdP's: its path, a tenant's (docs/configuration.md, "Tenants"), comes
// before the login's paths.
func traced(hc *http.Client, trace func(Step), mcpServer, issuer string) *http.Client {
	var idpPath string
	if u, err := url.Parse(issuer); err == nil {
		idpPath = strings.TrimSuffix(u.Path, "/")
	}
	c := &http.Client{Transport: &tracer{base: hc.Transport, trace: trace, mcpServer: mcpServer, idpPath: idpPath}, Jar: hc.Jar, Timeout: hc.Timeout, CheckRedirect: hc.CheckRedirect}
	if hc.CheckRedirect != nil && trace != nil {
		// A redirect hc refuses to follow (the console's run follows
		// none) is a step of its own, so that the trace says why the
		// answer before it is the last.
		c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			err := hc.CheckRedirect(req, via)
			if err == http.ErrUseLastResponse {
				trace(Step{MCPServer: mcpServer, Name: "redirect", Method: req.Method, URL: redactURL(req.URL), Detail: "redirect to " + redactURL(req.URL) + " not followed: this run follows no redirect"})
			}
			return err
		}
	}
	return c
}

// loginSession is the one login of a run, shared by every MCP server's
// enterprise handler, which asks it for the ID token whenever it needs a
// new ID-JAG. An ID token that has expired (or is about to) is renewed
// with the refresh token (OIDC Core section 12), as a real client keeps
// its login alive, so that a long `connect --watch` outlives the ID
// token's hour; a refresh the IdP refuses (the session ended, the user was
// disabled) is the answer. Refresh tokens rotate, which is why the
// session is one for all servers.
type loginSession struct {
	o   Options
	hc  *http.Client
	now func() time.Time

	mu     sync.Mutex
	tokens idpclient.Tokens
	// gone is set once the IdP refused the refresh token (invalid_grant):
	// the login is lost (ErrLoginLost).
	gone bool
}

// renewBefore is how long before its exp an ID token is renewed: room for
// the exchange that follows.
const renewBefore = 30 * time.Second

func (l *loginSession) idToken(ctx context.Context) (*oauth2.Token, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if exp, ok := expiry(l.tokens.IDToken()); ok && l.now().Add(renewBefore).After(exp) && l.tokens.RefreshToken() != "" {
		if err := l.refresh(ctx); err != nil {
			return nil, err
		}
	}
	return (&oauth2.Token{AccessToken: "unused"}).WithExtra(map[string]any{"id_token": l.tokens.IDToken()}), nil
}

// renew renews the login with its refresh token whatever its ID token's
// exp: Watch's next attempt after the IdP refused the ID token. Without a
// refresh token (the IdP gave none) the login cannot be renewed, which
// is ErrLoginLost.
func (l *loginSession) renew(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tokens.RefreshToken() == "" {
		l.gone = true
		return ErrLoginLost
	}
	return l.refresh(ctx)
}

// refresh renews the tokens; l.mu is held. The IdP's invalid_grant ends
// the login: it is lost.
func (l *loginSession) refresh(ctx context.Context) error {
	fresh, err := idpclient.Refresh(ctx, idpclient.RefreshOptions{
		Issuer: l.o.Issuer, ClientID: l.o.ClientID, ClientSecret: l.o.ClientSecret,
		RefreshToken: l.tokens.RefreshToken(), HTTPClient: l.hc,
	})
	var oe *idpclient.Error
	if errors.As(err, &oe) && oe.Code == "invalid_grant" {
		l.gone = true
		return fmt.Errorf("renewing the login: %w: %w", ErrLoginLost, err)
	}
	if err != nil {
		return fmt.Errorf("renewing the login: %w", err)
	}
	if fresh.IDToken() != "" {
		l.tokens = fresh
	}
	return nil
}

// assignedServers asks the IdP for the MCP servers of the login's user
// (idpclient.AssignedServers), renewing the login once when the IdP
// refuses its access token, which expires before the login does.
func (l *loginSession) assignedServers(ctx context.Context) ([]idpclient.AssignedServer, error) {
	l.mu.Lock()
	at, _ := l.tokens["access_token"].(string)
	l.mu.Unlock()
	list, err := idpclient.AssignedServers(ctx, l.hc, l.o.Issuer, at)
	if _, refused := errors.AsType[*idpclient.TokenRefusedError](err); !refused {
		return list, err
	}
	if err := l.renew(ctx); err != nil {
		return nil, err
	}
	l.mu.Lock()
	at, _ = l.tokens["access_token"].(string)
	l.mu.Unlock()
	return idpclient.AssignedServers(ctx, l.hc, l.o.Issuer, at)
}

// lost reports whether the IdP refused the login's refresh token.
func (l *loginSession) lost() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.gone
}

// expiry reads a JWT's exp without verifying it: the client only decides
// when to renew its own token; the IdP verifies.
func expiry(jwt string) (time.Time, bool) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, false
	}
	var c struct {
		Exp int64 `json:"exp"`
	}
	if json.Unmarshal(payload, &c) != nil || c.Exp == 0 {
		return time.Time{}, false
	}
	return time.Unix(c.Exp, 0), true
}
