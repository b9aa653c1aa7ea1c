package connect

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
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
// disconnected server's session is closed, and opened again after a
// backoff (from the interval, doubling up to MaxRetryDelay) until it
// connects: the IdP, the MCP server or its authorization server may be
// restarting (a revoked user is still shown once: the same refusal again
// is no change). A server the IdP's policy refuses (access_denied) is
// tried again only when the IdP's list of the user's MCP servers, read
// on that backoff, says something else of it: an administrator assigned
// the user, say. Before each new attempt after the IdP refused the ID
// token, the login is renewed with its refresh token; an IdP that refuses
// that too has lost the login (restarted without its state directory) and
// Watch returns ErrLoginLost. notice, when set, hears what Watch does
// meanwhile. Its error is for what stops everything (the login).
func Watch(ctx context.Context, o Options, interval time.Duration, report func(Result), notice ...func(string)) error {
	if interval <= 0 {
		interval = DefaultInterval
	}
	say := func(string) {}
	if len(notice) > 0 && notice[0] != nil {
		say = notice[0]
	}
	hc, targets, login, known, err := start(ctx, o)
	if err != nil {
		return err
	}
	type watched struct {
		res     Result
		session *mcp.ClientSession
		handler *extauth.EnterpriseHandler
		// delay is the wait before the next attempt to connect again,
		// and retryAt its time, while session is nil.
		delay   time.Duration
		retryAt time.Time
		// seen is the server's entry in the IdP's list of the user's
		// MCP servers read before its last attempt (nil: not listed);
		// parked is set while the IdP's policy refuses it (denied):
		// at retryAt the list is read again, and the server tried
		// again only when its entry changed.
		seen   *idpclient.AssignedServer
		parked bool
	}
	var all []*watched
	defer func() {
		for _, w := range all {
			if w.session != nil {
				w.session.Close()
			}
		}
	}()
	retryLater := func(w *watched) {
		w.delay = min(max(2*w.delay, interval), MaxRetryDelay)
		w.retryAt = time.Now().Add(w.delay)
	}
	// park leaves w, which the IdP's policy refused, until an
	// administrator changes the IdP's decision, saying so once: the
	// same attempt again would be refused again, and each refusal is an
	// event in the IdP's audit log.
	park := func(w *watched) {
		if !w.parked {
			say(fmt.Sprintf("%s: refused by the IdP (%s); tried again when the IdP's list of your MCP servers changes for it (an administrator assigns you), checked at most %s apart", label(w.res), errorCode(w.res.Err), MaxRetryDelay))
		}
		w.parked = true
	}
	for _, target := range targets {
		res, session, handler := openSession(ctx, o, traced(hc, o.Trace, target, o.Issuer), login, target, known)
		w := &watched{res: res, session: session, handler: handler, seen: listed(known, target)}
		all = append(all, w)
		report(res)
		if session == nil {
			retryLater(w)
			if res.denied {
				park(w)
			}
		}
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		// The IdP's list, read at most once a tick, before the
		// attempts it may lead to.
		var list []idpclient.AssignedServer
		var listErr error
		read := false
		current := func() ([]idpclient.AssignedServer, error) {
			if !read {
				read = true
				listCtx, cancel := context.WithTimeout(ctx, o.timeout())
				list, listErr = login.assignedServers(listCtx)
				cancel()
			}
			return list, listErr
		}
		for _, w := range all {
			next := Result{MCPServer: w.res.MCPServer, Name: w.res.Name, Assigned: w.res.Assigned}
			if w.session == nil {
				if time.Now().Before(w.retryAt) {
					continue
				}
				list, err := current()
				if errors.Is(err, ErrLoginLost) {
					return err
				}
				if ctx.Err() != nil {
					return nil
				}
				if err == nil {
					// The attempt connects as the list now says
					// (openSession): an administrator who assigned
					// the user may have changed the server's client
					// too (until 2026-12-07 the list of the start
					// was used, and such a server never connected).
					known = list
					entry := listed(list, w.res.MCPServer)
					if w.parked && sameDecision(w.seen, entry) {
						retryLater(w)
						continue
					}
					w.seen = entry
				} else if w.parked {
					retryLater(w) // the IdP did not answer: the next check says
					continue
				}
				if idTokenRefused(w.res) {
					if err := login.renew(ctx); err != nil {
						if errors.Is(err, ErrLoginLost) {
							return err
						}
						say(fmt.Sprintf("%s: the login could not be renewed (%v); trying again in %s", label(w.res), err, w.delay))
						w.retryAt = time.Now().Add(w.delay)
						continue
					}
				}
				// The session is w's at once, so that the deferred close
				// closes it whatever Watch returns next (until 2026-12-06 a
				// stop as it opened left it open, its goroutines running).
				next, w.session, w.handler = openSession(ctx, o, traced(hc, o.Trace, w.res.MCPServer, o.Issuer), login, w.res.MCPServer, known)
				if ctx.Err() != nil {
					return nil
				}
				if login.lost() {
					return ErrLoginLost
				}
				switch {
				case w.session != nil:
					w.delay, w.parked = 0, false
				case next.denied:
					retryLater(w)
					w.res.Err = next.Err // named by park
					park(w)
				default:
					w.parked = false
					retryLater(w)
					say(fmt.Sprintf("%s: not connected again (%v); trying again in %s", label(next), next.Err, w.delay))
				}
			} else {
				callCtx, cancel := context.WithTimeout(ctx, max(interval, minCallTimeout))
				whoami(callCtx, w.session, w.handler, &next)
				cancel()
				if ctx.Err() != nil {
					return nil
				}
				if login.lost() {
					return ErrLoginLost
				}
				if !next.Connected {
					w.session.Close()
					w.session = nil
					retryLater(w)
					say(fmt.Sprintf("%s: disconnected; connecting again in %s", label(next), w.delay))
				}
			}
			if changed(w.res, next) {
				report(next)
			}
			w.res = next
		}
	}
}

