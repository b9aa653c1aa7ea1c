// Package idptest runs a complete xaa-idp (the IdP and its admin API) in
// process, for the tests of MCP clients, MCP servers and authorization
// servers written in Go.
//
//	func TestMyClient(t *testing.T) {
//		srv := idptest.New(t)                        // the demo company, on a free loopback port
//		jag := srv.IDJAG("alice", "tracker", "issues.read")
//		...
//	}
//
// The server starts from YAML text (WithConfigYAML), a *policy.Config built
// in Go (WithConfig) or, by default, the embedded demo configuration
// (fixtures/demo.yaml: users alice, bob, carol, dave, mallory and the
// disabled erin, whose passwords are their usernames). It closes itself
// when the test ends.
//
// Everything a test wants to vary is at hand: the configuration
// (SetConfig), the clock (Clock), faults the token endpoint injects
// (InjectFault), and the audit log to assert on (Audit). StartDemoServers
// adds the demo MCP servers and their authorization servers, so that an MCP
// client can be tested end to end.
//
// A configuration with tenants: (docs/configuration.md, "Tenants") starts
// every tenant, each an IdP of its own under its path on the one test
// server. Tenant returns a tenant's view, with the same helpers (Login,
// IDJAG, Audit, SetConfig, ...) acting on that tenant alone;
// TenantIssuer is its issuer. The helpers of the Server New returns act
// on the first tenant, except Audit, which sees every tenant's events,
// and StartDemoServers, which serves every tenant's MCP servers.
package idptest

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/xaa-idp/xaa-idp/app"
	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/fixtures"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/policy"
	"github.com/xaa-idp/xaa-idp/push"
)

// TB is the part of testing.TB that the server uses: *testing.T,
// *testing.B and *testing.F are TBs.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// Option configures New.
type Option func(*options)

type options struct {
	yaml    []byte
	name    string
	config  *policy.Config
	problem error
}

// WithConfigYAML starts the IdP with a configuration given as YAML text,
// validated as `xaa-idp check` validates a file. Its issuer is ignored: the
// IdP's issuer is the test server's URL.
func WithConfigYAML(text string) Option {
	return func(o *options) { o.yaml, o.name, o.config = []byte(text), "config.yaml", nil }
}

// WithConfig starts the IdP with a configuration built in Go. It is
// validated like a file (unknown names, duplicates, formats), with defaults
// filled in for what it leaves out; its issuer is ignored.
func WithConfig(cfg *policy.Config) Option {
	return func(o *options) {
		o.yaml, o.config = nil, cfg
		if cfg == nil {
			o.problem = fmt.Errorf("WithConfig(nil)")
		}
	}
}

// Server is a running IdP with its admin API.
type Server struct {
	t    TB
	idp  *idp.Server
	http *httptest.Server
	log  *audit.Log
	// push delivers the IdP's revocations (README "Request, approve, revoke") to the servers'
	// events_endpoint and audits the expiry of access entries, as serve's
	// does.
	push *push.Pusher
	// origins maps the MCP servers' URLs of the configuration (scheme and
	// host) to where StartDemoServers serves them; nil before.
	origins map[string]string
	// tenants are the views of a configuration with tenants, in file
	// order (Tenant); nil without tenants and in a view.
	tenants []*Server
	// tenant is the view's tenant id; "" for the Server New returns.
	tenant string
	// demo is what StartDemoServers started, shared by the Server New
	// returned and its tenant views; nil before.
	demo *demoStack
}

