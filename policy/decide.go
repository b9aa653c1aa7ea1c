package policy

import (
	"fmt"
	"strings"
	"time"
)

// Request is a token exchange for an ID-JAG, reduced to what policy needs.
// The caller has already authenticated the client and validated the
// subject token.
type Request struct {
	Username string // the user (login name)
	ClientID string // the IdP client asking
	// Client is the client asking when the configuration does not define
	// it: one resolved from its metadata document (the cimd section); nil
	// means ClientID is looked up in the configuration.
	Client   *Client
	Audience string    // as the client sent it (aliases, trailing slash allowed)
	Resource string    // "" when absent
	Scopes   []string  // empty = not given
	AuthTime time.Time // when the user logged in; zero when unknown
	Now      time.Time // zero = time.Now()
}

// Decision is the outcome of Decide: everything the IdP needs to answer the
// exchange, so that it decides nothing itself. It maps Error to the OAuth
// error answer, MaxAge to the answer's max_age, Denied to the audit
// outcome, and, on an allowed decision, signs the ID-JAG from Server,
// ServerClientID, Resource and Scopes and enforces SingleUseFor.
type Decision struct {
	Allowed bool
	// Error is the OAuth error code when refused.
	Error string
	// Description is the error_description for the client: it says what to
	// fix and never reveals other users' assignments or the access lists.
	Description string
	// Reason is the full explanation, for the audit log and `explain`, for
	// allowed and refused decisions alike.
	Reason string
	// Rule names the rule that decided: "<server id> access[i]" or
	// "<server id> deny[i]" (0-based), or "" when no rule did (an unknown
	// audience, a user assigned nowhere). When several access entries
	// contributed granted scopes, Rule lists each, in configuration order,
	// separated by ", ".
	Rule string
	// Server is the MCP server the audience names, nil when the audience is
	// unknown; it is set even when an earlier check refuses.
	Server *MCPServer
	// Scopes are the granted scopes, in the server's scope order.
	Scopes []string
	// ServerClientID is the client's client_id at the server: the ID-JAG's
	// "client_id" (ID-JAG draft -02 and later).
	ServerClientID string
	// MaxAge is the login age the server requires, set only with
	// insufficient_user_authentication: the error's max_age (ID-JAG draft
	// section 9.2, RFC 9470 section 3).
	MaxAge time.Duration
	// SingleUseFor is set on an allowed decision when
	// exchange.single_use_subject is on: a subject ID token may then be
	// exchanged once per MCP server, and the IdP remembers it as used for
	// this long (docs/configuration.md, "exchange"). Zero: reusable.
	SingleUseFor time.Duration
	// Resource is the requested resource as the configuration spells it
	// (the request may differ by a trailing "/"), for the ID-JAG's
	// "resource"; "" when none was requested.
	Resource string
	// User is the resolved user, nil when unknown.
	User *User
	// Expired lists the access entries that match the user and the client
	// but have expired (their expires is not after Request.Now): refused
	// because of them, or allowed by others. The IdP audits each as an
	// access_request event with outcome expired (docs/audit.md).
	Expired []Expiry
}

// Expiry is an access entry that has expired.
type Expiry struct {
	// Rule names the entry: "<server id> access[i]".
	Rule string `json:"rule"`
	// At is the entry's expires.
	At time.Time `json:"expired_at"`
}

// Denied reports whether a refusal is a policy denial, one about the user
// (unknown or disabled, deny and access entries, scopes, step-up), rather
// than an error in the request (client, audience, resource). The audit log
// records the first as denied and the second as an error, whatever code
// exchange.denied_error makes the client see (docs/audit.md).
func (d Decision) Denied() bool {
	return !d.Allowed && (d.User != nil || d.Error == ErrAccessDenied)
}

// match is an access entry that matches the user and the client.
type match struct {
	index int
	entry *Access
	how   string // why it matches, e.g. "groups: engineering"
}

