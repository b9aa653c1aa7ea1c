package admin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/internal/redact"
	"github.com/xaa-idp/xaa-idp/policy"
)

// ServerView is an MCP server as GET /admin/api/servers lists it: the
// configuration's keys, and the server's ETag for a change.
type ServerView struct {
	policy.MCPServer
	ETag string `json:"etag"`
}

func (a *API) listServers(w http.ResponseWriter, _ *http.Request) {
	cfg, tag := a.view()
	out := make([]ServerView, len(cfg.MCPServers))
	for i := range cfg.MCPServers {
		s := &cfg.MCPServers[i]
		out[i] = ServerView{MCPServer: *serverJSON(s), ETag: etag(policy.ServerVersion(s))}
	}
	w.Header().Set("ETag", tag)
	writeAPI(w, http.StatusOK, out)
}

// getServer answers one MCP server, with the ETag that PUT .../access,
// .../deny and the server itself take in If-Match.
func (a *API) getServer(w http.ResponseWriter, r *http.Request) {
	s := a.serverOr404(w, r)
	if s == nil {
		return
	}
	w.Header().Set("ETag", etag(policy.ServerVersion(s)))
	writeAPI(w, http.StatusOK, serverJSON(s))
}

// getAccess answers a server's access list as PUT .../access takes it (a
// JSON array, [] when empty), with the server's own ETag: what it
// answers, sent back, changes nothing.
func (a *API) getAccess(w http.ResponseWriter, r *http.Request) {
	if s := a.serverOr404(w, r); s != nil {
		writeServerList(w, s, s.Access)
	}
}

// getDeny answers a server's deny list as getAccess does its access list.
func (a *API) getDeny(w http.ResponseWriter, r *http.Request) {
	if s := a.serverOr404(w, r); s != nil {
		writeServerList(w, s, s.Deny)
	}
}

// writeServerList answers list, one of s's lists, [] when empty, with
// s's ETag.
func writeServerList[T any](w http.ResponseWriter, s *policy.MCPServer, list []T) {
	if list == nil {
		list = []T{}
	}
	w.Header().Set("ETag", etag(policy.ServerVersion(s)))
	writeAPI(w, http.StatusOK, list)
}

// serverOr404 is the MCP server the path's {id} names; it answers 404
// naming it and returns nil when there is none.
func (a *API) serverOr404(w http.ResponseWriter, r *http.Request) *policy.MCPServer {
	id := r.PathValue("id")
	s := a.cfg().Server(id)
	if s == nil {
		writeAPIError(w, http.StatusNotFound, "not_found", fmt.Sprintf("there is no MCP server %q", id))
	}
	return s
}

// serverJSON is s as the API answers it: an access list emptied by a PUT
// of [] reads back as [], not as null (the configuration holds no list),
// and a receiver's password in events_endpoint is masked (redact.URL).
func serverJSON(s *policy.MCPServer) *policy.MCPServer {
	if s == nil || s.Access != nil && redact.URL(s.EventsEndpoint) == s.EventsEndpoint {
		return s
	}
	c := *s
	if c.Access == nil {
		c.Access = []policy.Access{}
	}
	c.EventsEndpoint = redact.URL(s.EventsEndpoint)
	return &c
}

// UserView is a user as GET /admin/api/users shows it: the configuration's
// keys without the password, and the user's effective access to every MCP
// server.
type UserView struct {
	policy.User
	Access []ServerAccess `json:"access"`
}

// ServerAccess is a user's effective access to one MCP server: what a token
// exchange would get right after a login (so step-up rules are met),
// through each client the server lists, computed by the policy engine.
type ServerAccess struct {
	Server  string `json:"server"`
	Name    string `json:"name,omitempty"`
	Allowed bool   `json:"allowed"`
	// Decision is "allowed", or the error a token exchange would get
	// (also in Error).
	Decision string `json:"decision"`
	Error    string `json:"error,omitempty"`
	// Scopes are those granted through any client; Clients are the clients
	// that get access.
	Scopes  []string `json:"scopes,omitempty"`
	Clients []string `json:"clients,omitempty"`
	// Rule and Reason explain the decision: of the first client with
	// access, or of the most telling refusal.
	Rule     string           `json:"rule,omitempty"`
	Reason   string           `json:"reason"`
	ByClient []ClientDecision `json:"by_client"`
}

// ClientDecision is the decision for one user, server and client.
type ClientDecision struct {
	ClientID string   `json:"client_id"`
	Allowed  bool     `json:"allowed"`
	Error    string   `json:"error,omitempty"`
	Scopes   []string `json:"scopes,omitempty"`
	Rule     string   `json:"rule,omitempty"`
	Reason   string   `json:"reason"`
}

