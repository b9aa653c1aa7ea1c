package idptest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/idptest"
)

// The contract oracle: the decision rules of README "Configuration" (decision
// rules), docs/configuration.md (time-bound access) and README "Configuration"/"Error codes",
// with the order and the step-up rule of docs/configuration.md ("Decision
// rules"), written from those words alone, not from policy/. It decides the
// token exchanges of random configurations, and TestPolicyOracle_TokenExchange
// holds the real IdP (config loader, token endpoint, ID-JAG signature, audit
// event) to it.

type ocUser struct {
	name     string
	groups   []string
	disabled bool
}

type ocClient struct {
	id, secret    string
	tokenExchange bool
	cimd          bool // a Client ID Metadata Document URL (README "CIMD clients"), no clients: entry
}

type ocAccess struct {
	users, groups, scopes, clients []string
	maxAuthAge                     time.Duration // 0: none
	expires                        time.Time     // zero: none
	approved                       bool          // written by an approval (TestPolicyOracle_Sequences)
}

type ocDeny struct {
	users, groups, clients []string
}

type ocServer struct {
	id, issuer, alias, resource string
	scopes                      []string
	clients                     []string // the IdP clients it lists, in order
	access                      []ocAccess
	deny                        []ocDeny
}

type ocConfig struct {
	deniedError     string // "" is the default, access_denied
	requireResource bool
	cimdNoExchange  bool // cimd.token_exchange: false
	singleUse       bool // exchange.single_use_subject: true
	groups          []string
	users           []ocUser
	clients         []ocClient
	servers         []ocServer
}

type ocRequest struct {
	refresh   bool // the subject is the login's refresh token, not its ID token
	user      int
	client    string // a client_id; ocUnknownClient names no client
	audience  string
	resource  string // "": not sent
	scopes    []string
	scopeSent bool
	// raw, when set, is the scope parameter as sent, whatever scopes says
	// (docs/http.md, "Token exchange": white space, repeats, malformed
	// tokens; "" is an empty parameter).
	raw    string
	rawSet bool
}

// describedValue is how docs/http.md ("Errors") says an error_description
// quotes a value: between single quotes, a '"' as U+0022, a ' as U+0027,
// a '\\' as U+005C, a control character or one beyond ASCII as its code
// point.
func describedValue(v string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range v {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\'' || r == '\\' {
			fmt.Fprintf(&b, "U+%04X", r)
			continue
		}
		b.WriteRune(r)
	}
	b.WriteByte('\'')
	return b.String()
}

// scopeParam reads a scope parameter as docs/http.md ("Token exchange",
// "Rules common to the three grants") says the token endpoint does: an
// empty parameter, or one of white space alone, is none; ASCII white
// space (space, tab, line break) only separates; a token that is no RFC 6749 §3.3 scope-token (printable
// ASCII without spaces, '"' or '\\') is malformed.
func scopeParam(raw string) (scopes []string, sent bool, malformed string) {
	if raw == "" {
		return nil, false, ""
	}
	for _, tok := range strings.FieldsFunc(raw, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }) {
		for _, c := range []byte(tok) {
			if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
				if malformed == "" {
					malformed = tok
				}
			}
		}
		scopes = append(scopes, tok)
	}
	// White space alone names no scope: no scope, as an empty parameter.
	return scopes, len(scopes) > 0, malformed
}

const ocUnknownClient = "nobody"

// ocWant is what the oracle says the token endpoint answers.
type ocWant struct {
	err     string // "" when allowed
	status  int
	outcome string // the audit event's
	server  string // the MCP server the audience names ("" when none)
	granted []string
	maxAge  int       // insufficient_user_authentication's max_age, seconds
	expCap  time.Time // the latest exp the ID-JAG may carry (zero: the lifetime alone)
	rules   []string  // the rules that may be named (nil: not checked)
	expired []int     // the server's entries the decision finds expired (README "Request, approve, revoke")
	why     string    // the oracle's own reason, for failure messages
	// malformed is the malformed scope token the description must name.
	malformed string
}

func (c *ocConfig) client(id string) *ocClient {
	for i := range c.clients {
		if c.clients[i].id == id {
			return &c.clients[i]
		}
	}
	return nil
}

// urlMatches: README "Configuration" "a trailing "/" always matches"; README
// "Decisions": URLs match up to the case of scheme and host and a default
// port; docs/configuration.md: one "/" more on one side than on the other.
func urlMatches(sent, configured string) bool {
	norm := func(s string) string {
		scheme, rest, ok := strings.Cut(s, "://")
		if !ok {
			return s
		}
		host, path, slash := strings.Cut(rest, "/")
		scheme, host = strings.ToLower(scheme), strings.ToLower(host)
		if scheme == "https" {
			host = strings.TrimSuffix(host, ":443")
		}
		s = scheme + "://" + host
		if slash {
			s += "/" + path
		}
		return s
	}
	a, b := norm(sent), norm(configured)
	return a == b || a == b+"/" || a+"/" == b
}

func (c *ocConfig) serverFor(audience string) *ocServer {
	for i := range c.servers {
		s := &c.servers[i]
		if urlMatches(audience, s.issuer) || (s.alias != "" && urlMatches(audience, s.alias)) {
			return s
		}
	}
	return nil
}