// Decide evaluates the policy for a token exchange. It checks, in order:
// the client (invalid_client, unauthorized_client), the audience
// (invalid_request, invalid_target), the resource (invalid_target, or
// invalid_request when Exchange.RequireResource), the client's connection
// to the server (invalid_target), the user (access_denied), the scopes the
// server knows (invalid_scope), deny entries and access entries
// (Exchange.DeniedError), the login age (insufficient_user_authentication)
// and finally the granted scopes (invalid_scope when nothing requested is
// granted). Without requested scopes, everything the matching entries allow
// is granted.
func (c *Config) Decide(r Request) Decision {
	if r.Now.IsZero() {
		r.Now = time.Now()
	}
	// The server is resolved first so that even a refusal for the client
	// names it, for the audit log; the checks still run in the documented
	// order.
	s := c.ServerByAudience(r.Audience)
	d := Decision{Server: s}
	refuse := func(code, description, reason string) Decision {
		d.Allowed, d.Error, d.Description, d.Reason = false, code, description, reason
		return d
	}

	client := r.Client
	if client == nil {
		client = c.Client(r.ClientID)
	}
	if client == nil {
		return refuse(ErrInvalidClient,
			fmt.Sprintf("client %q is not registered at this IdP", r.ClientID),
			fmt.Sprintf("client %s is not registered", r.ClientID))
	}
	if !client.TokenExchange {
		return refuse(ErrUnauthorizedClient,
			fmt.Sprintf("client %q is not enabled for token exchange (ID-JAG)", r.ClientID),
			fmt.Sprintf("client %s has token_exchange: false", r.ClientID))
	}

	if r.Audience == "" {
		return refuse(ErrInvalidRequest,
			"audience is required: the issuer URL of the MCP server's authorization server",
			"no audience given")
	}
	if s == nil {
		// The classic mix-up: the MCP server's URL instead of its
		// authorization server's issuer (EMA: the audience is the
		// authorization server).
		if m := c.serverByResource(r.Audience); m != nil {
			return refuse(ErrInvalidTarget,
				fmt.Sprintf("unknown audience %q: that is the MCP server's URL (the resource); did you mean %s, the issuer of its authorization server?", r.Audience, m.Issuer),
				fmt.Sprintf("audience %s is a resource of server %s, not its issuer %s", r.Audience, m.ID, m.Issuer))
		}
		return refuse(ErrInvalidTarget,
			fmt.Sprintf("unknown audience %q: use the issuer URL of an MCP server's authorization server registered at this IdP", r.Audience),
			fmt.Sprintf("audience %s is not the issuer or an alias of any MCP server", r.Audience))
	}
	label := fmt.Sprintf("MCP server %q (%s)", s.Label(), s.Issuer)

	// The IdP checks that audience and resource belong together (EMA
	// section 7.6.1): an ID-JAG must not name another server's resource.
	if r.Resource != "" {
		d.Resource = s.resource(r.Resource)
		if d.Resource == "" {
			return refuse(ErrInvalidTarget,
				fmt.Sprintf("resource %q does not belong to %s; %s", r.Resource, label, acceptedResources(s)),
				fmt.Sprintf("resource %s is not one of server %s's resources", r.Resource, s.ID))
		}
	} else if c.Exchange.RequireResource {
		return refuse(ErrInvalidRequest,
			fmt.Sprintf("resource is required for %s; %s", label, acceptedResources(s)),
			fmt.Sprintf("no resource given and exchange.require_resource is on (server %s)", s.ID))
	}

	serverClientID, connected := s.Clients[client.ClientID]
	if !connected {
		return refuse(ErrInvalidTarget,
			fmt.Sprintf("client %q has no connection to %s", client.ClientID, label),
			fmt.Sprintf("server %s does not list client %s under clients", s.ID, client.ClientID))
	}
	d.ServerClientID = serverClientID

	user := c.User(r.Username)
	if user == nil {
		return refuse(ErrAccessDenied,
			fmt.Sprintf("user %q is not known to this IdP", r.Username),
			fmt.Sprintf("user %s is not in the configuration", r.Username))
	}
	if !user.Active() {
		return refuse(ErrAccessDenied,
			fmt.Sprintf("user %q is disabled", user.Username),
			fmt.Sprintf("user %s is disabled", user.Username))
	}
	d.User = user

	requested := uniqueScopes(r.Scopes)
	// Scopes the server does not know are simply not granted, like any
	// scope no entry allows (docs/configuration.md, "Decision rules":
	// granted scopes are the requested ones the entries allow); only a request of nothing but
	// unknown scopes is refused outright, with the known ones listed.
	if unknown := minus(requested, s.Scopes); len(unknown) > 0 && len(unknown) == len(requested) {
		return refuse(ErrInvalidScope,
			fmt.Sprintf("%s does not know %s %s; known scopes: %s", label, plural(len(unknown), "scope", "scopes"), strings.Join(unknown, " "), orNone(s.Scopes)),
			fmt.Sprintf("server %s does not list %s %s", s.ID, plural(len(unknown), "scope", "scopes"), strings.Join(unknown, " ")))
	}

	denied := c.denyError()
	for i := range s.Deny {
		e := &s.Deny[i]
		if how, ok := denyMatches(e, user, client.ClientID); ok {
			d.Rule = fmt.Sprintf("%s deny[%d]", s.ID, i)
			return refuse(denied,
				fmt.Sprintf("user %q may not use %s: an administrator denied it", user.Username, label),
				fmt.Sprintf("user %s is denied on %s by %s (%s)", user.Username, s.ID, d.Rule, how))
		}
	}

	matches, otherClients, expired := matchAccess(s, user, client.ClientID, r.Now)
	d.Expired = expired
	if len(matches) == 0 {
		if len(expired) > 0 {
			d.Rule = expiredRules(expired)
			return refuse(denied,
				fmt.Sprintf("user %q's access to %s expired at %s; ask an administrator to renew it", user.Username, label, expired[len(expired)-1].At.Format(time.RFC3339)),
				expiredReason(user, s, expired))
		}
		if len(otherClients) > 0 {
			return refuse(denied,
				fmt.Sprintf("user %q is not assigned to %s through client %q", user.Username, label, client.ClientID),
				fmt.Sprintf("user %s is assigned to %s only through other clients: %s", user.Username, s.ID, strings.Join(otherClients, "; ")))
		}
		return refuse(denied,
			fmt.Sprintf("user %q is not assigned to %s; ask an administrator for access", user.Username, label),
			fmt.Sprintf("user %s is not assigned to server %s (no access entry names the user or %s)", user.Username, s.ID, groupsPhrase(user)))
	}

	d = grant(d, r, s, requested, matches)
	if len(expired) > 0 {
		d.Reason += "; " + expiredReason(user, s, expired)
	}
	if d.Allowed && c.Exchange.SingleUseSubject {
		// Remembered for the refresh token lifetime, the longest grant one
		// login yields: far longer than an ID token lives.
		d.SingleUseFor = c.Lifetimes.RefreshToken.D()
	}
	return d
}

