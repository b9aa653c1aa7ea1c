package idptest

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/xaa-idp/xaa-idp/demo"
	"github.com/xaa-idp/xaa-idp/policy"
)

// DemoServer is one MCP server that StartDemoServers serves.
type DemoServer struct {
	ID   string // the MCP server's id in the configuration
	Name string
	// AuthServer is its authorization server's issuer: the audience of
	// its ID-JAGs, where the JWT bearer grant is sent.
	AuthServer string
	// URL is its MCP endpoint (streamable HTTP): the resource of its
	// ID-JAGs.
	URL string
}

// StartDemoServers serves, for every MCP server of the configuration, its
// authorization server (trusting this IdP, accepting ID-JAGs by the JWT
// bearer grant) and the demo MCP server behind it (tools whoami, and a few
// per theme), each on a free loopback port, and returns them by id. The
// configuration's issuers and resources are moved to those ports (in a
// SetConfig too), so that the IdP issues ID-JAGs they accept. Each client
// the MCP server lists is registered at its authorization server under its
// client_id there, with its secret at the IdP. The demo servers run on
// the IdP's clock (Clock): advancing it moves theirs too.
//
// A later SetConfig (of the Server or of a Tenant) reaches the
// authorization servers as an admin's edit reaches those of xaa-idp demo:
// the clients each server maps, their secrets and redirect URIs, the
// users, the scopes, the tenants it trusts and allow_id_jag_reuse (an
// ID-JAG redeemed again, for a new access token, instead of refused as a
// replay) follow. A new MCP server,
// or a server whose URLs or subject mapping changed, is not served
// differently (the test's log says so).
//
// With tenants, it serves the MCP servers of every tenant: one
// authorization server per MCP server, trusting each tenant that lists it
// (package demo); call it on the Server New returned, not on a Tenant.
func (s *Server) StartDemoServers() map[string]DemoServer {
	s.t.Helper()
	if s.tenant != "" {
		s.t.Fatalf("idptest: StartDemoServers on Tenant(%q): call it on the Server New returned, which serves every tenant's MCP servers", s.tenant)
	}
	if s.origins != nil {
		s.t.Fatalf("idptest: StartDemoServers was called twice")
	}
	views := s.tenants
	if views == nil {
		views = []*Server{s}
	}
	origins := map[string]string{}
	listeners := map[string]net.Listener{}
	listen := func(raw string) {
		o := origin(raw)
		if _, done := origins[o]; done || o == "" {
			return
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			s.t.Fatalf("idptest: StartDemoServers: %v", err)
		}
		origins[o] = "http://" + ln.Addr().String()
		listeners[ln.Addr().String()] = ln
	}
	for _, v := range views {
		for _, srv := range v.Config().MCPServers {
			listen(srv.Issuer)
			for _, r := range srv.Resources {
				listen(r)
			}
		}
	}
	closeAll := func() {
		for _, ln := range listeners {
			ln.Close()
		}
	}
	var moved []*policy.Config
	for _, v := range views {
		m, err := revalidate(moveServers(v.Config(), origins))
		if err != nil {
			closeAll()
			s.t.Fatalf("idptest: StartDemoServers: the configuration has problems once its MCP servers are moved to loopback ports:\n%v", err)
		}
		v.idp.SetConfig(m)
		v.origins = origins
		moved = append(moved, m)
	}
	s.origins = origins
	whole := moved[0]
	if s.tenants != nil {
		whole = &policy.Config{Tenants: moved}
	}
	stack, err := demo.Stack(whole, s.http.URL, s.idp.Now)
	if err != nil {
		closeAll()
		s.t.Fatalf("idptest: StartDemoServers: %v", err)
	}
	ds := &demoStack{stack: stack, views: views}
	for _, v := range views {
		v.demo = ds
	}
	s.demo = ds
	out := map[string]DemoServer{}
	for _, svc := range stack {
		ln := listeners[svc.Addr]
		delete(listeners, svc.Addr)
		hs := &http.Server{Handler: svc.Handler}
		go func() { _ = hs.Serve(ln) }()
		s.t.Cleanup(func() { hs.Close() })
		d := out[svc.Server]
		d.ID = svc.Server
		if svc.Role == "MCP server" {
			d.URL = svc.URL
		} else {
			d.AuthServer = svc.URL
		}
		for _, m := range moved {
			if ms := m.Server(svc.Server); ms != nil && d.Name == "" {
				d.Name = ms.Name
			}
		}
		out[svc.Server] = d
	}
	closeAll() // those of resources no demo server serves
	return out
}

// demoStack is what StartDemoServers started.
type demoStack struct {
	mu    sync.Mutex // serializes follow
	stack []demo.Service
	views []*Server // the IdP, or its tenants in file order
}

// follow makes the demo authorization servers follow the configuration
// running now (demo.Follow): the clients, users, scopes and trusted
// tenants of a SetConfig. What they cannot follow (a new MCP server, a
// server's URLs or subject changed) goes to the test's log when t has
// one.
func (d *demoStack) follow(t TB) {
	d.mu.Lock()
	defer d.mu.Unlock()
	whole := d.views[0].Config()
	if d.views[0].tenant != "" {
		whole = &policy.Config{}
		for _, v := range d.views {
			whole.Tenants = append(whole.Tenants, v.Config())
		}
	}
	warnings := demo.Follow(d.stack, whole)
	if l, ok := t.(interface{ Logf(string, ...any) }); ok {
		for _, w := range warnings {
			l.Logf("idptest: %s", w)
		}
	}
}

// origin returns the scheme and host of a URL ("http://127.0.0.1:8101"),
// or "" when it has none.
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// moveServers returns a copy of cfg whose MCP servers' issuers and
// resources have their origins replaced as origins maps them.
func moveServers(cfg *policy.Config, origins map[string]string) *policy.Config {
	move := func(raw string) string {
		o := origin(raw)
		if to, ok := origins[o]; ok && o != "" {
			return to + strings.TrimPrefix(raw, o)
		}
		return raw
	}
	cp := *cfg
	cp.MCPServers = make([]policy.MCPServer, len(cfg.MCPServers))
	for i, srv := range cfg.MCPServers {
		srv.Issuer = move(srv.Issuer)
		srv.Resources = append([]string(nil), srv.Resources...)
		for j := range srv.Resources {
			srv.Resources[j] = move(srv.Resources[j])
		}
		cp.MCPServers[i] = srv
	}
	return &cp
}