// The page sizes of GET /admin/api/users. Each user costs a decision per
// MCP server and client the server lists (by_client), about 350 bytes of
// answer each: a company's 300 servers of 5 clients make half a megabyte a
// user. The default page is DefaultUsersLimit users, fewer when they would
// cost more than DefaultUsersDecisions decisions (about 17 MB of answer): a
// file of at most 1,000 users on a few servers is answered whole, as before
// paging, and a company's is read a page at a time, with after= and the
// Link header. A limit asked for is granted up to MaxUsersLimit; the answer
// is written a user at a time, so its size does not reach memory.
const (
	DefaultUsersLimit     = 1000
	MaxUsersLimit         = 1000
	DefaultUsersDecisions = 50_000
)

// UsersQuery is a page of GET /admin/api/users: at most Limit users
// (for 0, the default page: see DefaultUsersDecisions; capped at
// MaxUsersLimit) after the user named After ("" for the first), in the
// file's order; or, with User, that user alone, wherever After is (which
// must still name a user).
type UsersQuery struct {
	After, User string
	Limit       int
	// Config is the configuration to read, so that a page and what its
	// caller shows beside it are of one version; nil for the running one.
	Config *policy.Config
}

// ErrNoSuchUser is UsersPage's answer to an After that names no user: it
// was removed or renamed since the page before, and its place is gone.
var ErrNoSuchUser = errors.New("no such user")

// UsersPage answers a page of users with their groups and effective access
// per MCP server, and whether more users follow it: what GET
// /admin/api/users answers, and the console's users page shows.
func (a *API) UsersPage(q UsersQuery) (users []UserView, more bool, err error) {
	cfg := q.Config
	if cfg == nil {
		cfg, _ = a.view()
	}
	page, more, err := usersPage(cfg, q)
	if err != nil {
		return nil, false, err
	}
	users = make([]UserView, len(page))
	for i := range page {
		users[i] = a.userView(cfg, &page[i])
	}
	return users, more, nil
}

// limit is the page size q asks for in cfg: the default page for 0 (at
// most DefaultUsersLimit users and DefaultUsersDecisions decisions, at
// least one user), at most MaxUsersLimit.
func (q UsersQuery) limit(cfg *policy.Config) int {
	if q.Limit > 0 {
		return min(q.Limit, MaxUsersLimit)
	}
	perUser := 0
	for i := range cfg.MCPServers {
		perUser += max(1, len(cfg.MCPServers[i].Clients))
	}
	return max(1, min(DefaultUsersLimit, DefaultUsersDecisions/max(1, perUser)))
}

// usersPage is the users of cfg that q asks for, and whether more follow.
func usersPage(cfg *policy.Config, q UsersQuery) ([]policy.User, bool, error) {
	limit := q.limit(cfg)
	from := 0
	if q.After != "" {
		i := cfg.UserIndex(q.After)
		if i < 0 {
			return nil, false, ErrNoSuchUser
		}
		from = i + 1
	}
	users := cfg.Users[from:]
	if q.User != "" {
		// That user alone, wherever after is: a user before it in the
		// file is no less there.
		users = nil
		if i := cfg.UserIndex(q.User); i >= 0 {
			users = cfg.Users[i : i+1]
		}
	}
	more := len(users) > limit
	if more {
		users = users[:limit]
	}
	return users, more, nil
}

// usersParams are the parameters GET /admin/api/users takes.
var usersParams = []string{"limit", "after", "user"}

// listUsers answers UsersPage, with a Link to the next page when more
// users follow (RFC 8288).
func (a *API) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !knownOnly(w, q, usersParams) || !sentOnce(w, q, usersParams) {
		return
	}
	uq := UsersQuery{After: q.Get("after"), User: q.Get("user")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeAPIError(w, http.StatusBadRequest, "invalid_request", "limit must be a non-negative integer")
			return
		}
		uq.Limit = n
	}
	cfg, tag := a.view()
	users, more, err := usersPage(cfg, uq)
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "invalid_request",
			fmt.Sprintf("after names no user %q (removed or renamed since the page before?); start again without after", audit.TruncateTo(uq.After, 256)))
		return
	}
	if more && len(users) > 0 {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("after", users[len(users)-1].Username)
		next.Set("limit", strconv.Itoa(uq.limit(cfg)))
		// RFC 8288: a relative reference; under a tenant's path,
		// r.URL.Path has lost that prefix (app strips it).
		w.Header().Set("Link", "<"+requestPath(r)+"?"+next.Encode()+`>; rel="next"`)
	}
	w.Header().Set("ETag", tag)
	apiHeaders(w, http.StatusOK)
	_ = encodeAPIList(w, len(users), func(i int) any { return a.userView(cfg, &users[i]) })
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("username")
	cfg, tag := a.view()
	u := cfg.User(name)
	if u == nil {
		writeAPIError(w, http.StatusNotFound, "not_found", fmt.Sprintf("there is no user %q", name))
		return
	}
	w.Header().Set("ETag", tag)
	writeAPI(w, http.StatusOK, a.userView(cfg, u))
}