// matchAccess returns the unexpired access entries that match the user
// (directly or by group) and the client (when the entry names clients),
// describes the entries that match the user only through other clients,
// and lists those that would match but have expired at now.
func matchAccess(s *MCPServer, user *User, clientID string, now time.Time) (matches []match, otherClients []string, expired []Expiry) {
	for i := range s.Access {
		e := &s.Access[i]
		how, ok := userMatches(e.Users, e.Groups, user)
		if !ok {
			continue
		}
		if e.Expired(now) {
			if len(e.Clients) == 0 || contains(e.Clients, clientID) {
				expired = append(expired, Expiry{Rule: fmt.Sprintf("%s access[%d]", s.ID, i), At: e.Expires.T()})
			}
			continue
		}
		if len(e.Clients) > 0 {
			if !contains(e.Clients, clientID) {
				otherClients = append(otherClients, fmt.Sprintf("%s access[%d] (clients: %s)", s.ID, i, strings.Join(e.Clients, ", ")))
				continue
			}
			how += "; clients: " + clientID
		}
		matches = append(matches, match{index: i, entry: e, how: how})
	}
	return matches, otherClients, expired
}

// expiredReason says which of the user's entries expired, and when.
func expiredReason(u *User, s *MCPServer, expired []Expiry) string {
	parts := make([]string, len(expired))
	for i, x := range expired {
		parts[i] = fmt.Sprintf("user %s's access to %s by %s expired at %s", u.Username, s.ID, x.Rule, x.At.Format(time.RFC3339))
	}
	return strings.Join(parts, "; ")
}

func expiredRules(expired []Expiry) string {
	names := make([]string, len(expired))
	for i, x := range expired {
		names[i] = x.Rule
	}
	return strings.Join(names, ", ")
}