func (u ocUser) in(users, groups []string) bool {
	if slices.Contains(users, u.name) {
		return true
	}
	for _, g := range groups {
		if slices.Contains(u.groups, g) {
			return true
		}
	}
	return false
}

// decide is the oracle. authAge is how old the login is (whole seconds).
func (c *ocConfig) decide(r ocRequest, now time.Time, authAge time.Duration) ocWant {
	refuse := func(err, outcome, why string) ocWant {
		st := http.StatusBadRequest
		if err == "invalid_client" {
			st = http.StatusUnauthorized
		}
		return ocWant{err: err, status: st, outcome: outcome, why: why}
	}
	denied := c.deniedError
	if denied == "" {
		denied = "access_denied"
	}
	cl := c.client(r.client)
	if cl == nil {
		return refuse("invalid_client", "error", "client not registered")
	}
	srv := c.serverFor(r.audience)
	if !cl.tokenExchange {
		// docs/audit.md: the server is named on every refusal once the
		// audience resolved it, unauthorized_client's too.
		w := refuse("unauthorized_client", "error", "client has token_exchange: false")
		if srv != nil {
			w.server = srv.id
		}
		return w
	}
	if r.rawSet {
		// docs/http.md "Token exchange": the parameters are read before
		// the subject token and the policy; a malformed scope is
		// invalid_scope naming it, beside known scopes too.
		var bad string
		r.scopes, r.scopeSent, bad = scopeParam(r.raw)
		if bad != "" {
			w := refuse("invalid_scope", "error", "a malformed scope")
			w.malformed = bad
			return w
		}
	}
	if srv == nil {
		return refuse("invalid_target", "error", "audience names no MCP server")
	}
	withServer := func(w ocWant) ocWant { w.server = srv.id; return w }
	if r.resource != "" && !urlMatches(r.resource, srv.resource) {
		return withServer(refuse("invalid_target", "error", "resource not the server's"))
	}
	if r.resource == "" && c.requireResource {
		return withServer(refuse("invalid_request", "error", "no resource, require_resource"))
	}
	if !slices.Contains(srv.clients, r.client) {
		return withServer(refuse("invalid_target", "error", "server does not list the client"))
	}
	u := c.users[r.user]
	if u.disabled {
		return withServer(refuse("access_denied", "denied", "user disabled"))
	}
	var known []string
	for _, s := range r.scopes {
		if slices.Contains(srv.scopes, s) && !slices.Contains(known, s) {
			known = append(known, s)
		}
	}
	if r.scopeSent && len(known) == 0 {
		return withServer(refuse("invalid_scope", "denied", "only scopes the server does not know"))
	}
	var denyRules []string
	for i, d := range srv.deny {
		userOK := len(d.users)+len(d.groups) == 0 || u.in(d.users, d.groups)
		clientOK := len(d.clients) == 0 || slices.Contains(d.clients, r.client)
		if userOK && clientOK {
			denyRules = append(denyRules, fmt.Sprintf("%s deny[%d]", srv.id, i))
		}
	}
	if len(denyRules) > 0 {
		w := withServer(refuse(denied, "denied", "a deny entry matches"))
		w.rules = denyRules
		return w
	}
	// matching: live access entries naming the user and (when they name
	// clients) the client; met: those whose max_auth_age the login meets.
	var matching, met, expired []int
	for i, a := range srv.access {
		if !u.in(a.users, a.groups) || (len(a.clients) > 0 && !slices.Contains(a.clients, r.client)) {
			continue
		}
		if !a.expires.IsZero() && !now.Before(a.expires) {
			expired = append(expired, i)
			continue
		}
		matching = append(matching, i)
		if a.maxAuthAge == 0 || authAge <= a.maxAuthAge {
			met = append(met, i)
		}
	}
	if len(matching) == 0 {
		w := withServer(refuse(denied, "denied", "no live access entry matches"))
		w.expired = expired
		return w
	}
	allows := func(entries []int) []string {
		var out []string
		for _, s := range srv.scopes {
			for _, i := range entries {
				if slices.Contains(srv.access[i].scopes, s) {
					out = append(out, s)
					break
				}
			}
		}
		return out
	}
	stepUp := func(entries []int, scopes []string) ocWant {
		w := withServer(refuse("insufficient_user_authentication", "denied", "login too old"))
		for _, i := range entries {
			a := srv.access[i]
			if slices.Contains(met, i) {
				continue
			}
			if scopes != nil && !slices.ContainsFunc(a.scopes, func(s string) bool { return slices.Contains(scopes, s) }) {
				continue
			}
			if m := int(a.maxAuthAge / time.Second); w.maxAge == 0 || m < w.maxAge {
				w.maxAge = m
			}
		}
		return w
	}
	metAllows, allAllow := allows(met), allows(matching)
	var granted []string
	if r.scopeSent {
		var onlyUnmet []string
		for _, s := range known {
			if slices.Contains(allAllow, s) && !slices.Contains(metAllows, s) {
				onlyUnmet = append(onlyUnmet, s)
			}
		}
		if len(onlyUnmet) > 0 {
			return stepUp(matching, onlyUnmet)
		}
		for _, s := range srv.scopes {
			if slices.Contains(known, s) && slices.Contains(metAllows, s) {
				granted = append(granted, s)
			}
		}
		if len(granted) == 0 {
			return withServer(refuse("invalid_scope", "denied", "no requested scope is allowed"))
		}
	} else {
		if len(met) == 0 {
			return stepUp(matching, nil)
		}
		if len(metAllows) == 0 && len(allAllow) > 0 {
			return stepUp(matching, allAllow)
		}
		granted = metAllows
	}
	w := ocWant{status: http.StatusOK, outcome: "allowed", server: srv.id, granted: granted, why: "allowed"}
	for _, i := range met {
		w.rules = append(w.rules, fmt.Sprintf("%s access[%d]", srv.id, i))
	}
	// §10 / docs "Time-bound access": for each granted scope the latest
	// expires of the entries granting it (none when one has none); the
	// earliest over the scopes.
	// Without a scope granted, the entries that allow the exchange at all
	// bound it alike: the ID-JAG does not outlive the access that let it be
	// issued (the product's reading; README "Configuration" says so).
	capScopes := granted
	if len(granted) == 0 {
		capScopes = []string{""}
	}
	for _, s := range capScopes {
		var latest time.Time
		unbounded := false
		for _, i := range met {
			a := srv.access[i]
			if s != "" && !slices.Contains(a.scopes, s) {
				continue
			}
			if a.expires.IsZero() {
				unbounded = true
				break
			}
			if a.expires.After(latest) {
				latest = a.expires
			}
		}
		if !unbounded && (w.expCap.IsZero() || latest.Before(w.expCap)) {
			w.expCap = latest
		}
	}
	return w
}

