package connect_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/app"
	"github.com/xaa-idp/xaa-idp/connect"
	"github.com/xaa-idp/xaa-idp/demo"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/policy"
)

// restartable serves a handler on one address, and can stop serving and
// serve again there, as a process restarted on the same port does.
type restartable struct {
	t    *testing.T
	addr string
	hs   *http.Server
}

func (r *restartable) serve(ln net.Listener, h http.Handler) {
	r.hs = &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = r.hs.Serve(ln) }()
}

func (r *restartable) stop() { r.hs.Close() }

func (r *restartable) start(h http.Handler) {
	r.t.Helper()
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		r.t.Fatal(err)
	}
	r.serve(ln, h)
}

// restartStack is watchStack's IdP and CRM, each restartable.
type restartStack struct {
	store       *policy.Store
	idpURL      string
	idp, as, mc *restartable
	srv         *idp.Server
}

func newRestartStack(t *testing.T) *restartStack {
	idpLn, idpURL := listenLoopback(t)
	asLn, asURL := listenLoopback(t)
	mcpLn, mcpURL := listenLoopback(t)
	store, err := policy.NewStore([]byte(strings.NewReplacer("AS", asURL, "MCP", mcpURL).Replace(watchConfig)), "watch.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := &restartStack{store: store, idpURL: idpURL}
	s.srv = s.newIdP(t)
	idpLn.Close()
	asLn.Close()
	mcpLn.Close()
	s.idp = &restartable{t: t, addr: strings.TrimPrefix(idpURL, "http://")}
	s.idp.start(app.New(app.Options{IdP: s.srv}))
	as, mc := s.stackHandlers(t)
	s.as = &restartable{t: t, addr: strings.TrimPrefix(asURL, "http://")}
	s.as.start(as)
	s.mc = &restartable{t: t, addr: strings.TrimPrefix(mcpURL, "http://")}
	s.mc.start(mc)
	t.Cleanup(func() { s.idp.stop(); s.as.stop(); s.mc.stop() })
	return s
}

func (s *restartStack) newIdP(t *testing.T) *idp.Server {
	srv, err := idp.New(idp.Options{Config: s.store.Config(), Issuer: s.idpURL})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// stackHandlers are a new CRM authorization server and MCP server: what
// they knew (the MCP sessions) is gone.
func (s *restartStack) stackHandlers(t *testing.T) (as, mcp http.Handler) {
	stack, err := demo.Stack(s.store.Config(), s.idpURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range stack {
		if svc.Role == "authorization server" {
			as = svc.Handler
		} else {
			mcp = svc.Handler
		}
	}
	return as, mcp
}

// watchWithNotices is watchBob, keeping Watch's notices too.
func watchWithNotices(t *testing.T, idpURL string) (*watching, func() []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	w := &watching{ctx: ctx, cancel: cancel, done: make(chan error, 1), reported: make(chan struct{}, 100)}
	var mu sync.Mutex
	var notices []string
	go func() {
		w.done <- connect.Watch(ctx, connect.Options{Issuer: idpURL, ClientID: "mcp-client", ClientSecret: "mcp-secret", Username: "bob", Password: "bob", Timeout: 2 * time.Second},
			50*time.Millisecond, func(r connect.Result) {
				w.mu.Lock()
				w.lines = append(w.lines, fmt.Sprintf("%v %s %v", r.Connected, r.Name, r.Err))
				w.mu.Unlock()
				w.reported <- struct{}{}
			}, func(n string) {
				mu.Lock()
				notices = append(notices, n)
				mu.Unlock()
			})
	}()
	select {
	case <-w.reported:
	case err := <-w.done:
		t.Fatalf("Watch ended before connecting: %v", err)
	}
	return w, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), notices...)
	}
}

// next waits for Watch's next report.
func (w *watching) next(t *testing.T) string {
	t.Helper()
	select {
	case <-w.reported:
	case err := <-w.done:
		t.Fatalf("Watch ended: %v\nreported:\n%s", err, strings.Join(w.lines, "\n"))
	case <-w.ctx.Done():
		t.Fatalf("nothing more reported:\n%s", strings.Join(w.lines, "\n"))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lines[len(w.lines)-1]
}

// TestWatch_ConnectsAgainAfterARestart: the IdP stops, and the CRM's
// authorization server and MCP server restart meanwhile (demo restarted:
// the MCP session is gone), then the IdP starts again on its address with
// its state (serve --state-dir: the same keys and refresh tokens). Watch
// reported the disconnection and never opened the session again: a
// developer had to restart connect too. Now it tries again, with a
// backoff, saying so, and reports bob connected once the IdP is back.
func TestWatch_ConnectsAgainAfterARestart(t *testing.T) {
	s := newRestartStack(t)
	w, notices := watchWithNotices(t, s.idpURL)
	s.idp.stop()
	s.as.stop()
	s.mc.stop()
	as, mc := s.stackHandlers(t)
	s.as.start(as)
	s.mc.start(mc)
	if got := w.next(t); !strings.HasPrefix(got, "false CRM ") {
		t.Fatalf("after the restart of the MCP server: %q, want the disconnection", got)
	}
	s.idp.start(app.New(app.Options{IdP: s.srv}))
	for got := w.next(t); got != "true CRM <nil>"; got = w.next(t) {
		if !strings.HasPrefix(got, "false CRM ") {
			t.Fatalf("reported %q", got)
		}
	}
	w.stop(t)
	if n := notices(); len(n) == 0 || !strings.Contains(strings.Join(n, "\n"), "again in") {
		t.Errorf("Watch did not say it would try again:\n%s", strings.Join(n, "\n"))
	}
}

// TestWatch_LoginLostAtARestartWithoutState: the IdP restarts without its
// state (new signing keys, no refresh tokens): the ID token is refused,
// and so is the refresh token. Watch ends with ErrLoginLost, which says a
// new login is needed, rather than retrying a login the IdP forgot.
func TestWatch_LoginLostAtARestartWithoutState(t *testing.T) {
	s := newRestartStack(t)
	w, _ := watchWithNotices(t, s.idpURL)
	s.idp.stop()
	s.as.stop()
	s.mc.stop()
	as, mc := s.stackHandlers(t)
	s.as.start(as)
	s.mc.start(mc)
	s.idp.start(app.New(app.Options{IdP: s.newIdP(t)}))
	select {
	case err := <-w.done:
		if !errors.Is(err, connect.ErrLoginLost) {
			t.Errorf("Watch: %v, want ErrLoginLost", err)
		}
	case <-w.ctx.Done():
		t.Fatalf("Watch did not end; reported:\n%s", strings.Join(w.lines, "\n"))
	}
}
