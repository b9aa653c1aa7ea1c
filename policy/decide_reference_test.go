package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/cimd/urlpattern"
)

// refMatch is an access entry that matches the user and the client.
type refMatch struct {
	index int
	entry *Access
	how   string // why it matches, e.g. "groups: engineering"
}

// decideReference is Decide as it was before it was made cheap (commit
// d689849), kept as the reference that TestDecide_MatchesReference
// compares Decide with; only its names changed (and, since 2026-12-06, the
// reason of a metadata document client refused by cimd.token_exchange, in
// step with Decide). It evaluates the policy
// for a token exchange. It checks, in order:
// the client (invalid_client, unauthorized_client), the audience
// (invalid_request, invalid_target), the resource (invalid_target, or
// invalid_request when Exchange.RequireResource), the client's connection
// to the server (invalid_target), the user (access_denied), the scopes the
// server knows (invalid_scope), deny entries and access entries
// (Exchange.DeniedError), the login age (insufficient_user_authentication)
// and finally the granted scopes (invalid_scope when nothing requested is
// granted). Without requested scopes, everything the matching entries allow
// is granted.
func (c *Config) decideReference(r Request) Decision {
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
			fmt.Sprintf("client_id %q is not registered at this IdP", r.ClientID),
			fmt.Sprintf("client %s is not registered", r.ClientID))
	}
	if !client.TokenExchange {
		reason := fmt.Sprintf("client %s has token_exchange: false", r.ClientID)
		fix := "an administrator sets token_exchange: true in its clients entry"
		if c.Client(r.ClientID) == nil && urlpattern.IsURL(r.ClientID) {
			reason = fmt.Sprintf("client %s is a metadata document client and cimd.token_exchange is false", r.ClientID)
			fix = "an administrator sets cimd.token_exchange: true"
		}
		return refuse(ErrUnauthorizedClient,
			fmt.Sprintf("client %q is not enabled for token exchange (ID-JAG): %s", r.ClientID, fix), reason)
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
				fmt.Sprintf("resource %q does not belong to %s; %s", r.Resource, label, refAcceptedResources(s)),
				fmt.Sprintf("resource %s is not one of server %s's resources", r.Resource, s.ID))
		}
	} else if c.Exchange.RequireResource {
		return refuse(ErrInvalidRequest,
			fmt.Sprintf("resource is required for %s; %s", label, refAcceptedResources(s)),
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

	requested := refUniqueScopes(r.Scopes)
	// Scopes the server does not know are simply not granted, like any
	// scope no entry allows (docs/configuration.md, "Decision rules":
	// granted scopes are the requested ones the entries allow); only a request of nothing but
	// unknown scopes is refused outright, with the known ones listed.
	if unknown := refMinus(requested, s.Scopes); len(unknown) > 0 && len(unknown) == len(requested) {
		return refuse(ErrInvalidScope,
			fmt.Sprintf("%s does not know %s %s; known scopes: %s", label, refPlural(len(unknown), "scope", "scopes"), strings.Join(unknown, " "), refOrNone(s.Scopes)),
			fmt.Sprintf("server %s does not list %s %s", s.ID, refPlural(len(unknown), "scope", "scopes"), strings.Join(unknown, " ")))
	}

	denied := c.denyError()
	for i := range s.Deny {
		e := &s.Deny[i]
		if how, ok := refDenyMatches(e, user, client.ClientID); ok {
			d.Rule = fmt.Sprintf("%s deny[%d]", s.ID, i)
			through := ""
			if len(e.Clients) > 0 {
				through = fmt.Sprintf(" through client %q", client.ClientID)
			}
			return refuse(denied,
				fmt.Sprintf("user %q may not use %s%s: an administrator denied it", user.Username, label, through),
				fmt.Sprintf("user %s is denied on %s by %s (%s)", user.Username, s.ID, d.Rule, how))
		}
	}

	matches, otherClients, expired := refMatchAccess(s, user, client.ClientID, r.Now)
	d.Expired = expired
	if len(matches) == 0 {
		if len(expired) > 0 {
			d.Rule = refExpiredRules(expired)
			latest := slices.MaxFunc(expired, func(a, b Expiry) int { return a.At.Compare(b.At) })
			return refuse(denied,
				fmt.Sprintf("the access of user %q to %s expired at %s; ask an administrator to renew it", user.Username, label, latest.At.Format(time.RFC3339Nano)),
				refExpiredReason(user, s, expired))
		}
		if len(otherClients) > 0 {
			return refuse(denied,
				fmt.Sprintf("user %q is not assigned to %s through client %q", user.Username, label, client.ClientID),
				fmt.Sprintf("user %s is assigned to %s only through other clients: %s", user.Username, s.ID, strings.Join(otherClients, "; ")))
		}
		return refuse(denied,
			fmt.Sprintf("user %q is not assigned to %s; ask an administrator for access", user.Username, label),
			fmt.Sprintf("user %s is not assigned to server %s (no access entry names %s)", user.Username, s.ID, refGroupsPhrase(user)))
	}

	d = refGrant(d, r, s, requested, matches)
	if len(expired) > 0 {
		d.Reason += "; " + refExpiredReason(user, s, expired)
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
func refMatchAccess(s *MCPServer, user *User, clientID string, now time.Time) (matches []refMatch, otherClients []string, expired []Expiry) {
	for i := range s.Access {
		e := &s.Access[i]
		how, ok := refUserMatches(e.Users, e.Groups, user)
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
		matches = append(matches, refMatch{index: i, entry: e, how: how})
	}
	return matches, otherClients, expired
}

// expiredReason says which of the user's entries expired, and when.
func refExpiredReason(u *User, s *MCPServer, expired []Expiry) string {
	parts := make([]string, len(expired))
	for i, x := range expired {
		parts[i] = fmt.Sprintf("user %s's access to %s by %s expired at %s", u.Username, s.ID, x.Rule, x.At.Format(time.RFC3339Nano))
	}
	return strings.Join(parts, "; ")
}

func refExpiredRules(expired []Expiry) string {
	names := make([]string, len(expired))
	for i, x := range expired {
		names[i] = x.Rule
	}
	return strings.Join(names, ", ")
}

// grant finishes a decision for a user that access entries match: it
// applies step-up (max_auth_age) and computes the granted scopes.
func refGrant(d Decision, r Request, s *MCPServer, requested []string, matches []refMatch) Decision {
	user := d.User
	var fresh, stale []refMatch
	for _, m := range matches {
		if refLoginRecentEnough(m.entry.MaxAuthAge.D(), r.AuthTime, r.Now) {
			fresh = append(fresh, m)
		} else {
			stale = append(stale, m)
		}
	}
	freshScopes := refScopesOf(fresh)
	staleScopes := refScopesOf(stale)

	// Step-up (ID-JAG draft section 9.2, RFC 9470): ask for a new login only
	// when one would change the answer.
	var needLogin []string // scopes only a more recent login would grant
	var helpers []refMatch // stale entries that would grant them
	switch {
	case len(requested) > 0:
		needLogin = refIntersect(refMinus(requested, freshScopes), staleScopes)
		for _, m := range stale {
			if len(refIntersect(m.entry.Scopes, needLogin)) > 0 {
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
		return refStepUp(d, r, s, needLogin, helpers)
	}

	if len(requested) > 0 {
		d.Scopes = refInOrder(s.Scopes, refIntersect(requested, freshScopes))
	} else {
		d.Scopes = refInOrder(s.Scopes, freshScopes)
	}
	if len(requested) > 0 && len(d.Scopes) == 0 {
		d.Rule = refRuleList(s, fresh)
		d.Error = ErrInvalidScope
		d.Description = fmt.Sprintf("none of the requested scopes (%s) is granted to user %q for %s; request without scope to get the scopes the user is granted there, or ask an administrator for more", strings.Join(requested, " "), user.Username, fmt.Sprintf("MCP server %q (%s)", s.Label(), s.Issuer))
		d.Reason = fmt.Sprintf("user %s requested %s on %s, which no matching entry allows; assigned: %s",
			user.Username, strings.Join(requested, " "), s.ID, refDescribe(s, matches, r))
		return d
	}

	contributors, contributed := refContributions(fresh, d.Scopes)
	d.Allowed = true
	d.Until = refUntil(fresh, d.Scopes)
	d.Rule = refRuleList(s, contributors)
	parts := make([]string, len(contributors))
	for i, m := range contributors {
		what := "no scopes"
		if len(contributed[i]) > 0 {
			what = strings.Join(contributed[i], " ")
		}
		parts[i] = fmt.Sprintf("%s by %s access[%d] (%s%s)", what, s.ID, m.index, m.how, refAgeNote(m.entry, r))
	}
	d.Reason = fmt.Sprintf("user %s is assigned %s", user.Username, strings.Join(parts, ", "))
	notGranted := refMinus(requested, d.Scopes)
	if unknown := refMinus(notGranted, s.Scopes); len(unknown) > 0 {
		d.Reason += fmt.Sprintf("; %s does not know %s", s.ID, strings.Join(unknown, " "))
		notGranted = refMinus(notGranted, unknown)
	}
	if len(notGranted) > 0 {
		d.Reason += "; not assigned: " + strings.Join(notGranted, " ")
	}
	if later := refMinus(refInOrder(s.Scopes, staleScopes), d.Scopes); len(requested) == 0 && len(later) > 0 {
		d.Reason += "; a more recent login would also grant " + strings.Join(later, " ")
	}
	return d
}

// stepUp refuses with insufficient_user_authentication, asking for the
// smallest max_auth_age among the entries that would help.
func refStepUp(d Decision, r Request, s *MCPServer, scopes []string, helpers []refMatch) Decision {
	best := helpers[0]
	for _, m := range helpers[1:] {
		if m.entry.MaxAuthAge < best.entry.MaxAuthAge {
			best = m
		}
	}
	d.Error = ErrInsufficientUserAuthentication
	d.MaxAge = best.entry.MaxAuthAge.D()
	d.Rule = fmt.Sprintf("%s access[%d]", s.ID, best.index)
	// The description says the login's age too, and on which clock: an
	// admin may have moved it ahead of a login made a minute ago.
	last, said := "the login time is unknown", "the login time is unknown"
	if !r.AuthTime.IsZero() {
		last = fmt.Sprintf("the login was %s ago", refLoginAge(r))
		said = last + " on the IdP's clock"
	}
	d.Description = fmt.Sprintf("MCP server %q requires a login within the last %s, and %s: log in again and retry", s.Label(), best.entry.MaxAuthAge, said)
	what := "access"
	if len(scopes) > 0 {
		what = strings.Join(refInOrder(s.Scopes, scopes), " ")
	}
	d.Reason = fmt.Sprintf("user %s needs a login within %s for %s by %s (%s); %s",
		d.User.Username, best.entry.MaxAuthAge, what, d.Rule, best.how, last)
	return d
}

// loginRecentEnough reports whether a login at authTime satisfies maxAge at
// now. An unknown login time satisfies only entries without maxAge.
func refLoginRecentEnough(maxAge time.Duration, authTime, now time.Time) bool {
	if maxAge == 0 {
		return true
	}
	return !authTime.IsZero() && now.Sub(authTime) <= maxAge
}

// ageNote explains a satisfied max_auth_age in a reason.
func refAgeNote(e *Access, r Request) string {
	if e.MaxAuthAge == 0 {
		return ""
	}
	return fmt.Sprintf("; login %s ago, within max_auth_age %s", refLoginAge(r), e.MaxAuthAge)
}

// loginAge is how long ago the user logged in, to the second; a login time
// in the future (clock skew between IdP instances) counts as now.
func refLoginAge(r Request) Duration {
	return Duration(max(r.Now.Sub(r.AuthTime), 0).Round(time.Second))
}

// userMatches reports whether the user is one of users or a member of one
// of groups, and says which.
func refUserMatches(users, groups []string, u *User) (string, bool) {
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
func refDenyMatches(e *Deny, u *User, clientID string) (string, bool) {
	var how []string
	if len(e.Users) > 0 || len(e.Groups) > 0 {
		who, ok := refUserMatches(e.Users, e.Groups, u)
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
func refContributions(entries []refMatch, granted []string) ([]refMatch, [][]string) {
	var who []refMatch
	var what [][]string
	var covered []string
	for _, m := range entries {
		add := refMinus(refIntersect(granted, m.entry.Scopes), covered)
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
func refDescribe(s *MCPServer, entries []refMatch, r Request) string {
	parts := make([]string, len(entries))
	for i, m := range entries {
		note := ""
		if !refLoginRecentEnough(m.entry.MaxAuthAge.D(), r.AuthTime, r.Now) {
			note = fmt.Sprintf("; needs a login within %s", m.entry.MaxAuthAge)
		}
		scopes := "no scopes"
		if len(m.entry.Scopes) > 0 {
			scopes = strings.Join(m.entry.Scopes, " ")
		}
		parts[i] = fmt.Sprintf("%s by %s access[%d] (%s%s)", scopes, s.ID, m.index, m.how, note)
	}
	return strings.Join(parts, ", ")
}

// ruleList names entries as a Rule.
func refRuleList(s *MCPServer, entries []refMatch) string {
	names := make([]string, len(entries))
	for i, m := range entries {
		names[i] = fmt.Sprintf("%s access[%d]", s.ID, m.index)
	}
	return strings.Join(names, ", ")
}

func refAcceptedResources(s *MCPServer) string {
	if len(s.Resources) == 0 {
		return "it has no resources configured"
	}
	return "accepted resources: " + strings.Join(s.Resources, " ")
}

func refGroupsPhrase(u *User) string {
	if len(u.Groups) == 0 {
		return "the user, who is in no group"
	}
	return "the user or the user's groups: " + strings.Join(u.Groups, ", ")
}

// scopesOf is the union of the entries' scopes.
func refScopesOf(entries []refMatch) []string {
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
func refUniqueScopes(scopes []string) []string {
	var out []string
	for _, sc := range scopes {
		if sc != "" && !contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out
}

// minus returns the elements of a that are not in b, in a's order.
func refMinus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// intersect returns the elements of a that are in b, in a's order.
func refIntersect(a, b []string) []string {
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
func refInOrder(order, set []string) []string { return refIntersect(order, set) }

func refOrNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, " ")
}

func refPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// refUntil is the first expires of the entries of fresh at which, those
// expired, the others no longer grant every scope of scopes (with none,
// no entry is left); zero when there is none.
func refUntil(fresh []refMatch, scopes []string) time.Time {
	var instants []time.Time
	for _, m := range fresh {
		if !m.entry.Expires.IsZero() {
			instants = append(instants, m.entry.Expires.T())
		}
	}
	slices.SortFunc(instants, func(a, b time.Time) int { return a.Compare(b) })
	for _, at := range instants {
		var left []refMatch
		for _, m := range fresh {
			if m.entry.Expires.IsZero() || m.entry.Expires.T().After(at) {
				left = append(left, m)
			}
		}
		if len(left) == 0 || len(refMinus(scopes, refScopesOf(left))) > 0 {
			return at
		}
	}
	return time.Time{}
}
