package idptest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"net/http"
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

// The contract oracle: the decision rules of CONTRACT.md §3 ("Decision
// rules"), §10 (time-bound access) and README "Configuration"/"Error codes",
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
}

type ocAccess struct {
	users, groups, scopes, clients []string
	maxAuthAge                     time.Duration // 0: none
	expires                        time.Time     // zero: none
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
	groups          []string
	users           []ocUser
	clients         []ocClient
	servers         []ocServer
}

type ocRequest struct {
	user      int
	client    string // a client_id; ocUnknownClient names no client
	audience  string
	resource  string // "": not sent
	scopes    []string
	scopeSent bool
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
	why     string    // the oracle's own reason, for failure messages
}

func (c *ocConfig) client(id string) *ocClient {
	for i := range c.clients {
		if c.clients[i].id == id {
			return &c.clients[i]
		}
	}
	return nil
}

// serverFor: CONTRACT §3 "aliases: other accepted audience values (a
// trailing "/" always matches)"; README: URLs match up to the case of scheme
// and host.
func (c *ocConfig) serverFor(audience string) *ocServer {
	norm := func(s string) string {
		s = strings.TrimSuffix(s, "/")
		if scheme, rest, ok := strings.Cut(s, "://"); ok {
			host, path, _ := strings.Cut(rest, "/")
			s = strings.ToLower(scheme) + "://" + strings.ToLower(host)
			if path != "" {
				s += "/" + path
			}
		}
		return s
	}
	for i := range c.servers {
		s := &c.servers[i]
		if norm(audience) == norm(s.issuer) || (s.alias != "" && norm(audience) == norm(s.alias)) {
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
	if srv == nil {
		return refuse("invalid_target", "error", "audience names no MCP server")
	}
	withServer := func(w ocWant) ocWant { w.server = srv.id; return w }
	if r.resource != "" && strings.TrimSuffix(r.resource, "/") != srv.resource {
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
	var matching, met []int
	for i, a := range srv.access {
		if !u.in(a.users, a.groups) || (len(a.clients) > 0 && !slices.Contains(a.clients, r.client)) {
			continue
		}
		if !a.expires.IsZero() && !now.Before(a.expires) {
			continue
		}
		matching = append(matching, i)
		if a.maxAuthAge == 0 || authAge <= a.maxAuthAge {
			met = append(met, i)
		}
	}
	if len(matching) == 0 {
		return withServer(refuse(denied, "denied", "no live access entry matches"))
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
	list := func(xs []string) string { return "[" + strings.Join(xs, ", ") + "]" }
	b.WriteString("lifetimes: {id_token: 24h}\n")
	if c.deniedError != "" || c.requireResource {
		fmt.Fprintf(&b, "exchange: {denied_error: %s, require_resource: %t}\n", cmpOr(c.deniedError, "access_denied"), c.requireResource)
	}
	b.WriteString("groups:\n")
	for _, g := range c.groups {
		fmt.Fprintf(&b, "  - name: %s\n", g)
	}
	b.WriteString("users:\n")
	for _, u := range c.users {
		fmt.Fprintf(&b, "  - {username: %s, password: %s, groups: %s, disabled: %t}\n", u.name, u.name, list(u.groups), u.disabled && !enableAll)
	}
	b.WriteString("clients:\n")
	for _, cl := range c.clients {
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
				fmt.Fprintf(&b, "      %s: %s-at-%s\n", cl, cl, s.id)
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
func randomConfig(r *rand.Rand, now time.Time) *ocConfig {
	c := &ocConfig{}
	switch r.Intn(6) {
	case 0:
		c.deniedError = "invalid_request"
	case 1:
		c.requireResource = true
	}
	c.groups = []string{"g0", "g1", "g2"}[:1+r.Intn(3)]
	for i := range 2 + r.Intn(3) {
		c.users = append(c.users, ocUser{name: "u" + strconv.Itoa(i), groups: subset(r, c.groups, 0.4), disabled: r.Intn(6) == 0})
	}
	for i := range 1 + r.Intn(3) {
		cl := ocClient{id: "c" + strconv.Itoa(i), tokenExchange: r.Intn(6) != 0}
		if r.Intn(4) != 0 {
			cl.secret = "secret-" + cl.id
		}
		c.clients = append(c.clients, cl)
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
			issuer:   fmt.Sprintf("https://as.s%d.example", i),
			resource: fmt.Sprintf("https://mcp.s%d.example/mcp", i),
		}
		if r.Intn(2) == 0 {
			s.alias = fmt.Sprintf("urn:example:s%d", i)
		}
		s.scopes = []string{s.id + ".read", s.id + ".write", s.id + ".admin"}[:1+r.Intn(3)]
		s.clients = subset(r, clientIDs, 0.75)
		for range r.Intn(4) {
			a := ocAccess{users: subset(r, userNames, 0.3), groups: subset(r, c.groups, 0.3), scopes: subset(r, s.scopes, 0.6)}
			if len(a.users)+len(a.groups) == 0 {
				a.users = []string{userNames[r.Intn(len(userNames))]}
			}
			if r.Intn(3) == 0 && len(s.clients) > 0 {
				a.clients = subset(r, s.clients, 0.5)
			}
			if r.Intn(3) == 0 {
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
	req := ocRequest{user: r.Intn(len(c.users))}
	switch n := r.Intn(20); {
	case n == 0:
		req.client = ocUnknownClient
	default:
		req.client = c.clients[r.Intn(len(c.clients))].id
	}
	s := c.servers[r.Intn(len(c.servers))]
	switch n := r.Intn(12); {
	case n == 0:
		req.audience = "https://as.unknown.example"
	case n == 1:
		req.audience = s.resource // an MCP server's URL is not its audience
	case n == 2:
		req.audience = s.issuer + "/"
	case n == 3:
		req.audience = strings.Replace(s.issuer, "https://as.", "HTTPS://AS.", 1)
	case n == 4 && s.alias != "":
		req.audience = s.alias
	default:
		req.audience = s.issuer
	}
	switch n := r.Intn(8); {
	case n < 3:
	case n == 3:
		req.resource = "https://mcp.unknown.example/mcp"
	case n == 4:
		other := c.servers[r.Intn(len(c.servers))]
		req.resource = other.resource
	case n == 5:
		req.resource = s.resource + "/"
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
// random token exchange, a real ID token of a real login exchanged at the
// real token endpoint, gets what the contract oracle says: the error and its
// status, max_age, the granted scopes in the answer and in the ID-JAG (its
// signature verified with the IdP's JWKS), the ID-JAG's exp cut at the
// expiry of the entries granting it, and the audit event's decision fields.
// XAA_POLICY_ORACLE_CONFIGS=N runs N configurations instead of the CI's few;
// XAA_POLICY_ORACLE_SEED picks another seed.
func TestPolicyOracle_TokenExchange(t *testing.T) {
	seed, configs, requests := int64(20261206), 25, 24
	if v := os.Getenv("XAA_POLICY_ORACLE_CONFIGS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("XAA_POLICY_ORACLE_CONFIGS=%q: %v", v, err)
		}
		configs = n
	}
	if v := os.Getenv("XAA_POLICY_ORACLE_SEED"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("XAA_POLICY_ORACLE_SEED=%q: %v", v, err)
		}
		seed = n
	}
	srv := idptest.New(t)
	clock := srv.Clock()
	clock.Freeze()
	base := clock.Now().Truncate(time.Second)
	md := discoverForOracle(t, srv.Issuer())
	keys := fetchJWKS(t, md)
	tokenEndpoint := md.TokenEndpoint
	r := rand.New(rand.NewSource(seed))
	authAges := []time.Duration{0, time.Minute, 5 * time.Minute, 90 * time.Minute}
	fails, kinds := 0, map[string]int{}
	for n := range configs {
		// Each configuration on a clock 3h after the last, so that nothing
		// of the last one (an ID token, an expiry) reaches into it.
		loginAt := base.Add(time.Duration(n) * 3 * time.Hour)
		authAge := authAges[r.Intn(len(authAges))]
		now := loginAt.Add(authAge)
		cfg := randomConfig(r, now)
		reqs := make([]ocRequest, requests)
		for i := range reqs {
			reqs[i] = cfg.randomRequest(r)
		}
		// Log every user in that a request needs, with every user enabled (a
		// disabled user cannot log in; the exchange of a login from before
		// the user was disabled is what the oracle decides).
		clock.Set(loginAt)
		srv.SetConfig(cfg.yaml(true))
		logins := map[[2]string]idptest.Tokens{}
		for _, q := range reqs {
			loginClient := q.client
			if loginClient == ocUnknownClient {
				loginClient = cfg.clients[0].id
			}
			k := [2]string{cfg.users[q.user].name, loginClient}
			if _, ok := logins[k]; !ok {
				logins[k] = srv.LoginVia(loginClient, k[0])
			}
		}
		clock.Set(now)
		srv.SetConfig(cfg.yaml(false))
		for i, q := range reqs {
			loginClient := q.client
			if loginClient == ocUnknownClient {
				loginClient = cfg.clients[0].id
			}
			tok := logins[[2]string{cfg.users[q.user].name, loginClient}]
			want := cfg.decide(q, now, authAge)
			got := exchangeForOracle(t, tokenEndpoint, cfg, q, tok.IDToken)
			ev := srv.Audit(audit.Filter{Type: "token_exchange", Limit: 1})
			if problems := want.compare(got, ev, keys, q, cfg, now); len(problems) > 0 {
				fails++
				kind := problems[0]
				if i := strings.IndexAny(kind, "\"0123456789"); i > 0 {
					kind = kind[:i]
				}
				kinds[kind]++
				if kinds[kind] <= 2 {
					t.Errorf("seed %d config %d request %d (login %s old, clock %s): %s\nrequest: user %s client %s audience %s resource %q scope %v (sent %t)\noracle: %s\ngot: %+v\nconfig:\n%s",
						seed, n, i, authAge, now.Format(time.RFC3339), strings.Join(problems, "; "),
						cfg.users[q.user].name, q.client, q.audience, q.resource, q.scopes, q.scopeSent,
						want.why, got, cfg.yaml(false))
				}
			}
		}
	}
	if fails > 0 {
		t.Errorf("%d of %d exchanges disagree with the contract oracle (seed %d): %v", fails, configs*requests, seed, kinds)
	}
}

// ocGot is what the token endpoint answered.
type ocGot struct {
	status      int
	err, desc   string
	maxAge      any
	scope       string // the answer's scope
	accessToken string
}

func exchangeForOracle(t *testing.T, endpoint string, cfg *ocConfig, q ocRequest, idToken string) ocGot {
	t.Helper()
	secret := "wrong"
	if cl := cfg.client(q.client); cl != nil {
		secret = cl.secret
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := idpclient.Exchange(ctx, idpclient.ExchangeOptions{
		TokenEndpoint: endpoint, ClientID: q.client, ClientSecret: secret,
		SubjectToken: idToken, Audience: q.audience, Resource: q.resource, Scopes: q.scopes,
	})
	var oe *idpclient.Error
	switch {
	case errors.As(err, &oe):
		return ocGot{status: oe.Status, err: oe.Code, desc: oe.Description, maxAge: oe.Body["max_age"]}
	case err != nil:
		t.Fatalf("token exchange: %v", err)
	}
	g := ocGot{status: http.StatusOK}
	g.scope, _ = tok["scope"].(string)
	g.accessToken, _ = tok["access_token"].(string)
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
	if claims.ClientID != q.client+"-at-"+srv.id {
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