// yaml writes the configuration as a file a user would write.
func (c *ocConfig) yaml(enableAll bool) string {
	var b strings.Builder
	list := func(xs []string) string {
		var q []string
		for _, x := range xs {
			q = append(q, strconv.Quote(x))
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	b.WriteString("lifetimes: {id_token: 24h}\n")
	if c.deniedError != "" || c.requireResource || c.singleUse {
		fmt.Fprintf(&b, "exchange: {denied_error: %s, require_resource: %t, single_use_subject: %t}\n", cmpOr(c.deniedError, "access_denied"), c.requireResource, c.singleUse)
	}
	if c.cimdNoExchange {
		b.WriteString("cimd: {token_exchange: false}\n")
	}
	b.WriteString("groups:\n")
	for _, g := range c.groups {
		fmt.Fprintf(&b, "  - name: %s\n", g)
	}
	// root reads the admin API's explain; no entry names it.
	b.WriteString("users:\n  - {username: root, password: root, admin: true}\n")
	for _, u := range c.users {
		fmt.Fprintf(&b, "  - {username: %s, password: %s, groups: %s, disabled: %t}\n", u.name, u.name, list(u.groups), u.disabled && !enableAll)
	}
	b.WriteString("clients:\n")
	for _, cl := range c.clients {
		if cl.cimd {
			continue
		}
		fmt.Fprintf(&b, "  - client_id: %s\n    redirect_uris: [http://127.0.0.1/callback]\n    token_exchange: %t\n", cl.id, cl.tokenExchange)
		if cl.secret != "" {
			fmt.Fprintf(&b, "    client_secret: %s\n", cl.secret)
		}
	}
	b.WriteString("mcp_servers:\n")
	for _, s := range c.servers {
		fmt.Fprintf(&b, "  - id: %s\n    issuer: %s\n    resources: [%s]\n    scopes: %s\n", s.id, s.issuer, s.resource, list(s.scopes))
		if s.alias != "" {
			fmt.Fprintf(&b, "    aliases: [%s]\n", s.alias)
		}
		if len(s.clients) > 0 {
			b.WriteString("    clients:\n")
			for _, cl := range s.clients {
				fmt.Fprintf(&b, "      %q: %s-at-%s\n", cl, atServer(cl), s.id)
			}
		}
		if len(s.access) > 0 {
			b.WriteString("    access:\n")
			for _, a := range s.access {
				fmt.Fprintf(&b, "      - users: %s\n        groups: %s\n        scopes: %s\n", list(a.users), list(a.groups), list(a.scopes))
				if len(a.clients) > 0 {
					fmt.Fprintf(&b, "        clients: %s\n", list(a.clients))
				}
				if a.maxAuthAge > 0 {
					fmt.Fprintf(&b, "        max_auth_age: %s\n", a.maxAuthAge)
				}
				if !a.expires.IsZero() {
					fmt.Fprintf(&b, "        expires: %s\n", a.expires.Format(time.RFC3339))
				}
			}
		}
		if len(s.deny) > 0 {
			b.WriteString("    deny:\n")
			for _, d := range s.deny {
				b.WriteString("      - {")
				var parts []string
				if len(d.users) > 0 {
					parts = append(parts, "users: "+list(d.users))
				}
				if len(d.groups) > 0 {
					parts = append(parts, "groups: "+list(d.groups))
				}
				if len(d.clients) > 0 {
					parts = append(parts, "clients: "+list(d.clients))
				}
				b.WriteString(strings.Join(parts, ", ") + "}\n")
			}
		}
	}
	return b.String()
}

// atServer is the client's id at every MCP server, before "-at-<server>":
// a metadata document client's is "cimd".
func atServer(client string) string {
	if strings.Contains(client, "://") {
		return "cimd"
	}
	return client
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// subset picks each element with probability p, keeping the order.
func subset(r *rand.Rand, xs []string, p float64) []string {
	var out []string
	for _, x := range xs {
		if r.Float64() < p {
			out = append(out, x)
		}
	}
	return out
}

// randomConfig draws a small configuration. now is the IdP's clock when the
// exchanges run, which the entries' expires straddle.
func randomConfig(r *rand.Rand, now time.Time, cimdURL string) *ocConfig {
	c := &ocConfig{}
	switch r.Intn(10) {
	case 0, 1:
		c.deniedError = "invalid_request"
	case 2:
		c.requireResource = true
	}
	c.groups = []string{"g0", "g1", "g2"}[:1+r.Intn(3)]
	for i := range 2 + r.Intn(3) {
		c.users = append(c.users, ocUser{name: "u" + strconv.Itoa(i), groups: subset(r, c.groups, 0.4), disabled: r.Intn(6) == 0})
	}
	// Users and groups are names of their own: a user named as a group
	// is not its members, nor they the user.
	if r.Intn(4) == 0 {
		c.users[len(c.users)-1].name = c.groups[0]
	}
	for i := range 1 + r.Intn(3) {
		cl := ocClient{id: "c" + strconv.Itoa(i), tokenExchange: r.Intn(10) != 0}
		if r.Intn(4) != 0 {
			cl.secret = "secret-" + cl.id
		}
		c.clients = append(c.clients, cl)
	}
	// README "CIMD clients": a metadata document client may be named wherever a
	// client_id may be; cimd.token_exchange says whether it may exchange.
	if cimdURL != "" && r.Intn(2) == 0 {
		c.cimdNoExchange = r.Intn(5) == 0
		c.clients = append(c.clients, ocClient{id: cimdURL, cimd: true, tokenExchange: !c.cimdNoExchange})
	}
	var clientIDs []string
	for _, cl := range c.clients {
		clientIDs = append(clientIDs, cl.id)
	}
	var userNames []string
	for _, u := range c.users {
		userNames = append(userNames, u.name)
	}
	ages := []time.Duration{time.Minute, 10 * time.Minute, time.Hour}
	expiries := []time.Duration{-time.Hour, 0, time.Second, 2 * time.Minute, time.Hour}
	for i := range 1 + r.Intn(3) {
		s := ocServer{
			id:       "s" + strconv.Itoa(i),
			issuer:   fmt.Sprintf("https://as.s%d.example%s", i, []string{"", "", "/", "/as"}[r.Intn(4)]),
			resource: fmt.Sprintf("https://mcp.s%d.example/mcp", i),
		}
		if r.Intn(2) == 0 {
			s.alias = fmt.Sprintf("urn:example:s%d", i)
		}
		s.scopes = []string{s.id + ".read", s.id + ".write", s.id + ".admin"}[:1+r.Intn(3)]
		s.clients = subset(r, clientIDs, 0.85)
		for range r.Intn(4) {
			a := ocAccess{users: subset(r, userNames, 0.3), groups: subset(r, c.groups, 0.3), scopes: subset(r, s.scopes, 0.6)}
			if len(a.users)+len(a.groups) == 0 {
				a.users = []string{userNames[r.Intn(len(userNames))]}
			}
			if r.Intn(3) == 0 && len(s.clients) > 0 {
				a.clients = subset(r, s.clients, 0.5)
			}
			if r.Intn(2) == 0 {
				a.maxAuthAge = ages[r.Intn(len(ages))]
			}
			if r.Intn(3) == 0 {
				a.expires = now.Add(expiries[r.Intn(len(expiries))])
			}
			s.access = append(s.access, a)
		}
		for range r.Intn(3) / 2 * (1 + r.Intn(2)) {
			d := ocDeny{users: subset(r, userNames, 0.3), groups: subset(r, c.groups, 0.2)}
			if r.Intn(3) == 0 && len(s.clients) > 0 {
				d.clients = subset(r, s.clients, 0.5)
			}
			if len(d.users)+len(d.groups)+len(d.clients) == 0 {
				d.users = []string{userNames[r.Intn(len(userNames))]}
			}
			s.deny = append(s.deny, d)
		}
		c.servers = append(c.servers, s)
	}
	return c
}

func (c *ocConfig) randomRequest(r *rand.Rand) ocRequest {
	req := ocRequest{user: r.Intn(len(c.users)), refresh: r.Intn(4) == 0}
	switch n := r.Intn(20); {
	case n == 0:
		req.client = ocUnknownClient
	default:
		req.client = c.clients[r.Intn(len(c.clients))].id
	}
	s := c.servers[r.Intn(len(c.servers))]
	switch n := r.Intn(16); {
	case n == 0:
		req.audience = "https://as.unknown.example"
	case n == 1:
		req.audience = s.resource // an MCP server's URL is not its audience
	case n == 2:
		req.audience = s.issuer + "/"
	case n == 3:
		req.audience = strings.Replace(s.issuer, "https://as.", "HTTPS://AS.", 1)
	case n == 5:
		req.audience = strings.Replace(s.issuer, ".example", ".example:443", 1)
	case n == 6:
		req.audience = strings.TrimSuffix(s.issuer, "/")
	case n == 4 && s.alias != "":
		req.audience = s.alias
	default:
		req.audience = s.issuer
	}
	switch n := r.Intn(12); {
	case n < 5:
	case n == 7:
		req.resource = "https://mcp.unknown.example/mcp"
	case n == 4:
		other := c.servers[r.Intn(len(c.servers))]
		req.resource = other.resource
	case n == 5:
		req.resource = s.resource + "/"
	case n == 6 && r.Intn(2) == 0:
		req.resource = strings.Replace(s.resource, "https://mcp.", "https://MCP.", 1)
	case n == 6:
		req.resource = strings.Replace(s.resource, ".example", ".example:443", 1)
	default:
		req.resource = s.resource
	}
	if r.Intn(4) != 0 {
		req.scopeSent = true
		req.scopes = subset(r, s.scopes, 0.5)
		switch r.Intn(5) {
		case 0:
			req.scopes = append(req.scopes, "bogus.scope")
		case 1:
			other := c.servers[r.Intn(len(c.servers))]
			req.scopes = append(req.scopes, other.scopes[r.Intn(len(other.scopes))])
		}
		if len(req.scopes) == 0 {
			req.scopes = []string{s.scopes[r.Intn(len(s.scopes))]}
		}
		r.Shuffle(len(req.scopes), func(i, j int) { req.scopes[i], req.scopes[j] = req.scopes[j], req.scopes[i] })
	}
	return req
}

// TestPolicyOracle_TokenExchange: on random configurations, each loaded
// through the IdP's own loader (SetConfig validates it as a file), every
// random token exchange, a real ID token (or refresh token) of a real login
// exchanged at the real token endpoint, gets what the contract oracle says:
// the error and its status, max_age, the granted scopes in the answer and
// in the ID-JAG (its signature verified with the IdP's JWKS), the ID-JAG's
// exp cut at the expiry of the entries granting it, the audit event's
// decision fields, and GET /admin/api/explain's decision. Under tenants (README "Several issuers") each tenant has a random
// configuration of its own, with the same user, group and client names as
// the other's, and decides by its own alone.
// XAA_POLICY_ORACLE_CONFIGS=N runs N configurations instead of the CI's few;
// XAA_POLICY_ORACLE_SEED picks another seed.
func TestPolicyOracle_TokenExchange(t *testing.T) {
	configs, seed := oracleRuns(t, "XAA_POLICY_ORACLE_CONFIGS", 20, 20261206)
	t.Run("single", func(t *testing.T) {
		srv := idptest.New(t)
		runPolicyOracle(t, seed, configs, srv, []*idptest.Server{srv}, []string{""})
	})
	t.Run("tenants", func(t *testing.T) {
		srv := idptest.New(t, idptest.WithConfigYAML("tenants:\n  - id: t0\n  - id: t1\n"))
		runPolicyOracle(t, seed+1, configs, srv, []*idptest.Server{srv.Tenant("t0"), srv.Tenant("t1")}, []string{"t0", "t1"})
	})
}

func runPolicyOracle(t *testing.T, seed int64, configs int, srv *idptest.Server, views []*idptest.Server, tenants []string) {
	const requests = 24
	clock := srv.Clock()
	clock.Freeze()
	base := clock.Now().Truncate(time.Second)
	type target struct {
		view          *idptest.Server
		tenant        string
		tokenEndpoint string
		keys          jose.JSONWebKeySet
		cfg           *ocConfig
		logins        map[[2]string]idptest.Tokens
	}
	var targets []*target
	for i, v := range views {
		md := discoverForOracle(t, v.Issuer())
		targets = append(targets, &target{view: v, tenant: tenants[i], tokenEndpoint: md.TokenEndpoint, keys: fetchJWKS(t, md)})
	}
	// One metadata document client for every configuration, public, its
	// document served here.
	var cimdURL string
	doc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"client_id": %q, "redirect_uris": ["http://127.0.0.1/callback"], "token_endpoint_auth_method": "none"}`, cimdURL)
	}))
	defer doc.Close()
	cimdURL = doc.URL + "/client.json"
	r := rand.New(rand.NewSource(seed))
	authAges := []time.Duration{0, time.Minute, 5 * time.Minute, 90 * time.Minute}
	fails, kinds, whys := 0, map[string]int{}, map[string]int{}
	for n := range configs {
		// Each configuration on a clock 3h after the last, so that nothing
		// of the last one (an ID token, an expiry) reaches into it.
		loginAt := base.Add(time.Duration(n) * 3 * time.Hour)
		authAge := authAges[r.Intn(len(authAges))]
		now := loginAt.Add(authAge)
		type request struct {
			tg *target
			q  ocRequest
		}
		reqs := make([]request, requests)
		for _, tg := range targets {
			tg.cfg = randomConfig(r, now, cimdURL)
			tg.logins = map[[2]string]idptest.Tokens{}
		}
		for i := range reqs {
			tg := targets[r.Intn(len(targets))]
			reqs[i] = request{tg, tg.cfg.randomRequest(r)}
		}
		// Log every user in that a request needs, with every user enabled (a
		// disabled user cannot log in; the exchange of a login from before
		// the user was disabled is what the oracle decides).
		clock.Set(loginAt)
		for _, tg := range targets {
			tg.view.SetConfig(tg.cfg.yaml(true))
		}
		for _, rq := range reqs {
			k := rq.tg.cfg.loginKey(rq.q)
			if _, ok := rq.tg.logins[k]; !ok {
				rq.tg.logins[k] = rq.tg.view.LoginVia(k[1], k[0])
			}
		}
		clock.Set(now)
		for _, tg := range targets {
			tg.view.SetConfig(tg.cfg.yaml(false))
		}
		for i, rq := range reqs {
			tg, q := rq.tg, rq.q
			want := tg.cfg.decide(q, now, authAge)
			whys[want.why]++
			if len(want.expired) > 0 {
				whys["found an expired entry"]++
			}
			if tg.cfg.client(q.client) != nil && tg.cfg.client(q.client).cimd {
				whys["metadata document client"]++
			}
			got := exchangeForOracle(t, tg.tokenEndpoint, tg.cfg, q, tg.logins[tg.cfg.loginKey(q)])
			ev := tg.view.Audit(audit.Filter{Type: "token_exchange", Limit: 1})
			problems := want.compare(got, ev, tg.keys, q, tg.cfg, now)
			problems = append(problems, want.checkExpired(tg.view, tg.cfg, got, ev)...)
			problems = append(problems, want.checkExplain(t, tg.view.Issuer(), tg.cfg, q, authAge)...)
			if len(ev) == 1 && len(tenants) > 1 && ev[0].Tenant != tg.tenant {
				problems = append(problems, fmt.Sprintf("audit tenant %q, want %q", ev[0].Tenant, tg.tenant))
			}
			if len(problems) > 0 {
				fails++
				kind := problems[0]
				if i := strings.IndexAny(kind, "\"0123456789"); i > 0 {
					kind = kind[:i]
				}
				kinds[kind]++
				if kinds[kind] <= 2 {
					t.Errorf("seed %d config %d request %d (tenant %q, login %s old, clock %s): %s\nrequest: user %s client %s audience %s resource %q scope %v (sent %t) refresh token %t\noracle: %s\ngot: %+v\nconfig:\n%s",
						seed, n, i, tg.tenant, authAge, now.Format(time.RFC3339), strings.Join(problems, "; "),
						tg.cfg.users[q.user].name, q.client, q.audience, q.resource, q.scopes, q.scopeSent, q.refresh,
						want.why, got, tg.cfg.yaml(false))
				}
			}
		}
	}
	if fails > 0 {
		t.Errorf("%d of %d exchanges disagree with the contract oracle (seed %d): %v", fails, configs*requests, seed, kinds)
	}
	t.Logf("the oracle's decisions: %v", whys)
	// The run is worth something only when it reaches the rules that decide.
	for _, why := range []string{"allowed", "a deny entry matches", "no live access entry matches", "login too old",
		"no requested scope is allowed", "user disabled", "found an expired entry"} {
		if whys[why] == 0 && configs >= 20 {
			t.Errorf("no exchange of seed %d was decided %q: the random configurations miss a rule", seed, why)
		}
	}
}

// loginKey is the login a request's subject token comes from: its user's,
// through its client (an unknown client presents the first client's).
func (c *ocConfig) loginKey(q ocRequest) [2]string {
	client := q.client
	if client == ocUnknownClient {
		client = c.clients[0].id
	}
	return [2]string{c.users[q.user].name, client}
}

// ocGot is what the token endpoint answered.
type ocGot struct {
	status      int
	err, desc   string
	maxAge      any
	scope       string // the answer's scope
	accessToken string
}

func exchangeForOracle(t *testing.T, endpoint string, cfg *ocConfig, q ocRequest, tok idptest.Tokens) ocGot {
	t.Helper()
	secret := "wrong"
	if cl := cfg.client(q.client); cl != nil {
		secret = cl.secret
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	o := idpclient.ExchangeOptions{
		TokenEndpoint: endpoint, ClientID: q.client, ClientSecret: secret,
		SubjectToken: tok.IDToken, Audience: q.audience, Resource: q.resource, Scopes: q.scopes,
	}
	if q.rawSet {
		o.Scopes = []string{q.raw} // "" sends an empty scope=
	}
	if q.refresh {
		if tok.RefreshToken == "" {
			t.Fatalf("the login of %s gave no refresh token", tok.ClientID)
		}
		o.SubjectToken, o.SubjectTokenType = tok.RefreshToken, idpclient.TokenTypeRefresh
	}
	res, err := idpclient.Exchange(ctx, o)
	var oe *idpclient.Error
	switch {
	case errors.As(err, &oe):
		return ocGot{status: oe.Status, err: oe.Code, desc: oe.Description, maxAge: oe.Body["max_age"]}
	case err != nil:
		t.Fatalf("token exchange: %v", err)
	}
	g := ocGot{status: http.StatusOK}
	g.scope, _ = res["scope"].(string)
	g.accessToken, _ = res["access_token"].(string)
	return g
}

func discoverForOracle(t *testing.T, issuer string) *idpclient.Metadata {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	md, err := idpclient.Discover(ctx, http.DefaultClient, issuer)
	if err != nil {
		t.Fatal(err)
	}
	return md
}

func fetchJWKS(t *testing.T, md *idpclient.Metadata) jose.JSONWebKeySet {
	t.Helper()
	resp, err := http.Get(md.JWKSURI)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	return set
}

func (w ocWant) compare(g ocGot, evs []audit.Event, keys jose.JSONWebKeySet, q ocRequest, cfg *ocConfig, now time.Time) []string {
	var p []string
	if g.err != w.err || g.status != w.status {
		p = append(p, fmt.Sprintf("answer %d %q (%s), oracle %d %q", g.status, g.err, g.desc, w.status, w.err))
	}
	if w.err == "insufficient_user_authentication" && g.err == w.err {
		if f, ok := g.maxAge.(float64); !ok || int(f) != w.maxAge {
			p = append(p, fmt.Sprintf("max_age %v, oracle %d", g.maxAge, w.maxAge))
		}
	}
	if w.malformed != "" && g.err == w.err && !strings.Contains(g.desc, describedValue(w.malformed)) {
		p = append(p, fmt.Sprintf("description %q does not name the malformed scope %q as %s", g.desc, w.malformed, describedValue(w.malformed)))
	}
	// docs/http.md "Errors": a value a description quotes is cut to 1
	// KiB, after its escaping.
	if len(g.desc) > 2048 {
		p = append(p, fmt.Sprintf("a description of %d bytes", len(g.desc)))
	}
	granted := strings.Join(w.granted, " ")
	if w.err == "" && g.err == "" {
		if g.scope != granted {
			p = append(p, fmt.Sprintf("answer's scope %q, oracle %q", g.scope, granted))
		}
		p = append(p, checkIDJAG(g.accessToken, keys, w, q, cfg, now)...)
	}
	if len(evs) != 1 {
		return append(p, fmt.Sprintf("%d token_exchange events", len(evs)))
	}
	ev := evs[0]
	if ev.ClientID != q.client {
		return append(p, fmt.Sprintf("the newest token_exchange event is of client %q", ev.ClientID))
	}
	if ev.Outcome != w.outcome || ev.Error != w.err {
		p = append(p, fmt.Sprintf("audit outcome %q error %q, oracle %q %q", ev.Outcome, ev.Error, w.outcome, w.err))
	}
	if w.err != "invalid_client" && ev.Server != w.server {
		p = append(p, fmt.Sprintf("audit server %q, oracle %q", ev.Server, w.server))
	}
	// docs/audit.md: scope_requested is as the client sent it; README
	// "Audit log": a string over 512 bytes is cut with a marker.
	sent := strings.Join(q.scopes, " ")
	if q.rawSet {
		sent = q.raw
	}
	if len(sent) <= 512 && ev.ScopeRequested != sent || len(sent) > 512 && !strings.HasPrefix(ev.ScopeRequested, sent[:400]) {
		p = append(p, fmt.Sprintf("audit scope_requested %q, sent %q", ev.ScopeRequested, sent))
	}
	if ev.ScopeGranted != granted {
		p = append(p, fmt.Sprintf("audit scope_granted %q, oracle %q", ev.ScopeGranted, granted))
	}
	// The rule names the entry that decided, or the entries that granted
	// ("s1 access[0], s1 access[2]").
	if w.rules != nil && (ev.Rule == "" || slices.ContainsFunc(strings.Split(ev.Rule, ", "), func(r string) bool { return !slices.Contains(w.rules, r) })) {
		p = append(p, fmt.Sprintf("audit rule %q, oracle one of %q", ev.Rule, w.rules))
	}
	return p
}

// checkExpired: README "Request, approve, revoke", "after it the entry matches nothing and the
// decision's reason says it expired; an access_request event with outcome
// expired is written when a decision first finds it expired, or earlier";
// docs/configuration.md: the description says when the access ended (the
// latest expires of those entries), and the event is written once per entry.
func (w ocWant) checkExpired(srv *idptest.Server, cfg *ocConfig, g ocGot, evs []audit.Event) []string {
	if len(w.expired) == 0 || len(evs) != 1 {
		return nil
	}
	var p []string
	if !strings.Contains(evs[0].Reason, "expired") {
		p = append(p, fmt.Sprintf("reason %q does not say the access expired", evs[0].Reason))
	}
	var s *ocServer
	for i := range cfg.servers {
		if cfg.servers[i].id == w.server {
			s = &cfg.servers[i]
		}
	}
	var latest time.Time
	for _, i := range w.expired {
		if e := s.access[i].expires; e.After(latest) {
			latest = e
		}
	}
	if !strings.Contains(g.desc, latest.Format(time.RFC3339)) {
		p = append(p, fmt.Sprintf("description %q does not say the access ended at %s", g.desc, latest.Format(time.RFC3339)))
	}
	events := srv.Audit(audit.Filter{Type: "access_request", Outcome: "expired", Server: s.id, Limit: 1000})
	for _, i := range w.expired {
		rule := fmt.Sprintf("%s access[%d]", s.id, i)
		n := 0
		for _, ev := range events {
			if e, _ := ev.Details["expires"].(string); ev.Rule == rule && e == s.access[i].expires.Format(time.RFC3339) {
				n++
			}
		}
		if n != 1 {
			p = append(p, fmt.Sprintf("%d access_request expired events for %s", n, rule))
		}
	}
	return p
}

// checkExplain: README "Endpoints", GET /admin/api/explain answers "the decision
// a token exchange would get now": the oracle's, for a login authAge old.
func (w ocWant) checkExplain(t *testing.T, issuer string, cfg *ocConfig, q ocRequest, authAge time.Duration) []string {
	t.Helper()
	v := url.Values{"user": {cfg.users[q.user].name}, "client": {q.client}, "audience": {q.audience}, "auth_age": {authAge.String()}}
	if q.resource != "" {
		v.Set("resource", q.resource)
	}
	if q.scopeSent {
		v.Set("scope", strings.Join(q.scopes, " "))
	}
	if q.rawSet {
		v.Set("scope", q.raw)
	}
	req, err := http.NewRequest(http.MethodGet, issuer+"/admin/api/explain?"+v.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("root", "root")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Allowed bool     `json:"allowed"`
		Error   string   `json:"error"`
		Desc    string   `json:"error_description"`
		Server  string   `json:"server"`
		Scopes  []string `json:"scopes"`
		MaxAge  int      `json:"max_age"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != http.StatusOK {
		return []string{fmt.Sprintf("explain: %s %v", resp.Status, err)}
	}
	var p []string
	if got.Allowed != (w.err == "") || got.Error != w.err {
		p = append(p, fmt.Sprintf("explain allowed %t error %q, oracle %q", got.Allowed, got.Error, w.err))
	}
	if w.err == "" && strings.Join(got.Scopes, " ") != strings.Join(w.granted, " ") {
		p = append(p, fmt.Sprintf("explain scopes %q, oracle %q", got.Scopes, w.granted))
	}
	if w.malformed != "" && got.Error == w.err && !strings.Contains(got.Desc, describedValue(w.malformed)) {
		p = append(p, fmt.Sprintf("explain's description %q does not name the malformed scope as %s", got.Desc, describedValue(w.malformed)))
	}
	if w.err == "insufficient_user_authentication" && got.MaxAge != w.maxAge {
		p = append(p, fmt.Sprintf("explain max_age %d, oracle %d", got.MaxAge, w.maxAge))
	}
	return p
}

func checkIDJAG(raw string, keys jose.JSONWebKeySet, w ocWant, q ocRequest, cfg *ocConfig, now time.Time) []string {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.EdDSA})
	if err != nil {
		return []string{"ID-JAG: " + err.Error()}
	}
	var claims struct {
		jwt.Claims
		ClientID string `json:"client_id"`
		Scope    string `json:"scope"`
		Resource string `json:"resource"`
	}
	if len(tok.Headers) != 1 {
		return []string{"ID-JAG: not one signature"}
	}
	ks := keys.Key(tok.Headers[0].KeyID)
	if len(ks) != 1 {
		return []string{"ID-JAG: kid " + tok.Headers[0].KeyID + " not in the JWKS"}
	}
	if err := tok.Claims(ks[0].Key, &claims); err != nil {
		return []string{"ID-JAG signature: " + err.Error()}
	}
	var p []string
	srv := cfg.serverFor(q.audience)
	if len(claims.Audience) != 1 || claims.Audience[0] != srv.issuer {
		p = append(p, fmt.Sprintf("ID-JAG aud %v, want %s", claims.Audience, srv.issuer))
	}
	if claims.ClientID != atServer(q.client)+"-at-"+srv.id {
		p = append(p, fmt.Sprintf("ID-JAG client_id %q", claims.ClientID))
	}
	if claims.Scope != strings.Join(w.granted, " ") {
		p = append(p, fmt.Sprintf("ID-JAG scope %q, oracle %q", claims.Scope, strings.Join(w.granted, " ")))
	}
	exp := now.Add(5 * time.Minute)
	if !w.expCap.IsZero() && w.expCap.Before(exp) {
		exp = w.expCap
	}
	if claims.Expiry == nil || !claims.Expiry.Time().Equal(exp) {
		p = append(p, fmt.Sprintf("ID-JAG exp %v, oracle %s", claims.Expiry.Time().UTC().Format(time.RFC3339), exp.Format(time.RFC3339)))
	}
	return p
}

// oracleRuns is how many runs (configurations, sequences) an oracle makes,
// and the seed it draws them from: n and seed, unless the variable named
// countVar or XAA_POLICY_ORACLE_SEED gives another.
func oracleRuns(t *testing.T, countVar string, n int, seed int64) (int, int64) {
	t.Helper()
	if v := os.Getenv(countVar); v != "" {
		c, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("%s=%q: %v", countVar, v, err)
		}
		n = c
	}
	if v := os.Getenv("XAA_POLICY_ORACLE_SEED"); v != "" {
		s, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("XAA_POLICY_ORACLE_SEED=%q: %v", v, err)
		}
		seed = s
	}
	return n, seed
}
