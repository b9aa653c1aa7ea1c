package policytest

import (
	"fmt"
	"math/rand"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/xaa-idp/xaa-idp/policy"
)

// The oracle: an independent, deliberately naive reading of the decision
// rules of docs/configuration.md ("Decision rules", "Time-bound access")
// and docs/http.md ("/apps"), written from the documents alone, and
// random small configurations and requests to compare it with Decide and
// with the IdP that enforces it (policy/oracle_test.go,
// app/oracle_test.go).

// Model is a random configuration, kept as plain data for the oracle and
// written out as YAML for policy.Parse.
// Model is a random configuration, kept as plain data for the oracle and
// written out as YAML for policy.Parse.
type Model struct {
	groups          []string
	users           []oUser
	clients         []oClient
	servers         []oServer
	deniedError     string
	requireResource bool
}

type oUser struct {
	name     string
	groups   []string
	disabled bool
}

type oClient struct {
	id string
	tx bool
}

type oServer struct {
	id        string
	issuer    string
	aliases   []string
	resources []string
	scopes    []string
	clients   []string // IdP client ids listed in the server's clients map
	access    []oAccess
	deny      []oDeny
}

type oAccess struct {
	users, groups, scopes, clients []string
	maxAge                         time.Duration // 0: none
	expires                        time.Time     // zero: never
}

type oDeny struct {
	users, groups, clients []string
}

// OracleOutcome is the oracle's decision.
type OracleOutcome struct {
	Error   string
	Granted []string
	MaxAge  time.Duration
	Rule    string // the deny rule, or the granting rules when allowed
	Until   time.Time
	Expired []string
	// ReachedAccess: the decision got past the deny check, so expired
	// entries are reported.
	ReachedAccess bool
	// Denied: a refusal once the user is known (or found unknown or
	// disabled), which the audit records as denied rather than error
	// (docs/audit.md); meaningless when allowed.
	Denied bool
}

var oracleBase = time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)

var oracleScopes = []string{"read", "write", "admin", "delete"}

// pick returns a random subset of from, each element kept with probability p.
func pick(r *rand.Rand, from []string, p float64) []string {
	var out []string
	for _, s := range from {
		if r.Float64() < p {
			out = append(out, s)
		}
	}
	return out
}

// RandomModel makes a random small configuration.
func RandomModel(r *rand.Rand) *Model {
	m := &Model{deniedError: "access_denied"}
	if r.Intn(3) == 0 {
		m.deniedError = "invalid_request"
	}
	m.requireResource = r.Intn(4) == 0
	for i := range 2 + r.Intn(3) {
		m.groups = append(m.groups, fmt.Sprintf("g%d", i))
	}
	for i := range 3 + r.Intn(4) {
		m.users = append(m.users, oUser{
			name: fmt.Sprintf("u%d", i), groups: pick(r, m.groups, 0.4), disabled: r.Intn(8) == 0,
		})
	}
	for i := range 1 + r.Intn(3) {
		m.clients = append(m.clients, oClient{id: fmt.Sprintf("c%d", i), tx: r.Intn(10) != 0})
	}
	var userNames, clientIDs []string
	for _, u := range m.users {
		userNames = append(userNames, u.name)
	}
	for _, c := range m.clients {
		clientIDs = append(clientIDs, c.id)
	}
	for i := range 1 + r.Intn(3) {
		s := oServer{id: fmt.Sprintf("s%d", i), issuer: fmt.Sprintf("https://as%d.example", i)}
		if r.Intn(3) == 0 {
			s.issuer += "/"
		}
		if r.Intn(2) == 0 {
			s.aliases = append(s.aliases, fmt.Sprintf("urn:example:s%d", i))
		}
		if r.Intn(3) == 0 {
			s.aliases = append(s.aliases, fmt.Sprintf("https://idp-alias.example/s%d/", i))
		}
		r.Shuffle(len(s.aliases), func(i, j int) { s.aliases[i], s.aliases[j] = s.aliases[j], s.aliases[i] })
		for j := range min(r.Intn(4), 2) {
			res := fmt.Sprintf("https://mcp%d.example/mcp%d", i, j)
			if r.Intn(3) == 0 {
				res += "/"
			}
			s.resources = append(s.resources, res)
		}
		s.scopes = pick(r, oracleScopes, 0.6)
		s.clients = pick(r, clientIDs, 0.85)
		for range r.Intn(4) {
			var a oAccess
			for len(a.users)+len(a.groups) == 0 {
				a.users = pick(r, userNames, 0.3)
				a.groups = pick(r, m.groups, 0.3)
			}
			a.scopes = pick(r, s.scopes, 0.6)
			if r.Intn(3) == 0 {
				a.clients = pick(r, s.clients, 0.5)
			}
			if r.Intn(3) == 0 {
				a.maxAge = []time.Duration{5 * time.Minute, 10 * time.Minute, 15 * time.Minute}[r.Intn(3)]
			}
			if r.Intn(3) == 0 {
				a.expires = oracleBase.Add([]time.Duration{-time.Hour, 0, time.Hour, 2 * time.Hour}[r.Intn(4)])
				if r.Intn(4) == 0 {
					a.expires = a.expires.Add(500 * time.Millisecond)
				}
			}
			s.access = append(s.access, a)
		}
		for range r.Intn(2) + r.Intn(2) {
			var d oDeny
			for len(d.users)+len(d.groups)+len(d.clients) == 0 {
				d.users = pick(r, userNames, 0.2)
				d.groups = pick(r, m.groups, 0.2)
				if r.Intn(2) == 0 {
					d.clients = pick(r, clientIDs, 0.4)
				}
			}
			s.deny = append(s.deny, d)
		}
		m.servers = append(m.servers, s)
	}
	return m
}

