package connect

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth/extauth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/xaa-idp/xaa-idp/idpclient"
)

// DefaultInterval is how often Watch calls whoami by default.
const DefaultInterval = 2 * time.Second

// minCallTimeout bounds one whoami call of Watch: a server that hangs is
// reported as disconnected rather than stopping the watch.
const minCallTimeout = 5 * time.Second

// Watch logs in and connects like Run, reports each server's Result, then
// keeps the MCP sessions open and calls whoami on each every interval (0:
// DefaultInterval) until ctx ends, reporting a server again whenever its
// state changes: connected, or disconnected with a different error. A
// disconnected server's session is closed and not reopened, so a revoked
// user is shown once, as it happens (docs/http.md, "Revocation push").
// Its error is for what stops everything (the login).
func Watch(ctx context.Context, o Options, interval time.Duration, report func(Result)) error {
	if interval <= 0 {
		interval = DefaultInterval
	}
	hc, targets, login, known, err := start(ctx, o)
	if err != nil {
		return err
	}
	type watched struct {
		res     Result
		session *mcp.ClientSession
		handler *extauth.EnterpriseHandler
	}
	var all []*watched
	defer func() {
		for _, w := range all {
			if w.session != nil {
				w.session.Close()
			}
		}
	}()
	for _, target := range targets {
		res, session, handler := openSession(ctx, o, traced(hc, o.Trace, target, o.Issuer), login, target, known)
		all = append(all, &watched{res, session, handler})
		report(res)
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		for _, w := range all {
			if w.session == nil {
				continue
			}
			callCtx, cancel := context.WithTimeout(ctx, max(interval, minCallTimeout))
			next := Result{MCPServer: w.res.MCPServer, Name: w.res.Name}
			whoami(callCtx, w.session, w.handler, &next)
			cancel()
			if ctx.Err() != nil {
				return nil
			}
			if !next.Connected {
				w.session.Close()
				w.session = nil
			}
			if changed(w.res, next) {
				report(next)
			}
			w.res = next
		}
	}
}

// changed reports whether a server's state differs enough to report.
func changed(before, after Result) bool {
	return before.Connected != after.Connected || fmt.Sprint(before.Err) != fmt.Sprint(after.Err) ||
		fmt.Sprint(before.Scopes) != fmt.Sprint(after.Scopes)
}

// start logs the user in and picks the MCP servers to connect to, as Run
// does.
func start(ctx context.Context, o Options) (*http.Client, []string, *loginSession, []idpclient.AssignedServer, error) {
	hc := o.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	loginClient := traced(hc, o.Trace, "", o.Issuer)
	ctx, cancel := context.WithTimeout(ctx, o.timeout())
	defer cancel()
	tokens, err := idpclient.Login(ctx, idpclient.LoginOptions{
		Issuer: o.Issuer, ClientID: o.ClientID, ClientSecret: o.ClientSecret,
		Username: o.Username, Password: o.Password, RedirectURI: o.RedirectURI, HTTPClient: loginClient,
	})
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("login as %s: %w", o.Username, err)
	}
	at, _ := tokens["access_token"].(string)
	known, err := idpclient.AssignedServers(ctx, loginClient, o.Issuer, at)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	targets := o.MCPServers
	if len(targets) == 0 {
		for _, s := range known {
			if s.Assigned || o.All {
				targets = append(targets, s.Resource)
			}
		}
	}
	return hc, targets, &loginSession{o: o, hc: loginClient, now: time.Now, tokens: tokens}, known, nil
}