// MaxRetryDelay bounds the wait between two of Watch's attempts to
// connect a disconnected server again.
const MaxRetryDelay = 30 * time.Second

// ErrLoginLost is Watch's error when the IdP refuses the login's refresh
// token: it no longer knows the login (an IdP restarted without its state
// directory forgets its refresh tokens and signing keys, and so every ID
// token it issued), or ended it. Only a new login helps.
var ErrLoginLost = errors.New("the IdP no longer knows this login (an IdP restarted without --state-dir forgets its logins; or the login was ended): a new login is needed")

// idTokenRefused reports whether r's refusal is the IdP's refusal of the
// login's ID token at the token exchange (invalid_grant, or a
// subject_token it does not take): after a restart without its state
// directory, the IdP has new signing keys, and the ID token verifies no
// more ("subject_token is not signed by this IdP"); on an IdP clock ahead
// of connect's, it expired ("the subject ID token expired", which until
// 2026-12-06 was not renewed). An authorization server's invalid_grant
// is not the login's fault (until 2026-12-06 it renewed the login at
// every try).
func idTokenRefused(r Result) bool {
	if r.Err == nil || !r.atExchange {
		return false
	}
	s := r.Err.Error()
	return strings.Contains(s, "invalid_grant") || strings.Contains(s, "subject_token") || strings.Contains(s, "subject ID token")
}

// listed is target's entry in the IdP's list of the user's MCP servers,
// nil when it has none.
func listed(list []idpclient.AssignedServer, target string) *idpclient.AssignedServer {
	for i := range list {
		if list[i].Resource == target {
			return &list[i]
		}
	}
	return nil
}

// sameDecision reports whether two entries of the IdP's list of the
// user's MCP servers give one decision: the server listed or not,
// assigned or not, with the same error, client and scopes. A
// description is not compared: one may name the time it was judged.
func sameDecision(a, b *idpclient.AssignedServer) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Assigned == b.Assigned && a.Error == b.Error && a.ClientID == b.ClientID && slices.Equal(a.Scopes, b.Scopes)
}

// errorCode is the OAuth error code that a refusal begins with.
func errorCode(err error) string {
	code, _, _ := strings.Cut(fmt.Sprint(err), ":")
	return code
}

// label names a server in Watch's notices.
func label(r Result) string {
	if r.Name != "" {
		return r.Name + " (" + r.MCPServer + ")"
	}
	return r.MCPServer
}

// changed reports whether a server's state differs enough to report. A
// refusal that differs from the last only by its times is the same: many
// name when they were judged ("now ..."), which differs at every attempt
// (until 2026-12-06 each attempt reported it again).
func changed(before, after Result) bool {
	return before.Connected != after.Connected || refusal(before.Err) != refusal(after.Err) ||
		fmt.Sprint(before.Scopes) != fmt.Sprint(after.Scopes)
}

// refusal is err's text with its RFC 3339 times masked.
func refusal(err error) string {
	return rfc3339.ReplaceAllString(fmt.Sprint(err), "(time)")
}

var rfc3339 = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)

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