func yamlList(l []string) string { return "[" + strings.Join(l, ", ") + "]" }

// YAML is the configuration file of m.
func (m *Model) YAML() string {
	var b strings.Builder
	fmt.Fprintf(&b, "exchange:\n  denied_error: %s\n  require_resource: %v\n", m.deniedError, m.requireResource)
	b.WriteString("groups:\n")
	for _, g := range m.groups {
		fmt.Fprintf(&b, "  - name: %s\n", g)
	}
	b.WriteString("users:\n")
	for _, u := range m.users {
		fmt.Fprintf(&b, "  - username: %s\n    password: pw\n    groups: %s\n    disabled: %v\n", u.name, yamlList(u.groups), u.disabled)
	}
	// an administrator for the admin API, whom no entry names
	b.WriteString("  - username: root\n    password: pw\n    admin: true\n")
	b.WriteString("clients:\n")
	for _, c := range m.clients {
		fmt.Fprintf(&b, "  - client_id: %s\n    client_secret: secret-%s\n    token_exchange: %v\n", c.id, c.id, c.tx)
	}
	b.WriteString("mcp_servers:\n")
	for _, s := range m.servers {
		fmt.Fprintf(&b, "  - id: %s\n    issuer: %s\n    aliases: %s\n    resources: %s\n    scopes: %s\n    clients: {",
			s.id, s.issuer, yamlList(s.aliases), yamlList(s.resources), yamlList(s.scopes))
		for i, c := range s.clients {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s: %s-at-%s", c, c, s.id)
		}
		b.WriteString("}\n    access:\n")
		if len(s.access) == 0 {
			b.WriteString("      []\n")
		}
		for _, a := range s.access {
			fmt.Fprintf(&b, "      - users: %s\n        groups: %s\n        scopes: %s\n        clients: %s\n",
				yamlList(a.users), yamlList(a.groups), yamlList(a.scopes), yamlList(a.clients))
			if a.maxAge > 0 {
				fmt.Fprintf(&b, "        max_auth_age: %s\n", a.maxAge)
			}
			if !a.expires.IsZero() {
				fmt.Fprintf(&b, "        expires: %s\n", a.expires.Format(time.RFC3339Nano))
			}
		}
		b.WriteString("    deny:\n")
		if len(s.deny) == 0 {
			b.WriteString("      []\n")
		}
		for _, d := range s.deny {
			fmt.Fprintf(&b, "      - users: %s\n        groups: %s\n        clients: %s\n",
				yamlList(d.users), yamlList(d.groups), yamlList(d.clients))
		}
	}
	return b.String()
}