// New starts an IdP on a free loopback port and stops it when the test
// ends. A configuration with problems fails the test with every problem,
// each with its line.
func New(t TB, opts ...Option) *Server {
	t.Helper()
	o := options{yaml: fixtures.Demo, name: fixtures.DemoFile}
	for _, opt := range opts {
		opt(&o)
	}
	if o.problem != nil {
		t.Fatalf("idptest.New: %v", o.problem)
	}
	var cfg *policy.Config
	var err error
	if o.config != nil {
		cfg, err = revalidate(o.config)
	} else {
		cfg, err = policy.Parse(o.yaml, o.name)
	}
	if err != nil {
		t.Fatalf("idptest.New: the configuration has problems:\n%v", err)
	}
	clock := idp.NewClock(nil)
	log, err := audit.Open(audit.Options{Now: clock.Now})
	if err != nil {
		t.Fatalf("idptest.New: audit log: %v", err)
	}
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	fail := func(err error) {
		ts.Close()
		log.Close()
		t.Fatalf("idptest.New: %v", err)
	}
	if len(cfg.Tenants) == 0 {
		srv, err := idp.New(idp.Options{Config: cfg, Issuer: base, Audit: log, Clock: clock})
		if err != nil {
			fail(err)
		}
		pusher, err := newPusher(srv, cfg)
		if err != nil {
			srv.Close()
			fail(err)
		}
		ts.Config.Handler = app.New(app.Options{IdP: srv, Push: pusher})
		ts.Start()
		t.Cleanup(func() {
			ts.Close()
			pusher.Close()
			srv.Close()
			log.Close()
		})
		return &Server{t: t, idp: srv, http: ts, log: log, push: pusher}
	}
	root := &Server{t: t, http: ts, log: log}
	var handlers []app.Tenant
	for _, tc := range cfg.Tenants {
		srv, err := idp.New(idp.Options{Config: tc, Tenant: tc.ID, SharedAudit: len(cfg.Tenants) > 1, OtherTenants: cfg.OtherTenants(tc, base),
			Issuer: base + tc.Path, Audit: log, Clock: clock})
		if err != nil {
			fail(fmt.Errorf("tenant %s: %w", tc.ID, err))
		}
		t.Cleanup(func() { srv.Close() })
		pusher, err := newPusher(srv, tc)
		if err != nil {
			fail(fmt.Errorf("tenant %s: %w", tc.ID, err))
		}
		t.Cleanup(pusher.Close)
		view := &Server{t: t, idp: srv, http: ts, log: log, tenant: tc.ID, push: pusher}
		if len(cfg.Tenants) > 1 {
			view.log = log.Tenant(tc.ID)
		}
		root.tenants = append(root.tenants, view)
		handlers = append(handlers, app.Tenant{IdP: srv, Push: pusher})
	}
	root.idp, root.push = root.tenants[0].idp, root.tenants[0].push
	ts.Config.Handler = app.Tenants(handlers)
	ts.Start()
	// Registered last, run first: the listener closes before the tenants'
	// IdPs stop and the log closes.
	t.Cleanup(func() { log.Close() })
	t.Cleanup(ts.Close)
	return root
}

// Tenant returns the view of the tenant with this id, for a configuration
// with tenants: its helpers act on that tenant alone (its issuer, users,
// clients, configuration and audit events). An unknown id, or a
// configuration without tenants, fails the test.
func (s *Server) Tenant(id string) *Server {
	s.t.Helper()
	for _, v := range s.tenants {
		if v.tenant == id {
			return v
		}
	}
	if len(s.tenants) == 0 {
		s.t.Fatalf("idptest: Tenant(%q): the configuration has no tenants", id)
	} else {
		s.t.Fatalf("idptest: Tenant(%q): no such tenant; the tenants are %s", id, strings.Join(s.TenantIDs(), ", "))
	}
	return nil
}

// TenantIssuer returns the issuer of the tenant with this id: the test
// server's URL followed by the tenant's path.
func (s *Server) TenantIssuer(id string) string {
	s.t.Helper()
	return s.Tenant(id).Issuer()
}

// TenantIDs lists the tenants' ids in file order; nil without tenants.
func (s *Server) TenantIDs() []string {
	var ids []string
	for _, v := range s.tenants {
		ids = append(ids, v.tenant)
	}
	return ids
}

// Issuer returns the IdP's issuer URL, which is also its base URL:
// discovery is at Issuer()+"/.well-known/openid-configuration" and the
// admin API under Issuer()+"/admin/api/".
func (s *Server) Issuer() string { return s.idp.Issuer() }

// URL returns the test server's base URL: the issuer of a configuration
// without tenants, the URL each tenant's path follows in one with them.
func (s *Server) URL() string { return s.http.URL }

// IdP returns the IdP itself, for what this package does not wrap (key
// rotation, for one).
func (s *Server) IdP() *idp.Server { return s.idp }

// Config returns the running configuration.
func (s *Server) Config() *policy.Config { return s.idp.Config() }

// Clock returns the IdP's clock. Freeze, Set and Advance it to test expiry
// without sleeping: every token the IdP issues and every subject token it
// checks follows it.
func (s *Server) Clock() *idp.Clock { return s.idp.Clock() }

