// Package demo is the zero-touch demo stack: one authorization server and
// one MCP server per MCP server of the IdP's configuration. It is the only
// place where the resource side meets the IdP's configuration; the servers
// themselves know the IdP by its issuer and JWKS alone, as any MCP
// authorization server would.
package demo

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/internal/cimd"
	"github.com/xaa-idp/xaa-idp/internal/jwkset"
	"github.com/xaa-idp/xaa-idp/policy"
	"github.com/xaa-idp/xaa-idp/resource/authserver"
	"github.com/xaa-idp/xaa-idp/resource/mcpserver"
)

// Service is one listener of the demo stack: an authorization server
// or an MCP server, at the address its URL in the configuration names.
type Service struct {
	Server  string // the MCP server's id in the configuration
	Role    string // "authorization server" or "MCP server"
	URL     string // its issuer, or its MCP endpoint
	Path    string // where URL is in the configuration (mcp_servers[0].issuer), for a ConfigError
	Addr    string // host:port to listen on
	Handler http.Handler

	follow *started // an authorization server's, for Follow; nil for an MCP server
}

// Stack builds, for every MCP server of cfg, its authorization server and
// the MCP server behind it, each on the loopback address its issuer and
// first resource name. The IdP is at base: the issuer of a file without
// tenants, or the base URL that each tenant's path follows (so a tenant's
// issuer is base + path, and its JWKS is at <issuer>/keys).
//
// Tenants that list the same MCP server (the same issuer) share one
// authorization server, which trusts the issuers of those tenants and no
// other (docs/http.md, "Demo authorization servers", trusted_issuers). Each IdP client that the
// server maps is registered there under its mapped client_id with the
// secret and redirect URIs it has at its IdP (public clients stay public),
// and with the public keys of its jwks, so that a private_key_jwt client
// authenticates there with its key as at the IdP (and not with its
// client_id alone),
// so one set of demo credentials works on both sides; policy validation
// makes sure that two tenants mapping one client_id at one server agree
// on its secret. Each MCP server gets introspection credentials at its
// authorization server: client_id "mcp-server-" + its id, secret that plus
// "-secret" (IntrospectionCredentials). Clients with metadata documents
// are resolved with the cimd sections of the tenants that list the server
// (cimdConfig), so the server fetches the documents those IdPs may fetch,
// and it knows them only while a clients map names them. The server's
// subject key picks the subject mapping, each ID-JAG's user looked up
// among the users of the tenant whose issuer signed it (a user is its
// tenant's issuer and its sub, so two tenants' users with one sub are two
// users there), and its allow_id_jag_reuse key whether an ID-JAG it
// redeemed is redeemed again (tenants that list it must agree on both).
//
// now is the IdP's clock (idp.Server.Now; nil means time.Now), which the
// authorization servers and MCP servers follow too: the demo runs on one
// clock, so that when an admin moves the IdP's clock (serve --clock, PUT
// /admin/api/clock) the SETs and ID-JAGs it then signs are neither in the
// future nor expired for the servers that judge them.
//
// [Follow] makes the authorization servers follow a later configuration.
// With the option [StateDir] each authorization server keeps the jti
// values it has seen in a file there; [Close] closes those files.
func Stack(cfg *policy.Config, base string, now func() time.Time, opts ...Option) (_ []Service, err error) {
	if now == nil {
		now = time.Now
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	base = strings.TrimSuffix(base, "/")
	shared := merge(cfg, base)
	for _, ss := range shared {
		if ss.err != nil {
			return nil, ss.err
		}
	}
	var out []Service
	defer func() {
		if err != nil {
			Close(out) // the files of the servers made before the error
		}
	}()
	seen := map[string]string{}
	claim := func(svc Service) error {
		if other, dup := seen[svc.Addr]; dup {
			return &ConfigError{Path: svc.Path, Err: fmt.Errorf("%s and %s both want %s; give each its own port", other, svc.Server+" "+svc.Role, svc.Addr)}
		}
		seen[svc.Addr] = svc.Server + " " + svc.Role
		out = append(out, svc)
		return nil
	}
	for _, ss := range shared {
		s := ss.first
		var resolver *cimd.Resolver
		if cc, on := ss.cimdConfig(); on {
			resolver = cimd.New(cc, nil)
		}
		asAddr, err := hostPort(s.Issuer)
		if err != nil {
			return nil, &ConfigError{Path: ss.firstPath + ".issuer", Err: fmt.Errorf("server %s issuer: %w", s.ID, err)}
		}
		replayFile := ""
		if o.stateDir != "" {
			replayFile = filepath.Join(o.stateDir, ReplayFileName(asAddr))
		}
		rsID, rsSecret := IntrospectionCredentials(s.ID)
		if clash := s.IntrospectionClashes(); len(clash) > 0 {
			// authserver.New refuses it in its own terms, at the
			// server's line; this is check's warning, at the mapping.
			return nil, &ConfigError{Path: ss.firstPath + ".clients." + clash[0], Err: errors.New(policy.IntrospectionClash(s, clash[0]) + "; map it to another client_id")}
		}
		reg := ss.registration()
		as, err := authserver.New(authserver.Config{
			Issuer:          s.Issuer,
			TrustedIssuers:  reg.TrustedIssuers,
			Resources:       s.Resources,
			Scopes:          reg.Scopes,
			Clients:         reg.Clients,
			ClientKeys:      reg.ClientKeys,
			RedirectURIs:    reg.RedirectURIs,
			ResourceServers: map[string]string{rsID: rsSecret},
			CIMD:            resolver,
			// The clients maps decide, now as at every edit (Follow),
			// which metadata-document clients the server knows.
			CIMDRegisteredOnly: true,
			Subject:            s.Subject,
			Users:              reg.Users,
			AllowReplay:        reg.AllowReplay,
			MaxIDJAGLifetime:   reg.MaxIDJAGLifetime,
			ReplayFile:         replayFile,
			Now:                now,
		})
		if err != nil {
			if _, file := errors.AsType[*fs.PathError](err); file {
				// The state directory's file, not the configuration.
				return nil, fmt.Errorf("demo: server %s: %w", s.ID, err)
			}
			return nil, &ConfigError{Path: ss.firstPath, Err: fmt.Errorf("server %s: %w", s.ID, err)}
		}
		st := &started{as: as, id: s.ID, issuer: issuerKey(s.Issuer), resources: slices.Clone(s.Resources),
			subject: s.Subject, mcpScopes: as.Scopes(), base: base, cimdOn: ss.cimdOn, cimdAllow: ss.cimdAllow, cimdPrivate: ss.cimdPrivate}
		if err := claim(Service{Server: s.ID, Role: "authorization server", URL: s.Issuer, Path: ss.firstPath + ".issuer", Addr: asAddr, Handler: as, follow: st}); err != nil {
			_ = as.Close()
			return nil, err
		}
		mcp, err := mcpserver.New(mcpserver.Config{
			ID: s.ID, Name: s.Name, Resource: s.Resources[0],
			Verifier: as, AuthServerIssuer: as.Issuer(), Scopes: st.mcpScopes, Now: now,
		})
		if err != nil {
			return nil, &ConfigError{Path: ss.firstPath, Err: fmt.Errorf("server %s: %w", s.ID, err)}
		}
		mcpAddr, err := hostPort(s.Resources[0])
		if err != nil {
			return nil, &ConfigError{Path: ss.firstPath + ".resources[0]", Err: fmt.Errorf("server %s resource: %w", s.ID, err)}
		}
		if err := claim(Service{Server: s.ID, Role: "MCP server", URL: s.Resources[0], Path: ss.firstPath + ".resources[0]", Addr: mcpAddr, Handler: mcp}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Option is an option of [Stack].
type Option func(*options)

type options struct {
	stateDir string
}

// StateDir keeps, in dir (the IdP's --state-dir), the jti values each
// authorization server has seen, in the file [ReplayFileName] names
// (authserver.Config.ReplayFile): the IdP's signing keys outlive a
// restart there, and so do the ID-JAGs they signed, which must stay
// redeemed. "" keeps them in memory only.
func StateDir(dir string) Option { return func(o *options) { o.stateDir = dir } }

// ReplayFileName is the name of the file, in the state directory, of the
// demo authorization server that listens at addr (host:port; each has an
// address of its own): authserver-<host>_<port>.jsonl, each character of
// the host other than a letter, a digit, "." or "-" written as "_".
func ReplayFileName(addr string) string {
	b := []byte(addr)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			b[i] = '_'
		}
	}
	return "authserver-" + string(b) + ".jsonl"
}

// Close closes the files the authorization servers of stack keep in the
// state directory ([StateDir]).
func Close(stack []Service) {
	for _, svc := range stack {
		if svc.follow != nil {
			_ = svc.follow.as.Close()
		}
	}
}

// started is a demo authorization server as Stack built it: what Follow
// replaces, and what it compares a new configuration with to say what
// only a restart changes.
type started struct {
	as        *authserver.Server
	id        string   // the MCP server's id
	issuer    string   // as issuerKey has it
	resources []string // fixed in the authorization server and the MCP server
	subject   string   // fixed in the authorization server
	mcpScopes []string // the MCP server's scopes_supported and tool scopes, fixed
	cimdOn    bool     // the authorization server resolves metadata documents, fixed
	cimdAllow []string // with these allow patterns, fixed
	// cimdPrivate: and these allow_private patterns, fixed.
	cimdPrivate []string
	base        string // the IdP's base URL, as Stack had it
}

// Follow makes the demo authorization servers of stack, as Stack returned
// it, follow cfg, the configuration running now: each trusts the tenants
// that list its MCP server now, with the scopes, clients (their secrets
// and redirect URIs) and users they have now, merged as Stack merges them,
// and accepts a redeemed ID-JAG again as allow_id_jag_reuse says now.
// An authorization server that no tenant lists any more refuses every
// grant. Access tokens issued before stay valid until they expire
// (authserver.Server.Update); the revocation push ends a user's access
// at once.
//
// It returns, one sentence each, what it could not follow, which takes a
// restart of the demo: an MCP server new to cfg (it needs listeners of its
// own), an issuer, resources, subject mapping or, for the MCP server, scopes
// changed. An authorization server whose new registration the demo cannot
// accept (say two tenants with two subject mappings for it, which Stack
// refuses) is left as it was, and that is returned too. Calls must not overlap.
func Follow(stack []Service, cfg *policy.Config) []string {
	var running []*started
	for _, svc := range stack {
		if svc.follow != nil {
			running = append(running, svc.follow)
		}
	}
	if len(running) == 0 {
		return nil
	}
	shared := merge(cfg, running[0].base)
	byIssuer := map[string][]*sharedServer{}
	for _, ss := range shared {
		byIssuer[issuerKey(ss.first.Issuer)] = append(byIssuer[issuerKey(ss.first.Issuer)], ss)
	}
	var warnings []string
	warn := func(format string, args ...any) { warnings = append(warnings, fmt.Sprintf(format, args...)) }
	for _, st := range running {
		found := byIssuer[st.issuer]
		switch {
		case len(found) == 0:
			// Update checks only the entries of a registration, and this
			// one has none.
			_ = st.as.Update(authserver.Registration{})
			warn("demo: no MCP server of the configuration has the issuer %s any more, so its authorization server (started for %s) now refuses every grant; its listeners stay until the demo restarts", st.issuer, st.id)
			continue
		case len(found) > 1:
			of := ""
			if found[1].owner != "" {
				of = " of tenant " + found[1].owner
			}
			warn("demo: MCP servers %s and %s%s both have the issuer %s, and one authorization server cannot be both; it keeps the configuration it had", found[0].first.ID, found[1].first.ID, of, st.issuer)
			continue
		case found[0].err != nil:
			warn("%v; the authorization server at %s keeps the configuration it had", found[0].err, st.issuer)
			continue
		}
		ss := found[0]
		if err := st.as.Update(ss.registration()); err != nil {
			warn("demo: server %s: %v; the authorization server at %s keeps the configuration it had", ss.first.ID, err, st.issuer)
			continue
		}
		if !slices.Equal(ss.first.Resources, st.resources) {
			warn("demo: server %s: its resources are now %s, but the demo serves %s until it restarts", ss.first.ID, strings.Join(ss.first.Resources, ", "), strings.Join(st.resources, ", "))
		}
		if findsUsersBy(ss.first.Subject) != findsUsersBy(st.subject) {
			warn("demo: server %s: its subject is now %q, but its authorization server finds users by %s until the demo restarts", ss.first.ID, ss.first.Subject, findsUsersBy(st.subject))
		}
		if ss.cimdOn != st.cimdOn || !slices.Equal(ss.cimdAllow, st.cimdAllow) || !slices.Equal(ss.cimdPrivate, st.cimdPrivate) {
			warn("demo: server %s: the cimd sections of the tenants that list it changed, but its authorization server resolves metadata documents as before until the demo restarts", ss.first.ID)
		}
		if !slices.Equal(ss.scopes, st.mcpScopes) {
			warn("demo: server %s: its authorization server grants the scopes %s now, but its MCP server keeps the scopes_supported and tool scopes %s until the demo restarts", ss.first.ID, strings.Join(ss.scopes, " "), strings.Join(st.mcpScopes, " "))
		}
	}
	served := map[string]bool{}
	for _, st := range running {
		served[st.issuer] = true
	}
	for _, ss := range shared {
		if served[issuerKey(ss.first.Issuer)] {
			continue
		}
		moved := slices.IndexFunc(running, func(st *started) bool { return st.id == ss.first.ID })
		if moved >= 0 {
			warn("demo: server %s: its issuer is now %s, but the demo serves its authorization server at %s until it restarts", ss.first.ID, ss.first.Issuer, running[moved].issuer)
		} else {
			warn("demo: server %s (%s) is new; the demo serves it once it restarts", ss.first.ID, ss.first.Issuer)
		}
	}
	return warnings
}

// issuerKey is the issuer that an MCP server's entries share, so that
// they share one authorization server.
func issuerKey(issuer string) string { return strings.TrimSuffix(issuer, "/") }

// merge groups the MCP servers of every tenant of cfg by issuer into the
// demo authorization servers, in the order of first appearance. A server
// whose entries cannot be merged has err set, and no more entries merged.
func merge(cfg *policy.Config, base string) []*sharedServer {
	var shared []*sharedServer
	byIssuer := map[string]*sharedServer{}
	for ti, t := range cfg.IdPs() {
		issuer := base + t.Path
		prefix := ""
		if len(cfg.Tenants) > 0 {
			prefix = fmt.Sprintf("tenants[%d].", ti)
		}
		for i := range t.MCPServers {
			s := &t.MCPServers[i]
			path := fmt.Sprintf("%smcp_servers[%d]", prefix, i)
			key := issuerKey(s.Issuer)
			ss := byIssuer[key]
			// Two servers of one tenant on one issuer are two services
			// on one address, which Stack refuses and Follow reports.
			if ss == nil || ss.last == t {
				ss = &sharedServer{first: s, firstPath: path, clients: map[string]string{}, keys: map[string][]jose.JSONWebKey{}, public: map[string]bool{}, redirects: map[string][]string{}}
				byIssuer[key] = ss
				shared = append(shared, ss)
			}
			if ss.err == nil {
				ss.err = ss.add(t, s, issuer, path)
			}
		}
	}
	return shared
}

// sharedServer is one demo authorization server: an MCP server as every
// tenant that lists it (by its issuer) configures it.
type sharedServer struct {
	first     *policy.MCPServer // the first tenant's entry: id, name, resources, subject, allow_id_jag_reuse
	firstPath string            // where first is in the file: mcp_servers[i], tenants[t].mcp_servers[i]
	owner     string            // the tenant of first, for errors
	last      *policy.Config    // the tenant added last
	err       error             // why the entries cannot be merged
	trusted   []authserver.TrustedIssuer
	scopes    []string
	clients   map[string]string            // client_id at the server -> secret at the IdP
	keys      map[string][]jose.JSONWebKey // client_id at the server -> public keys of the jwks at the IdP
	public    map[string]bool              // client_id at the server -> a public IdP client maps to it
	redirects map[string][]string          // client_id at the server -> redirect URIs
	users     []authserver.User
	// maxLife is the longest ID-JAG lifetime of the tenants that list
	// the server, or authserver.DefaultMaxIDJAGLifetime if longer: the
	// server redeems every ID-JAG they issue, and refuses what lives
	// longer.
	maxLife   time.Duration
	cimdOn    bool     // some tenant that lists the server has metadata documents on
	cimdAllow []string // the allow patterns of those tenants, each once
	// cimdPrivate are the allow_private patterns of those tenants, each
	// once.
	cimdPrivate []string
}

// cimdConfig is how the authorization server of ss resolves metadata
// document clients: as the IdPs that list its MCP server do (docs/configuration.md,
// "`cimd`"), any document one of them may fetch. on is false when none
// of them accepts such clients: then neither does the server.
func (ss *sharedServer) cimdConfig() (cfg cimd.Config, on bool) {
	return cimd.Config{Enabled: true, Allow: ss.cimdAllow, AllowPrivate: ss.cimdPrivate, TokenExchange: true}, ss.cimdOn
}

// registration is what the authorization server of ss registers.
func (ss *sharedServer) registration() authserver.Registration {
	// A client_id that a public IdP client maps to stays public, whatever
	// the keys of another client mapped to it.
	keys := maps.Clone(ss.keys)
	maps.DeleteFunc(keys, func(id string, _ []jose.JSONWebKey) bool { return ss.public[id] })
	return authserver.Registration{
		TrustedIssuers: ss.trusted, Scopes: ss.scopes, Clients: ss.clients, ClientKeys: keys, RedirectURIs: ss.redirects, Users: ss.users,
		AllowReplay: ss.first.AllowIDJAGReuse, MaxIDJAGLifetime: ss.maxLife,
	}
}

// ConfigError is a configuration the demo cannot serve although it is
// valid (xaa-idp check accepts it): Path says where in the file, as
// policy.Line takes it, so that the message can name the line to change.
// Else, for two values that disagree, is where the other one is: the line
// to name when the file leaves Path's to its default (policy.Written), so
// that the message names the value written, not the other entry.
type ConfigError struct {
	Path string
	Else string
	Err  error
}

func (e *ConfigError) Error() string { return "demo: " + e.Err.Error() }

func (e *ConfigError) Unwrap() error { return e.Err }

// add merges the entry s of the server in tenant t, whose issuer is
// issuer; path is where s is in the file.
func (ss *sharedServer) add(t *policy.Config, s *policy.MCPServer, issuer, path string) error {
	if len(ss.trusted) == 0 {
		ss.owner = t.ID
	} else if s.Issuer != ss.first.Issuer {
		// One authorization server has one issuer, the aud it accepts:
		// the other spelling's ID-JAGs would all be refused.
		return &ConfigError{Path: path + ".issuer", Err: fmt.Errorf("tenants %s and %s list the MCP server at %s as %s and %s; its one authorization server has one issuer, the aud of every ID-JAG it accepts, so spell it the same way in both (with or without the trailing \"/\")", ss.owner, t.ID, issuerKey(s.Issuer), ss.first.Issuer, s.Issuer)}
	} else if findsUsersBy(s.Subject) != findsUsersBy(ss.first.Subject) {
		// Compared as the server reads them: no subject is subject: sub.
		return &ConfigError{Path: path + ".subject", Else: ss.firstPath + ".subject", Err: fmt.Errorf("tenants %s and %s list the MCP server at %s with subject %q and %q; its one authorization server maps subjects one way, so give both the same subject", ss.owner, t.ID, s.Issuer, findsUsersBy(ss.first.Subject), findsUsersBy(s.Subject))}
	} else if s.AllowIDJAGReuse != ss.first.AllowIDJAGReuse {
		return &ConfigError{Path: path + ".allow_id_jag_reuse", Else: ss.firstPath + ".allow_id_jag_reuse", Err: fmt.Errorf("tenants %s and %s list the MCP server at %s with allow_id_jag_reuse %t and %t; its one authorization server either accepts a redeemed ID-JAG again or refuses it, so give both the same allow_id_jag_reuse", ss.owner, t.ID, s.Issuer, ss.first.AllowIDJAGReuse, s.AllowIDJAGReuse)}
	}
	ss.last = t
	ss.maxLife = max(ss.maxLife, authserver.DefaultMaxIDJAGLifetime, t.Lifetimes.IDJAG.D())
	if t.CIMD.On() {
		ss.cimdOn = true
		if ss.cimdAllow == nil {
			// Not nil: an empty list allows nothing, nil the defaults.
			ss.cimdAllow = []string{}
		}
		for _, p := range t.CIMD.Patterns() {
			if !slices.Contains(ss.cimdAllow, p) {
				ss.cimdAllow = append(ss.cimdAllow, p)
			}
		}
		for _, p := range t.CIMD.AllowPrivate {
			if !slices.Contains(ss.cimdPrivate, p) {
				ss.cimdPrivate = append(ss.cimdPrivate, p)
			}
		}
	}
	ss.trusted = append(ss.trusted, authserver.TrustedIssuer{Issuer: issuer, JWKSURL: issuer + "/keys"})
	for _, sc := range s.Scopes {
		if !slices.Contains(ss.scopes, sc) {
			ss.scopes = append(ss.scopes, sc)
		}
	}
	for idpClient, atServer := range s.Clients {
		secret := ""
		if c := t.Client(idpClient); c != nil {
			secret = c.ClientSecret
			if c.Public() {
				ss.public[atServer] = true
			} else if len(c.JWKS) > 0 {
				// Keys the server cannot use are left out (jwkset.Public),
				// as the IdP verifies with none of them: the client stays
				// one that authenticates with a key, not a public one.
				raw, _ := json.Marshal(c.JWKS)
				keys, _, _ := jwkset.Public(raw)
				ss.keys[atServer] = append(ss.keys[atServer], keys...)
			}
			for _, u := range c.RedirectURIs {
				if !slices.Contains(ss.redirects[atServer], u) {
					ss.redirects[atServer] = append(ss.redirects[atServer], u)
				}
			}
		}
		ss.clients[atServer] = secret
	}
	for _, u := range t.Users {
		ss.users = append(ss.users, authserver.User{Issuer: issuer, Username: u.Username, Sub: u.Sub, Email: u.Email})
	}
	return nil
}

// findsUsersBy is what an authorization server with the subject key
// subject finds users by: "sub" or "email".
func findsUsersBy(subject string) string {
	if subject == policy.SubjectEmail {
		return "email"
	}
	return "sub"
}

// EventsEndpoints returns where the IdP pushes each server's Security
// Event Tokens in the demo (package push, Options.Endpoint): the server's
// events_endpoint when it has one, else the /events endpoint of the demo
// authorization server that Stack builds for it from cfg, else nowhere.
func EventsEndpoints(cfg *policy.Config) func(*policy.MCPServer) string {
	served := map[string]string{} // server id -> issuer of its demo authorization server
	for _, s := range cfg.MCPServers {
		served[s.ID] = s.Issuer
	}
	return func(s *policy.MCPServer) string {
		if s.EventsEndpoint != "" {
			return s.EventsEndpoint
		}
		if iss, ok := served[s.ID]; ok && iss == s.Issuer {
			return strings.TrimSuffix(iss, "/") + "/events"
		}
		return ""
	}
}

// hostPort is the address a URL's server listens on, with the scheme's
// default port when the URL has none.
func hostPort(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	// The demo serves its servers itself, on this machine: a URL of
	// another host (an authorization server of your own, say) cannot be
	// listened on, and would fail with a DNS or bind error that says
	// nothing of why.
	if !LoopbackHost(u.Hostname()) {
		return "", fmt.Errorf("%s is not a loopback URL (127.0.0.1, localhost or [::1]); the demo serves each MCP server's authorization server and MCP endpoint itself, on loopback: give it a loopback URL, or leave the server out of the file given to demo", raw)
	}
	if u.Port() != "" {
		return u.Host, nil
	}
	if u.Scheme == "https" {
		return u.Host + ":443", nil
	}
	return u.Host + ":80", nil
}

// LoopbackHost reports whether a URL's host is one the demo serves on:
// localhost or a loopback address (any of 127.0.0.0/8, ::1).
func LoopbackHost(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// IntrospectionCredentials are the client_id and secret the MCP server
// with the given id has at its demo authorization server, for RFC 7662
// introspection. They are fixed so that they can be documented
// (docs/http.md); this is a demo.
func IntrospectionCredentials(serverID string) (clientID, secret string) {
	clientID = policy.IntrospectionClientID(serverID)
	return clientID, clientID + "-secret"
}