// RandomRequest makes a random token exchange for m: known and unknown
// users and clients, the audience in each accepted spelling and wrong, the
// resource absent, right, another server's or unknown, any scopes.
func (m *Model) RandomRequest(r *rand.Rand) policy.Request {
	var q policy.Request
	if r.Intn(20) == 0 {
		q.Username = "nobody"
	} else {
		q.Username = m.users[r.Intn(len(m.users))].name
	}
	if r.Intn(20) == 0 {
		q.ClientID = "ghost"
	} else {
		q.ClientID = m.clients[r.Intn(len(m.clients))].id
	}
	s := m.servers[r.Intn(len(m.servers))]
	switch r.Intn(12) {
	case 0:
		q.Audience = ""
	case 1:
		q.Audience = "https://unknown.example"
	case 2, 3, 9, 10, 11:
		q.Audience = s.issuer
	case 8:
		q.Audience = s.issuer + "/" // "//" after an issuer written with one
	case 4:
		q.Audience = strings.TrimSuffix(s.issuer, "/")
	case 5:
		q.Audience = strings.TrimSuffix(s.issuer, "/") + "/"
	default:
		if len(s.aliases) > 0 {
			q.Audience = s.aliases[r.Intn(len(s.aliases))]
			switch {
			case strings.HasSuffix(q.Audience, "/") && r.Intn(2) == 0:
				q.Audience = strings.TrimSuffix(q.Audience, "/")
			case r.Intn(3) == 0:
				q.Audience += "/" // "//" after an alias written with one
			}
		} else {
			q.Audience = s.issuer
		}
	}
	switch r.Intn(10) {
	case 0, 1, 2, 3:
	case 4:
		q.Resource = "https://elsewhere.example/mcp"
	default:
		// one of a server's resources, maybe another server's, spelled
		// with or without a trailing "/"
		o := s
		if r.Intn(5) == 0 {
			o = m.servers[r.Intn(len(m.servers))]
		}
		if len(o.resources) > 0 {
			q.Resource = o.resources[r.Intn(len(o.resources))]
			switch {
			case r.Intn(6) == 0:
				q.Resource += "/" // "//" after a resource written with one
			case r.Intn(3) == 0 && strings.HasSuffix(q.Resource, "/"):
				q.Resource = strings.TrimSuffix(q.Resource, "/")
			case r.Intn(3) == 0:
				q.Resource += "/"
			}
		}
	}
	// docs/http.md, "URL matching": scheme and host in any case and the
	// default port name the same URL; the path's case does not.
	if r.Intn(5) == 0 {
		q.Audience = respell(r, q.Audience)
	}
	if r.Intn(5) == 0 {
		q.Resource = respell(r, q.Resource)
	}
	if r.Intn(3) != 0 {
		q.Scopes = pick(r, append(slices.Clone(oracleScopes), "bogus"), 0.35)
		if len(q.Scopes) > 0 && r.Intn(5) == 0 {
			q.Scopes = append(q.Scopes, q.Scopes[0]) // a scope named twice
		}
		if len(q.Scopes) > 0 && r.Intn(8) == 0 {
			q.Scopes = append(q.Scopes, strings.ToUpper(q.Scopes[0])) // scopes are case-sensitive
		}
		r.Shuffle(len(q.Scopes), func(i, j int) { q.Scopes[i], q.Scopes[j] = q.Scopes[j], q.Scopes[i] })
	}
	q.Now = oracleBase.Add([]time.Duration{-time.Hour, 0, 58 * time.Minute, time.Hour, 90 * time.Minute, 3 * time.Hour}[r.Intn(6)])
	if r.Intn(4) == 0 {
		q.Now = q.Now.Add(300 * time.Millisecond) // a clock that is not on a second
	}
	if r.Intn(5) != 0 {
		ages := []time.Duration{0, 5 * time.Minute, 5*time.Minute + time.Second, 10 * time.Minute, 15 * time.Minute, 20 * time.Minute, time.Hour}
		// auth_time carries whole seconds
		q.AuthTime = q.Now.Add(-ages[r.Intn(len(ages))]).Truncate(time.Second)
	}
	return q
}