// grant finishes a decision for a user that access entries match: it
// applies step-up (max_auth_age) and computes the granted scopes.
func grant(d Decision, r Request, s *MCPServer, requested []string, matches []match) Decision {
	user := d.User
	var fresh, stale []match
	for _, m := range matches {
		if loginRecentEnough(m.entry.MaxAuthAge.D(), r.AuthTime, r.Now) {
			fresh = append(fresh, m)
		} else {
			stale = append(stale, m)
		}
	}
	freshScopes := scopesOf(fresh)
	staleScopes := scopesOf(stale)

	// Step-up (ID-JAG draft section 9.2, RFC 9470): ask for a new login only
	// when one would change the answer.
	var needLogin []string // scopes only a more recent login would grant
	var helpers []match    // stale entries that would grant them
	switch {
	case len(requested) > 0:
		needLogin = intersect(minus(requested, freshScopes), staleScopes)
		for _, m := range stale {
			if len(intersect(m.entry.Scopes, needLogin)) > 0 {
				helpers = append(helpers, m)
			}
		}
	case len(fresh) == 0:
		needLogin, helpers = staleScopes, stale
	case len(freshScopes) == 0:
		for _, m := range stale {
			if len(m.entry.Scopes) > 0 {
				helpers = append(helpers, m)
			}
		}
		needLogin = staleScopes
	}
	if len(helpers) > 0 {
		return stepUp(d, r, s, needLogin, helpers)
	}

	if len(requested) > 0 {
		d.Scopes = inOrder(s.Scopes, intersect(requested, freshScopes))
	} else {
		d.Scopes = inOrder(s.Scopes, freshScopes)
	}
	if len(requested) > 0 && len(d.Scopes) == 0 {
		d.Rule = ruleList(s, fresh)
		d.Error = ErrInvalidScope
		d.Description = fmt.Sprintf("none of the requested scopes (%s) is granted to user %q for MCP server %q", strings.Join(requested, " "), user.Username, s.Label())
		d.Reason = fmt.Sprintf("user %s requested %s on %s, which no matching entry allows; assigned: %s",
			user.Username, strings.Join(requested, " "), s.ID, describe(s, matches, r))
		return d
	}

	contributors, contributed := contributions(fresh, d.Scopes)
	d.Allowed = true
	d.Rule = ruleList(s, contributors)
	parts := make([]string, len(contributors))
	for i, m := range contributors {
		what := "no scopes"
		if len(contributed[i]) > 0 {
			what = strings.Join(contributed[i], " ")
		}
		parts[i] = fmt.Sprintf("%s by %s access[%d] (%s%s)", what, s.ID, m.index, m.how, ageNote(m.entry, r))
	}
	d.Reason = fmt.Sprintf("user %s is assigned %s", user.Username, strings.Join(parts, ", "))
	notGranted := minus(requested, d.Scopes)
	if unknown := minus(notGranted, s.Scopes); len(unknown) > 0 {
		d.Reason += fmt.Sprintf("; %s does not know %s", s.ID, strings.Join(unknown, " "))
		notGranted = minus(notGranted, unknown)
	}
	if len(notGranted) > 0 {
		d.Reason += "; not assigned: " + strings.Join(notGranted, " ")
	}
	if later := minus(inOrder(s.Scopes, staleScopes), d.Scopes); len(requested) == 0 && len(later) > 0 {
		d.Reason += "; a more recent login would also grant " + strings.Join(later, " ")
	}
	return d
}

// stepUp refuses with insufficient_user_authentication, asking for the
// smallest max_auth_age among the entries that would help.
func stepUp(d Decision, r Request, s *MCPServer, scopes []string, helpers []match) Decision {
	best := helpers[0]
	for _, m := range helpers[1:] {
		if m.entry.MaxAuthAge < best.entry.MaxAuthAge {
			best = m
		}
	}
	d.Error = ErrInsufficientUserAuthentication
	d.MaxAge = best.entry.MaxAuthAge.D()
	d.Rule = fmt.Sprintf("%s access[%d]", s.ID, best.index)
	d.Description = fmt.Sprintf("MCP server %q requires a login within the last %s: log in again and retry", s.Label(), best.entry.MaxAuthAge)
	last := "the login time is unknown"
	if !r.AuthTime.IsZero() {
		last = fmt.Sprintf("the login was %s ago", loginAge(r))
	}
	what := "access"
	if len(scopes) > 0 {
		what = strings.Join(inOrder(s.Scopes, scopes), " ")
	}
	d.Reason = fmt.Sprintf("user %s needs a login within %s for %s by %s (%s); %s",
		d.User.Username, best.entry.MaxAuthAge, what, d.Rule, best.how, last)
	return d
}

// denyError is the configured error for policy refusals.
func (c *Config) denyError() string {
	if c.Exchange.DeniedError != "" {
		return c.Exchange.DeniedError
	}
	return DefaultDeniedError
}

// loginRecentEnough reports whether a login at authTime satisfies maxAge at
// now. An unknown login time satisfies only entries without maxAge.
func loginRecentEnough(maxAge time.Duration, authTime, now time.Time) bool {
	if maxAge == 0 {
		return true
	}
	return !authTime.IsZero() && now.Sub(authTime) <= maxAge
}

