package connect_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/app"
	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/connect"
	"github.com/xaa-idp/xaa-idp/demo"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/policy"
	"github.com/xaa-idp/xaa-idp/push"
)

const watchConfig = `
signing: {id_token_alg: ES256}
users:
  - {username: bob, password: bob, sub: 00u-bob}
clients:
  - {client_id: mcp-client, client_secret: mcp-secret, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}
mcp_servers:
  - id: crm
    name: CRM
    issuer: AS
    resources: [MCP/mcp]
    scopes: [crm.read]
    clients: {mcp-client: mcp-client-at-crm}
    access:
      - {users: [bob], scopes: [crm.read]}
`

func listenLoopback(t *testing.T) (net.Listener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln, "http://" + ln.Addr().String()
}

func serveOn(t *testing.T, ln net.Listener, h http.Handler) {
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { hs.Close() })
}

// watchStack serves the IdP of watchConfig with the revocation push, and
// the CRM's demo authorization server and MCP server, all on the IdP's
// clock.
func watchStack(t *testing.T, extra string) (srv *idp.Server, store *policy.Store, idpURL string) {
	idpLn, u := listenLoopback(t)
	idpURL = u
	asLn, asURL := listenLoopback(t)
	mcpLn, mcpURL := listenLoopback(t)
	var err error
	store, err = policy.NewStore([]byte(extra+strings.NewReplacer("AS", asURL, "MCP", mcpURL).Replace(watchConfig)), "watch.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := store.Config()
	srv, err = idp.New(idp.Options{Config: cfg, Issuer: idpURL})
	if err != nil {
		t.Fatal(err)
	}
	pusher, err := push.New(push.Options{Issuer: idpURL, Signer: srv, Audit: srv.Audit(), Config: cfg, Now: srv.Now, Endpoint: demo.EventsEndpoints(cfg)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pusher.Close)
	serveOn(t, idpLn, app.New(app.Options{IdP: srv, Store: store, Push: pusher}))
	stack, err := demo.Stack(cfg, idpURL, srv.Now)
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range stack {
		if svc.Role == "authorization server" {
			serveOn(t, asLn, svc.Handler)
		} else {
			serveOn(t, mcpLn, svc.Handler)
		}
	}

	return srv, store, idpURL
}

// watching is connect.Watch running for bob, with every line it reports.
type watching struct {
	ctx      context.Context
	cancel   context.CancelFunc
	done     chan error
	reported chan struct{}
	mu       sync.Mutex
	lines    []string
}

// watchBob starts connect.Watch as bob and waits for its first report,
// the connection.
func watchBob(t *testing.T, idpURL string) *watching {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	w := &watching{ctx: ctx, cancel: cancel, done: make(chan error, 1), reported: make(chan struct{}, 10)}
	go func() {
		w.done <- connect.Watch(ctx, connect.Options{Issuer: idpURL, ClientID: "mcp-client", ClientSecret: "mcp-secret", Username: "bob", Password: "bob"},
			50*time.Millisecond, func(r connect.Result) {
				w.mu.Lock()
				w.lines = append(w.lines, fmt.Sprintf("%v %s %v", r.Connected, r.Name, r.Err))
				w.mu.Unlock()
				w.reported <- struct{}{}
			})
	}()
	select {
	case <-w.reported:
	case err := <-w.done:
		t.Fatalf("Watch ended before connecting: %v", err)
	}
	return w
}

// stop ends the watch and returns what it reported.
func (w *watching) stop(t *testing.T) []string {
	t.Helper()
	w.cancel()
	if err := <-w.done; err != nil {
		t.Errorf("Watch: %v", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lines
}

// TestWatch_ReportsTheDisconnectionWhenAccessIsRemoved: bob is connected to
// the CRM; an admin removes his access; the revocation push makes the demo
// MCP server answer 401, the SDK asks the IdP for a new ID-JAG, which is
// refused, and Watch reports the disconnection with the IdP's reason.
func TestWatch_ReportsTheDisconnectionWhenAccessIsRemoved(t *testing.T) {
	_, store, idpURL := watchStack(t, "")
	w := watchBob(t, idpURL)
	if _, err := store.UpdateServerAccess("crm", nil, "*"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.reported:
	case <-w.ctx.Done():
		t.Fatal("no disconnection reported")
	}
	lines := w.stop(t)
	if len(lines) != 2 || lines[0] != "true CRM <nil>" || !strings.HasPrefix(lines[1], "false CRM ") || !strings.Contains(lines[1], "access_denied") {
		t.Errorf("reported:\n%s", strings.Join(lines, "\n"))
	}
}

// TestWatch_OutlivesTheLogin: the login's ID token lives 2 s; once it has
// expired, two hours pass on the IdP's clock, so the access token has
// expired too. The MCP server answers 401, the SDK asks for a new ID-JAG,
// and connect renews the login with its refresh token instead of
// presenting the expired ID token: bob stays connected, and the audit
// shows the refresh.
func TestWatch_OutlivesTheLogin(t *testing.T) {
	srv, _, idpURL := watchStack(t, "lifetimes: {id_token: 2s}\n")
	w := watchBob(t, idpURL)
	time.Sleep(2 * time.Second)
	srv.Clock().Advance(2 * time.Hour)
	refreshed := func() bool {
		for _, e := range srv.Audit().Query(audit.Filter{Type: audit.TypeToken}) {
			if e.GrantType == "refresh_token" && e.Outcome == audit.Allowed {
				return true
			}
		}
		return false
	}
	for !refreshed() && w.ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // a few more calls after the renewal
	lines := w.stop(t)
	if !refreshed() {
		t.Error("the login was not renewed with the refresh token")
	}
	if len(lines) != 1 || lines[0] != "true CRM <nil>" {
		t.Errorf("reported (want only the connection):\n%s", strings.Join(lines, "\n"))
	}
}