// respell writes an http(s) URL another way: its scheme and host in upper
// case, with its scheme's default port, or with its path in upper case.
func respell(r *rand.Rand, v string) string {
	scheme, rest, ok := strings.Cut(v, "://")
	if !ok || (scheme != "http" && scheme != "https") {
		return v
	}
	host, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		host, path = rest[:i], rest[i:]
	}
	switch r.Intn(3) {
	case 0:
		return strings.ToUpper(scheme+"://"+host) + path
	case 1:
		if !strings.Contains(host, ":") {
			return scheme + "://" + host + map[string]string{"http": ":80", "https": ":443"}[scheme] + path
		}
	}
	return scheme + "://" + host + strings.ToUpper(path)
}

// sameURL compares an audience or resource as the documents say: equal
// once an http(s) URL's scheme and host are in lower case and its default
// port dropped (the values compared here have no percent-encoding), and
// one trailing "/" on either side is tolerated, that is, one side may have
// one "/" more than the other.
func sameURL(a, b string) bool {
	a, b = oracleNormal(a), oracleNormal(b)
	return a == b || a+"/" == b || a == b+"/"
}

func oracleNormal(v string) string {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return v
	}
	host := strings.ToLower(u.Host)
	host = strings.TrimSuffix(host, map[string]string{"http": ":80", "https": ":443"}[u.Scheme])
	return u.Scheme + "://" + host + v[len(u.Scheme)+len("://")+len(u.Host):]
}