// ageNote explains a satisfied max_auth_age in a reason.
func ageNote(e *Access, r Request) string {
	if e.MaxAuthAge == 0 {
		return ""
	}
	return fmt.Sprintf("; login %s ago, within max_auth_age %s", loginAge(r), e.MaxAuthAge)
}

// loginAge is how long ago the user logged in, to the second; a login time
// in the future (clock skew between IdP instances) counts as now.
func loginAge(r Request) Duration {
	return Duration(max(r.Now.Sub(r.AuthTime), 0).Round(time.Second))
}

// userMatches reports whether the user is one of users or a member of one
// of groups, and says which.
func userMatches(users, groups []string, u *User) (string, bool) {
	if contains(users, u.Username) {
		return "users: " + u.Username, true
	}
	var via []string
	for _, g := range groups {
		if u.InGroup(g) {
			via = append(via, g)
		}
	}
	if len(via) > 0 {
		return "groups: " + strings.Join(via, ", "), true
	}
	return "", false
}

// denyMatches applies a deny entry: its fields are ANDed, and an omitted
// field matches everyone.
func denyMatches(e *Deny, u *User, clientID string) (string, bool) {
	var how []string
	if len(e.Users) > 0 || len(e.Groups) > 0 {
		who, ok := userMatches(e.Users, e.Groups, u)
		if !ok {
			return "", false
		}
		how = append(how, who)
	}
	if len(e.Clients) > 0 {
		if !contains(e.Clients, clientID) {
			return "", false
		}
		how = append(how, "clients: "+clientID)
	}
	return strings.Join(how, "; "), len(how) > 0
}

// contributions picks, in configuration order, the entries that add at
// least one granted scope not added by an earlier entry, with what each
// adds. When nothing is granted (a server without scopes) the first entry
// decides.
func contributions(entries []match, granted []string) ([]match, [][]string) {
	var who []match
	var what [][]string
	var covered []string
	for _, m := range entries {
		add := minus(intersect(granted, m.entry.Scopes), covered)
		if len(add) == 0 {
			continue
		}
		who = append(who, m)
		what = append(what, add)
		covered = append(covered, add...)
	}
	if len(who) == 0 && len(entries) > 0 {
		return entries[:1], [][]string{nil}
	}
	return who, what
}

// describe lists entries with why they match and what they allow, for
// reasons.
func describe(s *MCPServer, entries []match, r Request) string {
	parts := make([]string, len(entries))
	for i, m := range entries {
		note := ""
		if !loginRecentEnough(m.entry.MaxAuthAge.D(), r.AuthTime, r.Now) {
			note = fmt.Sprintf("; needs a login within %s", m.entry.MaxAuthAge)
		}
		parts[i] = fmt.Sprintf("%s by %s access[%d] (%s%s)", orNone(m.entry.Scopes), s.ID, m.index, m.how, note)
	}
	return strings.Join(parts, ", ")
}

// ruleList names entries as a Rule.
func ruleList(s *MCPServer, entries []match) string {
	names := make([]string, len(entries))
	for i, m := range entries {
		names[i] = fmt.Sprintf("%s access[%d]", s.ID, m.index)
	}
	return strings.Join(names, ", ")
}

func acceptedResources(s *MCPServer) string {
	if len(s.Resources) == 0 {
		return "it has no resources configured"
	}
	return "accepted resources: " + strings.Join(s.Resources, " ")
}

func groupsPhrase(u *User) string {
	if len(u.Groups) == 0 {
		return "no groups"
	}
	return "the user's groups: " + strings.Join(u.Groups, ", ")
}

// scopesOf is the union of the entries' scopes.
func scopesOf(entries []match) []string {
	var out []string
	for _, m := range entries {
		for _, sc := range m.entry.Scopes {
			if !contains(out, sc) {
				out = append(out, sc)
			}
		}
	}
	return out
}

// uniqueScopes drops empty and repeated scopes, keeping the first order.
func uniqueScopes(scopes []string) []string {
	var out []string
	for _, sc := range scopes {
		if sc != "" && !contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out
}

// minus returns the elements of a that are not in b, in a's order.
func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// intersect returns the elements of a that are in b, in a's order.
func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		if contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// inOrder returns the elements of set, ordered as in order (elements of
// order only).
func inOrder(order, set []string) []string { return intersect(order, set) }

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, " ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