// SetConfig replaces the running configuration, as the admin API and a
// configuration reload do: config is YAML text (a string or []byte) or a
// *policy.Config, validated like a file. A configuration with problems
// fails the test and leaves the running one in place. After
// StartDemoServers, the demo MCP servers' URLs in the new configuration are
// mapped to where they are served, as they were in the first.
func (s *Server) SetConfig(config any) {
	s.t.Helper()
	var cfg *policy.Config
	var err error
	switch c := config.(type) {
	case string:
		cfg, err = policy.Parse([]byte(c), "config.yaml")
	case []byte:
		cfg, err = policy.Parse(c, "config.yaml")
	case *policy.Config:
		if c == nil {
			s.t.Fatalf("idptest: SetConfig(nil)")
		}
		cfg, err = revalidate(c)
	default:
		s.t.Fatalf("idptest: SetConfig takes YAML text (string or []byte) or a *policy.Config, not %T", config)
	}
	if err != nil {
		s.t.Fatalf("idptest: SetConfig: the configuration has problems:\n%v", err)
	}
	s.setConfig(cfg)
}

// newPusher starts the revocation push of an IdP, as serve does.
func newPusher(srv *idp.Server, cfg *policy.Config) (*push.Pusher, error) {
	return push.New(push.Options{Issuer: srv.Issuer(), Signer: srv, Audit: srv.Audit(), Config: cfg, Now: srv.Now})
}

// setConfig maps the configuration's MCP server URLs to the demo servers,
// if they run, and swaps it in.
func (s *Server) setConfig(cfg *policy.Config) {
	s.t.Helper()
	if len(cfg.Tenants) > 0 {
		s.t.Fatalf("idptest: SetConfig: the configuration has tenants; replace one tenant's with Tenant(id).SetConfig")
	}
	if id := s.idp.Tenant(); id != "" {
		// A tenant's own configuration, as under tenants: (its id and
		// path are the running tenant's).
		cp := *cfg
		cp.ID, cp.Path = id, s.idp.Path()
		cfg = &cp
	}
	if s.origins != nil {
		var err error
		if cfg, err = revalidate(moveServers(cfg, s.origins)); err != nil {
			s.t.Fatalf("idptest: SetConfig: the configuration has problems once its MCP servers are moved to the demo servers' ports:\n%v", err)
		}
	}
	s.idp.SetConfig(cfg)
	// As serve's store hands each new configuration to its push
	// (app.Options.Push): the revocations it brings are queued, and the
	// entries expired in it audited, before SetConfig returns.
	_ = s.push.ConfigChanged(cfg)
	if s.demo != nil {
		s.demo.follow(s.t)
	}
}

// Audit returns the audit events the filter selects, newest first (at most
// audit.DefaultLimit unless the filter's Limit says otherwise).
func (s *Server) Audit(f audit.Filter) []audit.Event {
	return s.log.Query(f)
}

// InjectFault makes the token endpoint (or, with Endpoint, the JWKS,
// discovery or userinfo) misbehave as the fault says, until it has fired
// Times times (forever for 0) or is removed; it returns the fault's id. The fault is validated against the running configuration;
// one with problems fails the test.
func (s *Server) InjectFault(f policy.Fault) string {
	s.t.Helper()
	added, err := s.idp.AddFaults(f)
	if err != nil {
		s.t.Fatalf("idptest: InjectFault: %v", err)
	}
	return added[0].ID
}

// Faults returns the active faults with how often each has fired.
func (s *Server) Faults() []idp.FaultStatus { return s.idp.Faults() }

// RemoveFault removes one fault; ClearFaults removes them all.
func (s *Server) RemoveFault(id string) bool { return s.idp.RemoveFault(id) }

// ClearFaults removes every fault, the configuration's included.
func (s *Server) ClearFaults() { s.idp.ClearFaults() }

// revalidate runs a configuration built (or changed) in Go through the
// file's validation, with defaults filled in, by way of its JSON form
// (JSON is YAML, and the JSON form omits what was left empty).
func revalidate(c *policy.Config) (*policy.Config, error) {
	cp := *c
	// A tenant's id and path are only valid under tenants:, so the
	// tenant is checked as a file of its own and given them back.
	id, path := cp.ID, cp.Path
	cp.ID, cp.Path = "", ""
	for _, d := range []struct {
		v   *policy.Duration
		def time.Duration
	}{
		{&cp.Lifetimes.IDToken, policy.DefaultIDTokenLifetime},
		{&cp.Lifetimes.AccessToken, policy.DefaultAccessLifetime},
		{&cp.Lifetimes.RefreshToken, policy.DefaultRefreshLifetime},
		{&cp.Lifetimes.IDJAG, policy.DefaultIDJAGLifetime},
	} {
		if *d.v == 0 {
			*d.v = policy.Duration(d.def)
		}
	}
	data, err := json.MarshalIndent(&cp, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("the configuration cannot be encoded: %w", err)
	}
	out, err := policy.Parse(data, "(*policy.Config as JSON)")
	if err == nil && id != "" {
		out.ID, out.Path = id, path
	}
	return out, err
}