// Decide decides q under m from the documents alone; q.Now must be set.
func (m *Model) Decide(q policy.Request) OracleOutcome {
	var c *oClient
	for i := range m.clients {
		if m.clients[i].id == q.ClientID {
			c = &m.clients[i]
		}
	}
	if c == nil {
		return OracleOutcome{Error: "invalid_client"}
	}
	if !c.tx {
		return OracleOutcome{Error: "unauthorized_client"}
	}
	if q.Audience == "" {
		return OracleOutcome{Error: "invalid_request"}
	}
	var s *oServer
	for i := range m.servers {
		for _, a := range append([]string{m.servers[i].issuer}, m.servers[i].aliases...) {
			if sameURL(a, q.Audience) {
				s = &m.servers[i]
			}
		}
	}
	if s == nil {
		return OracleOutcome{Error: "invalid_target"}
	}
	if q.Resource != "" && !slices.ContainsFunc(s.resources, func(r string) bool { return sameURL(r, q.Resource) }) {
		return OracleOutcome{Error: "invalid_target"}
	}
	if q.Resource == "" && m.requireResource {
		return OracleOutcome{Error: "invalid_request"}
	}
	if !slices.Contains(s.clients, q.ClientID) {
		return OracleOutcome{Error: "invalid_target"}
	}
	var u *oUser
	for i := range m.users {
		if m.users[i].name == q.Username {
			u = &m.users[i]
		}
	}
	if u == nil || u.disabled {
		return OracleOutcome{Error: "access_denied", Denied: true}
	}
	var known []string // requested scopes the server knows
	for _, sc := range q.Scopes {
		if slices.Contains(s.scopes, sc) {
			known = append(known, sc)
		}
	}
	if len(q.Scopes) > 0 && len(known) == 0 {
		return OracleOutcome{Error: "invalid_scope", Denied: true}
	}
	isUser := func(users, groups []string) bool {
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
	for i, d := range s.deny {
		if (len(d.users)+len(d.groups) == 0 || isUser(d.users, d.groups)) &&
			(len(d.clients) == 0 || slices.Contains(d.clients, q.ClientID)) {
			return OracleOutcome{Error: m.deniedError, Denied: true, Rule: fmt.Sprintf("%s deny[%d]", s.id, i)}
		}
	}
	out := OracleOutcome{ReachedAccess: true, Denied: true}
	var matching []int
	for i, a := range s.access {
		if !isUser(a.users, a.groups) || len(a.clients) > 0 && !slices.Contains(a.clients, q.ClientID) {
			continue
		}
		if !a.expires.IsZero() && !q.Now.Before(a.expires) {
			out.Expired = append(out.Expired, fmt.Sprintf("%s access[%d]", s.id, i))
			continue
		}
		matching = append(matching, i)
	}
	if len(matching) == 0 {
		// refused by expiry: the expired entry is the rule
		out.Error, out.Rule = m.deniedError, strings.Join(out.Expired, ", ")
		return out
	}
	fresh := func(a oAccess) bool {
		if a.maxAge == 0 {
			return true
		}
		if q.AuthTime.IsZero() {
			return false
		}
		return q.Now.Sub(q.AuthTime) <= a.maxAge
	}
	// Without scope, what was asked is what the entries that count (those
	// whose max_auth_age the login meets) allow: the entries that do not
	// count call for a step-up only when none counts, or when those that
	// count allow no scope and one that does not would (docs/configuration.md,
	// "Decision rules").
	asked := known
	if len(q.Scopes) == 0 {
		for _, i := range matching {
			if fresh(s.access[i]) {
				asked = append(asked, s.access[i].scopes...)
			}
		}
	}
	grants := func(i int, sc string) bool { return slices.Contains(s.access[i].scopes, sc) }
	anyFresh := false
	for _, i := range matching {
		anyFresh = anyFresh || fresh(s.access[i])
	}
	var stepUp time.Duration
	need := func(a oAccess) {
		if stepUp == 0 || a.maxAge < stepUp {
			stepUp = a.maxAge
		}
	}
	for _, sc := range asked {
		ok := false
		for _, i := range matching {
			ok = ok || grants(i, sc) && fresh(s.access[i])
		}
		if ok {
			continue
		}
		for _, i := range matching {
			if grants(i, sc) {
				need(s.access[i])
			}
		}
	}
	if len(q.Scopes) == 0 && !anyFresh {
		// every entry that matches needs a more recent login
		for _, i := range matching {
			need(s.access[i])
		}
	}
	if len(q.Scopes) == 0 && anyFresh && len(asked) == 0 {
		// the entries that count allow no scope: a more recent login is
		// asked for when it would grant some
		for _, i := range matching {
			if !fresh(s.access[i]) && len(s.access[i].scopes) > 0 {
				need(s.access[i])
			}
		}
	}
	if stepUp > 0 {
		out.Error = "insufficient_user_authentication"
		out.MaxAge = stepUp
		return out
	}
	var rules []string
	for _, sc := range s.scopes {
		if !slices.Contains(asked, sc) {
			continue
		}
		var until time.Time
		forever := false
		for _, i := range matching {
			if grants(i, sc) && fresh(s.access[i]) {
				if e := s.access[i].expires; e.IsZero() {
					forever = true
				} else if e.After(until) {
					until = e
				}
			}
		}
		if !forever && until.IsZero() {
			continue // not granted
		}
		out.Granted = append(out.Granted, sc)
		if !forever && (out.Until.IsZero() || until.Before(out.Until)) {
			out.Until = until
		}
	}
	if len(q.Scopes) > 0 && len(out.Granted) == 0 {
		out.Error = "invalid_scope"
		return out
	}
	if len(out.Granted) == 0 {
		// no scope: the access itself ends when the last fresh entry does
		var until time.Time
		for _, i := range matching {
			if e := s.access[i].expires; !fresh(s.access[i]) {
				continue
			} else if e.IsZero() {
				until = time.Time{}
				break
			} else if e.After(until) {
				until = e
			}
		}
		out.Until = until
	}
	for _, i := range matching {
		if fresh(s.access[i]) && slices.ContainsFunc(out.Granted, func(sc string) bool { return grants(i, sc) }) {
			rules = append(rules, fmt.Sprintf("%s access[%d]", s.id, i))
		}
	}
	out.Rule = strings.Join(rules, ", ")
	return out
}

// Differs names the first way d differs from want, "" when it does not.
func (want OracleOutcome) Differs(d policy.Decision) string {
	if want.Error != d.Error {
		return fmt.Sprintf("error %q, oracle %q", d.Error, want.Error)
	}
	if want.MaxAge != d.MaxAge {
		return fmt.Sprintf("max_age %v, oracle %v", d.MaxAge, want.MaxAge)
	}
	if !slices.Equal(want.Granted, d.Scopes) {
		return fmt.Sprintf("scopes %q, oracle %q", d.Scopes, want.Granted)
	}
	if d.Allowed && !want.Until.Equal(d.Until) {
		return fmt.Sprintf("until %v, oracle %v", d.Until, want.Until)
	}
	if d.Allowed && len(want.Granted) > 0 {
		// the rules named must be among those that grant, and together
		// grant every granted scope; which of several granting entries
		// are named is the product's choice
		for _, rule := range strings.Split(d.Rule, ", ") {
			if !slices.Contains(strings.Split(want.Rule, ", "), rule) {
				return fmt.Sprintf("rule %q, oracle %q", d.Rule, want.Rule)
			}
		}
	}
	if !d.Allowed && want.Rule != "" && !strings.Contains(want.Rule, "deny[") {
		// refused because the entries that would match expired: the rule
		// names some of them
		for _, rule := range strings.Split(d.Rule, ", ") {
			if !slices.Contains(strings.Split(want.Rule, ", "), rule) {
				return fmt.Sprintf("rule %q, oracle some of %q", d.Rule, want.Rule)
			}
		}
	}
	if want.ReachedAccess && want.Rule == "" && want.Error != "" && want.Error != "insufficient_user_authentication" &&
		want.Error != "invalid_scope" && d.Rule != "" {
		return fmt.Sprintf("rule %q for a user no entry matches", d.Rule)
	}
	if strings.Contains(want.Rule, "deny[") && want.Rule != d.Rule {
		return fmt.Sprintf("rule %q, oracle %q", d.Rule, want.Rule)
	}
	if want.ReachedAccess {
		var got []string
		for _, e := range d.Expired {
			got = append(got, e.Rule)
		}
		if !slices.Equal(want.Expired, got) {
			return fmt.Sprintf("expired %q, oracle %q", got, want.Expired)
		}
	}
	return ""
}

// Reachable says from the documents whether the user may reach the
// server at now (Config.Reachable: what revocation push watches): the user
// is enabled and some client the server lists, allowed token exchange,
// has an unexpired access entry for the user that no deny entry overrides.
// Scopes and max_auth_age do not matter.
func (m *Model) Reachable(username, serverID string, now time.Time) bool {
	var u *oUser
	for i := range m.users {
		if m.users[i].name == username {
			u = &m.users[i]
		}
	}
	if u == nil || u.disabled {
		return false
	}
	is := func(users, groups []string) bool {
		return slices.Contains(users, u.name) || slices.ContainsFunc(groups, func(g string) bool { return slices.Contains(u.groups, g) })
	}
	for _, s := range m.servers {
		if s.id != serverID {
			continue
		}
		for _, c := range m.clients {
			if !c.tx || !slices.Contains(s.clients, c.id) {
				continue
			}
			denied := slices.ContainsFunc(s.deny, func(d oDeny) bool {
				return (len(d.users)+len(d.groups) == 0 || is(d.users, d.groups)) && (len(d.clients) == 0 || slices.Contains(d.clients, c.id))
			})
			if !denied && slices.ContainsFunc(s.access, func(a oAccess) bool {
				return is(a.users, a.groups) && (len(a.clients) == 0 || slices.Contains(a.clients, c.id)) &&
					(a.expires.IsZero() || now.Before(a.expires))
			}) {
				return true
			}
		}
	}
	return false
}

// Users are the usernames of m's users.
func (m *Model) Users() []string {
	var names []string
	for _, u := range m.users {
		names = append(names, u.name)
	}
	return names
}

// OracleStanding is where a user stands with a server whatever the
// client, as "My MCP servers" shows it (docs/http.md, "/apps").
type OracleStanding struct {
	Denied, Assigned bool
	Scopes           []string
	Until            time.Time
}

// Standing reads policy.Standing's documentation: Denied when a deny
// entry names the user (or a group of the user) and no clients; Assigned
// when an unexpired access entry names the user or a group and the user is
// not Denied, with what those entries give and when the last ends.
func (m *Model) Standing(username, serverID string, now time.Time) OracleStanding {
	var st OracleStanding
	var u *oUser
	for i := range m.users {
		if m.users[i].name == username {
			u = &m.users[i]
		}
	}
	is := func(users, groups []string) bool {
		return slices.Contains(users, u.name) || slices.ContainsFunc(groups, func(g string) bool { return slices.Contains(u.groups, g) })
	}
	for _, s := range m.servers {
		if s.id != serverID {
			continue
		}
		st.Denied = slices.ContainsFunc(s.deny, func(d oDeny) bool { return len(d.clients) == 0 && is(d.users, d.groups) })
		if st.Denied {
			return st
		}
		forever := false
		for _, a := range s.access {
			if !is(a.users, a.groups) || !a.expires.IsZero() && !now.Before(a.expires) {
				continue
			}
			st.Assigned = true
			if a.expires.IsZero() {
				forever = true
			} else if a.expires.After(st.Until) {
				st.Until = a.expires
			}
			for _, sc := range a.scopes {
				if !slices.Contains(st.Scopes, sc) {
					st.Scopes = append(st.Scopes, sc)
				}
			}
		}
		if forever {
			st.Until = time.Time{}
		}
		var ordered []string
		for _, sc := range s.scopes {
			if slices.Contains(st.Scopes, sc) {
				ordered = append(ordered, sc)
			}
		}
		st.Scopes = ordered
	}
	return st
}

// Mutate returns a copy of m with a few random edits of the kinds that
// take access away or give it: a user disabled or enabled, moved between
// groups or removed; an access entry removed or its expires moved; a deny
// entry added; a client's token exchange switched.
func (m *Model) Mutate(r *rand.Rand) *Model {
	n := *m
	n.users = slices.Clone(m.users)
	for i := range n.users {
		n.users[i].groups = slices.Clone(n.users[i].groups)
	}
	n.clients = slices.Clone(m.clients)
	n.servers = slices.Clone(m.servers)
	for i := range n.servers {
		n.servers[i].access = slices.Clone(n.servers[i].access)
		n.servers[i].deny = slices.Clone(n.servers[i].deny)
	}
	for range 1 + r.Intn(3) {
		s := &n.servers[r.Intn(len(n.servers))]
		switch r.Intn(7) {
		case 0:
			u := &n.users[r.Intn(len(n.users))]
			u.disabled = !u.disabled
		case 1:
			u := &n.users[r.Intn(len(n.users))]
			u.groups = pick(r, n.groups, 0.4)
		case 2:
			if len(n.users) > 1 {
				i := r.Intn(len(n.users))
				gone := n.users[i].name
				n.users = slices.Delete(n.users, i, i+1)
				for k := range n.servers {
					sv := &n.servers[k]
					var access []oAccess
					for _, a := range sv.access {
						a.users = slices.DeleteFunc(slices.Clone(a.users), func(u string) bool { return u == gone })
						if len(a.users)+len(a.groups) > 0 {
							access = append(access, a)
						}
					}
					var deny []oDeny
					for _, d := range sv.deny {
						d.users = slices.DeleteFunc(slices.Clone(d.users), func(u string) bool { return u == gone })
						if len(d.users)+len(d.groups)+len(d.clients) > 0 {
							deny = append(deny, d)
						}
					}
					sv.access, sv.deny = access, deny
				}
			}
		case 3:
			if len(s.access) > 0 {
				i := r.Intn(len(s.access))
				s.access = slices.Delete(s.access, i, i+1)
			}
		case 4:
			if len(s.access) > 0 {
				a := &s.access[r.Intn(len(s.access))]
				a.expires = oracleBase.Add([]time.Duration{-time.Hour, 30 * time.Minute, time.Hour}[r.Intn(3)])
			}
		case 5:
			d := oDeny{users: []string{n.users[r.Intn(len(n.users))].name}}
			if r.Intn(2) == 0 && len(s.clients) > 0 {
				d.clients = []string{s.clients[r.Intn(len(s.clients))]}
			}
			s.deny = append(s.deny, d)
		case 6:
			c := &n.clients[r.Intn(len(n.clients))]
			c.tx = !c.tx
		}
	}
	return &n
}

// Revocations are the losses from m at oldAt to n at at, as the
// documents describe revocation push: "user server" for each user who
// could reach a server and cannot now (a removed user or server counts),
// with " disabled" when the user was enabled and is now disabled.
func Revocations(m *Model, oldAt time.Time, n *Model, at time.Time) []string {
	var out []string
	for _, u := range m.users {
		for _, s := range m.servers {
			if !m.Reachable(u.name, s.id, oldAt) {
				continue
			}
			i := slices.IndexFunc(n.users, func(v oUser) bool { return v.name == u.name })
			switch {
			case i >= 0 && n.users[i].disabled && !u.disabled:
				out = append(out, u.name+" "+s.id+" disabled")
			case !n.Reachable(u.name, s.id, at):
				out = append(out, u.name+" "+s.id)
			}
		}
	}
	slices.Sort(out)
	return out
}