func (a *API) userView(cfg *policy.Config, u *policy.User) UserView {
	v := UserView{User: *u, Access: []ServerAccess{}}
	v.Password, v.PasswordBcrypt = "", ""
	now := a.now()
	for i := range cfg.MCPServers {
		v.Access = append(v.Access, a.effectiveAccess(cfg, u.Username, &cfg.MCPServers[i], now))
	}
	return v
}

// effectiveAccess decides, for each client that the server lists, a token
// exchange of the user right after a login at now, at this IdP (its
// issuer and the other tenants', which the exchange refuses as an
// audience).
func (a *API) effectiveAccess(cfg *policy.Config, username string, s *policy.MCPServer, now time.Time) ServerAccess {
	sa := ServerAccess{Server: s.ID, Name: s.Name, ByClient: []ClientDecision{}}
	ids := make([]string, 0, len(s.Clients))
	for id := range s.Clients {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	granted := map[string]bool{}
	var refusal *ClientDecision
	for _, id := range ids {
		req := policy.Request{Username: username, ClientID: id, Audience: s.Issuer, AuthTime: now, Now: now,
			IdPIssuer: a.idp.Issuer(), OtherTenants: a.idp.OtherTenants()}
		if cfg.Client(id) == nil && cfg.CIMD.Allows(id) {
			// A metadata document client, decided as the token exchange
			// decides it once its document resolves (policy.Explain).
			req.Client = &policy.Client{ClientID: id, TokenExchange: cfg.CIMD.Exchange()}
		}
		d := cfg.Decide(req)
		cd := ClientDecision{ClientID: id, Allowed: d.Allowed, Error: d.Error, Scopes: d.Scopes, Rule: d.Rule, Reason: d.Reason}
		sa.ByClient = append(sa.ByClient, cd)
		if d.Allowed {
			if !sa.Allowed {
				sa.Rule, sa.Reason = d.Rule, d.Reason
			}
			sa.Allowed = true
			sa.Clients = append(sa.Clients, id)
			for _, sc := range d.Scopes {
				granted[sc] = true
			}
			continue
		}
		// A refusal about the user tells more than one about a client
		// that may not use token exchange at all.
		if refusal == nil || refusal.Error == policy.ErrUnauthorizedClient && d.Error != policy.ErrUnauthorizedClient {
			refusal = &sa.ByClient[len(sa.ByClient)-1]
		}
	}
	switch {
	case sa.Allowed:
		sa.Decision = "allowed"
		for _, sc := range s.Scopes {
			if granted[sc] {
				sa.Scopes = append(sa.Scopes, sc)
			}
		}
	case refusal != nil:
		sa.Decision, sa.Error, sa.Rule, sa.Reason = refusal.Error, refusal.Error, refusal.Rule, refusal.Reason
	default:
		sa.Decision, sa.Error = policy.ErrInvalidTarget, policy.ErrInvalidTarget
		sa.Reason = fmt.Sprintf("server %s lists no clients, so no one can connect to it", s.ID)
	}
	return sa
}

// GroupView is a group with its members.
type GroupView struct {
	policy.Group
	Members []string `json:"members"`
}

func groupView(cfg *policy.Config, g *policy.Group) GroupView {
	return GroupView{Group: *g, Members: memberNames(cfg, g.Name)}
}

// memberNames are the usernames of a group's members, in the file's
// order: GroupView's Members, and a SCIM change of members' value in its
// admin_change.
func memberNames(cfg *policy.Config, group string) []string {
	names := []string{}
	for i := range cfg.Users {
		if cfg.Users[i].InGroup(group) {
			names = append(names, cfg.Users[i].Username)
		}
	}
	return names
}

func (a *API) listGroups(w http.ResponseWriter, _ *http.Request) {
	cfg, tag := a.view()
	out := make([]GroupView, len(cfg.Groups))
	for i := range cfg.Groups {
		out[i] = groupView(cfg, &cfg.Groups[i])
	}
	w.Header().Set("ETag", tag)
	writeAPI(w, http.StatusOK, out)
}

// getGroup answers one group as listGroups does, with the document's ETag,
// which its PUT and DELETE take in If-Match.
func (a *API) getGroup(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	cfg, tag := a.view()
	g := cfg.Group(name)
	if g == nil {
		writeAPIError(w, http.StatusNotFound, "not_found", fmt.Sprintf("there is no group %q", name))
		return
	}
	w.Header().Set("ETag", tag)
	writeAPI(w, http.StatusOK, groupView(cfg, g))
}

// ClientView is a client without its secret: Confidential says whether it
// authenticates (a secret, or jwks for private_key_jwt: not
// policy.Client.Public), Servers which MCP servers list it.
type ClientView struct {
	policy.Client
	Confidential bool     `json:"confidential"`
	Servers      []string `json:"servers"`
}

func clientView(cfg *policy.Config, c *policy.Client) ClientView {
	v := ClientView{Client: *c, Confidential: !c.Public(), Servers: []string{}}
	v.ClientSecret = ""
	for _, s := range cfg.MCPServers {
		if _, ok := s.Clients[c.ClientID]; ok {
			v.Servers = append(v.Servers, s.ID)
		}
	}
	return v
}

func (a *API) listClients(w http.ResponseWriter, _ *http.Request) {
	cfg, tag := a.view()
	out := make([]ClientView, len(cfg.Clients))
	for i := range cfg.Clients {
		out[i] = clientView(cfg, &cfg.Clients[i])
	}
	w.Header().Set("ETag", tag)
	writeAPI(w, http.StatusOK, out)
}

// getClient answers one client as listClients does (without its secret),
// with the document's ETag, which its PUT and DELETE take in If-Match.
func (a *API) getClient(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("client_id")
	cfg, tag := a.view()
	c := cfg.Client(id)
	if c == nil {
		writeAPIError(w, http.StatusNotFound, "not_found", fmt.Sprintf("there is no client %q", id))
		return
	}
	w.Header().Set("ETag", tag)
	writeAPI(w, http.StatusOK, clientView(cfg, c))
}

// configYAML answers the running configuration's YAML document as the file
// holds it, passwords and secrets included: the download an admin keeps
// when the edits live in memory. The API is for admins only. A tenant's is
// its entry of the file, downloaded as <file>-<tenant>.yaml.
func (a *API) configYAML(w http.ResponseWriter, _ *http.Request) {
	if a.store == nil {
		writeAPIError(w, http.StatusNotImplemented, "not_implemented", "this server was started without a configuration store")
		return
	}
	name := filepath.Base(a.store.Name())
	if t := a.idp.Tenant(); t != "" && a.store.File() != "" {
		file := filepath.Base(a.store.File())
		ext := filepath.Ext(file)
		name = strings.TrimSuffix(file, ext) + "-" + t + ext
	}
	w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	w.Header().Set("Cache-Control", "no-store")
	sn := a.store.Snapshot()
	w.Header().Set("ETag", etag(sn.Version))
	w.Write(sn.YAML())
}

// StatusView is GET /admin/api/status: where the configuration lives, its
// ETag, and how the last reload of the file went.
type StatusView struct {
	// File is the configuration file; "" when the configuration lives in
	// memory (InMemory), where edits are lost at exit.
	File     string `json:"file"`
	InMemory bool   `json:"in_memory"`
	Name     string `json:"name"` // what problems call the file
	ETag     string `json:"etag"`
	Editable bool   `json:"editable"`
	Watching bool   `json:"watching"` // changes on disk are picked up
	// ReadOnly is why the file may not be changed here now (it or its
	// directory is read-only: every change is 409); Editable is then false.
	ReadOnly string `json:"read_only,omitempty"`
	// Missing says that the file is gone (deleted or moved) and what a
	// change does then: writes it again with the running configuration,
	// or, its directory gone too, is refused (Editable false).
	Missing string `json:"missing,omitempty"`
	// LastReload is when the file, changed on disk, was last reloaded or
	// refused; LastReloadError is why it was refused (the running
	// configuration was kept), empty when it was loaded.
	LastReload         *time.Time `json:"last_reload,omitempty"`
	LastReloadError    string     `json:"last_reload_error,omitempty"`
	LastReloadProblems []problem  `json:"last_reload_problems,omitempty"`
}

func (a *API) status(w http.ResponseWriter, _ *http.Request) {
	if a.store == nil {
		writeAPI(w, http.StatusOK, StatusView{InMemory: true})
		return
	}
	st := a.store.Status()
	v := StatusView{File: st.File, InMemory: st.InMemory, Name: st.Name, ETag: etag(st.Version), Editable: st.ReadOnly == "" && !st.MissingDir, Watching: st.Watching,
		ReadOnly: st.ReadOnly, Missing: st.Missing}
	if r := st.Reload; r != nil {
		t := r.Time.UTC()
		v.LastReload = &t
		if r.Err != nil {
			v.LastReloadError = r.Err.Error()
			v.LastReloadProblems = problemList(r.Err)
		}
	}
	w.Header().Set("ETag", v.ETag)
	writeAPI(w, http.StatusOK, v)
}
