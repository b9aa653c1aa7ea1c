package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/cimd/urlpattern"
)

// Request is a token exchange for an ID-JAG, reduced to what policy needs.
// The caller has already authenticated the client and validated the
// subject token.
type Request struct {
	Username string // the user (login name)
	// Subject is the subject token's sub, which names the user in a
	// refusal when no user has it (Username is then empty).
	Subject  string
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
	// IdPIssuer is the issuer of the IdP deciding: a server whose issuer
	// it is gets invalid_target, as the IdP redeems no ID-JAG (an ID-JAG
	// for it could be used nowhere). "": not checked (the file's issuer:,
	// which check compares, or none).
	IdPIssuer string
	// OtherTenants are the tenants served beside the deciding one, by id
	// and issuer: a server whose issuer is one of theirs gets
	// invalid_target too, as no tenant redeems an ID-JAG. With tenants the
	// issuers come from --issuer or --addr, which check cannot know.
	OtherTenants []TenantIssuer
}

// TenantIssuer is a tenant's id and its issuer (Request.OtherTenants).
type TenantIssuer struct{ ID, Issuer string }

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
	// Until is set on an allowed decision whose access ends: the first
	// instant at which one of the granted Scopes (or, with none, the
	// access itself) is no longer granted because the access entries
	// granting it have expired. The ID-JAG does not live past it. Zero
	// when the access does not end.
	Until time.Time
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

// match is an access entry that matches the user and the client. Why it
// matches ("groups: engineering; clients: mcp-client") is written only
// into the reasons that name the entry (appendHow).
type match struct {
	index int
	entry *Access
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
//
// Decide runs on every token exchange, so its allowed path keeps off the
// heap: it allocates the granted Scopes and the Reason (and the Rule when
// several entries contribute), and formats nothing else. Refusals spend
// what their explanations need.
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
			fmt.Sprintf("client_id %q is not registered at this IdP", r.ClientID),
			fmt.Sprintf("client %s is not registered", r.ClientID))
	}
	if !client.TokenExchange {
		reason := fmt.Sprintf("client %s has token_exchange: false", r.ClientID)
		fix := "an administrator sets token_exchange: true in its clients entry"
		if c.Client(r.ClientID) == nil && urlpattern.IsURL(r.ClientID) {
			// A metadata document client: no clients: entry has the
			// switch, the cimd section does (README "CIMD clients").
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
	// A malformed scope, as the token endpoint refuses it with the
	// parameters, before the audience is resolved (docs/http.md,
	// "Processing"): explain then gives the decision the exchange gets
	// (until 2026-12-07 it dropped a quoted scope as unknown and granted
	// beside it, as if the token endpoint had).
	for _, sc := range r.Scopes {
		if sc != "" && !ValidScope(sc) { // "" names no scope, as an empty parameter
			return refuse(ErrInvalidScope,
				fmt.Sprintf("scope %q is malformed: a scope is printable ASCII without spaces, quotes or backslashes, and scopes are separated by spaces (RFC 6749 section 3.3)", sc),
				fmt.Sprintf("scope %q is malformed", sc))
		}
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

	if t, at := IdPIssuerOf(s.Issuer, r.IdPIssuer, r.OtherTenants); at && t == "" {
		return refuse(ErrInvalidTarget,
			fmt.Sprintf("audience %q is the IdP's own issuer: an ID-JAG is redeemed at the MCP server's authorization server, never at the IdP; the configuration of %s names the IdP as its issuer", r.Audience, serverLabel(s)),
			fmt.Sprintf("server %s's issuer %s is the IdP's own issuer", s.ID, s.Issuer))
	} else if at {
		return refuse(ErrInvalidTarget,
			fmt.Sprintf("audience %q is the issuer of tenant %s, another IdP served beside this one: an ID-JAG is redeemed at the MCP server's authorization server, never at an IdP; the configuration of %s names tenant %s as its issuer", r.Audience, t, serverLabel(s), t),
			fmt.Sprintf("server %s's issuer %s is tenant %s's issuer", s.ID, s.Issuer, t))
	}

	// The IdP checks that audience and resource belong together (EMA
	// section 7.6.1): an ID-JAG must not name another server's resource.
	if r.Resource != "" {
		d.Resource = s.resource(r.Resource)
		if d.Resource == "" {
			return refuse(ErrInvalidTarget,
				fmt.Sprintf("resource %q does not belong to %s; %s", r.Resource, serverLabel(s), acceptedResources(s)),
				fmt.Sprintf("resource %s is not one of server %s's resources", r.Resource, s.ID))
		}
	} else if c.Exchange.RequireResource {
		return refuse(ErrInvalidRequest,
			fmt.Sprintf("resource is required for %s; %s", serverLabel(s), acceptedResources(s)),
			fmt.Sprintf("no resource given and exchange.require_resource is on (server %s)", s.ID))
	}

	serverClientID, connected := s.Clients[client.ClientID]
	if !connected {
		return refuse(ErrInvalidTarget,
			fmt.Sprintf("client %q has no connection to %s", client.ClientID, serverLabel(s)),
			fmt.Sprintf("server %s does not list client %s under clients", s.ID, client.ClientID))
	}
	d.ServerClientID = serverClientID

	user := c.User(r.Username)
	if user == nil && r.Username == "" && r.Subject != "" {
		return refuse(ErrAccessDenied,
			fmt.Sprintf("no user of this IdP has the sub %q (removed since the login?)", r.Subject),
			fmt.Sprintf("no user in the configuration has sub %s", r.Subject))
	}
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

	var requestedBuf [8]string // the buffers here and in grant keep small requests off the heap
	requested := appendUnique(requestedBuf[:0], r.Scopes)
	// Scopes the server does not know are simply not granted, like any
	// scope no entry allows (docs/configuration.md, "Decision rules":
	// granted scopes are the requested ones the entries allow); only a request of nothing but
	// unknown scopes is refused outright, with the known ones listed.
	if len(requested) > 0 && !containsAny(s.Scopes, requested) {
		unknown := requested // every one of them
		return refuse(ErrInvalidScope,
			fmt.Sprintf("%s does not know %s %s; known scopes: %s", serverLabel(s), plural(len(unknown), "scope", "scopes"), strings.Join(unknown, " "), orNone(s.Scopes)),
			fmt.Sprintf("server %s does not list %s %s", s.ID, plural(len(unknown), "scope", "scopes"), strings.Join(unknown, " ")))
	}

	denied := c.denyError()
	for i := range s.Deny {
		e := &s.Deny[i]
		if denies(e, user, client.ClientID) {
			d.Rule = c.denyRule(s, i)
			through := ""
			if len(e.Clients) > 0 {
				// The entry denies the client: another may still connect.
				through = fmt.Sprintf(" through client %q", client.ClientID)
			}
			return refuse(denied,
				fmt.Sprintf("user %q may not use %s%s: an administrator denied it", user.Username, serverLabel(s), through),
				fmt.Sprintf("user %s is denied on %s by %s (%s)", user.Username, s.ID, d.Rule, denyHow(e, user, client.ClientID)))
		}
	}

	var matchBuf [8]match
	matches, otherClients, expired := matchAccess(matchBuf[:0], s, user, client.ClientID, r.Now)
	d.Expired = c.expiries(s, expired)
	if len(matches) == 0 {
		if len(expired) > 0 {
			d.Rule = expiredRules(d.Expired)
			// The access ended with the entry that ended last, which
			// need not be the last in the file.
			ended := slices.MaxFunc(d.Expired, func(a, b Expiry) int { return a.At.Compare(b.At) }).At
			return refuse(denied,
				fmt.Sprintf("the access of user %q to %s expired at %s; ask an administrator to renew it", user.Username, serverLabel(s), ended.Format(time.RFC3339Nano)),
				expiredReason(user, s, d.Expired))
		}
		if len(otherClients) > 0 {
			return refuse(denied,
				fmt.Sprintf("user %q is not assigned to %s through client %q", user.Username, serverLabel(s), client.ClientID),
				fmt.Sprintf("user %s is assigned to %s only through other clients: %s", user.Username, s.ID, c.describeClients(s, otherClients)))
		}
		return refuse(denied,
			fmt.Sprintf("user %q is not assigned to %s; ask an administrator for access", user.Username, serverLabel(s)),
			fmt.Sprintf("user %s is not assigned to server %s (no access entry names %s)", user.Username, s.ID, groupsPhrase(user)))
	}

	d = c.grant(d, r, s, client.ClientID, requested, matches)
	if len(expired) > 0 {
		d.Reason += "; " + expiredReason(user, s, d.Expired)
	}
	if d.Allowed && c.Exchange.SingleUseSubject {
		// Remembered for the refresh token lifetime, the longest grant one
		// login yields, and by the IdP at least until the ID token is
		// refused as expired (an id_token may outlive refresh_token).
		d.SingleUseFor = c.Lifetimes.RefreshToken.D()
	}
	return d
}

// matchAccess appends to matches the unexpired access entries that match
// the user (directly or by group) and the client (when the entry names
// clients), and returns them with the entries that match the user only
// through other clients and those that would match but have expired at
// now.
func matchAccess(matches []match, s *MCPServer, user *User, clientID string, now time.Time) (_, otherClients, expired []match) {
	for i := range s.Access {
		e := &s.Access[i]
		if !namesUser(e.Users, e.Groups, user) {
			continue
		}
		m := match{index: i, entry: e}
		switch {
		case e.Expired(now):
			if len(e.Clients) == 0 || contains(e.Clients, clientID) {
				expired = append(expired, m)
			}
		case len(e.Clients) > 0 && !contains(e.Clients, clientID):
			otherClients = append(otherClients, m)
		default:
			matches = append(matches, m)
		}
	}
	return matches, otherClients, expired
}

// expiries are expired entries as a Decision lists them; nil when none.
func (c *Config) expiries(s *MCPServer, expired []match) []Expiry {
	if len(expired) == 0 {
		return nil
	}
	out := make([]Expiry, len(expired))
	for i, m := range expired {
		out[i] = Expiry{Rule: c.accessRule(s, m.index), At: m.entry.Expires.T()}
	}
	return out
}

// expiredReason says which of the user's entries expired, and when.
func expiredReason(u *User, s *MCPServer, expired []Expiry) string {
	parts := make([]string, len(expired))
	for i, x := range expired {
		parts[i] = fmt.Sprintf("user %s's access to %s by %s expired at %s", u.Username, s.ID, x.Rule, x.At.Format(time.RFC3339Nano))
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

// describeClients lists entries that match the user only through other
// clients, with those clients.
func (c *Config) describeClients(s *MCPServer, entries []match) string {
	parts := make([]string, len(entries))
	for i, m := range entries {
		parts[i] = fmt.Sprintf("%s (clients: %s)", c.accessRule(s, m.index), strings.Join(m.entry.Clients, ", "))
	}
	return strings.Join(parts, "; ")
}

// grant finishes a decision for a user that access entries match: it
// applies step-up (max_auth_age) and computes the granted scopes.
func (c *Config) grant(d Decision, r Request, s *MCPServer, clientID string, requested []string, matches []match) Decision {
	user := d.User
	var freshBuf, staleBuf [8]match
	fresh, stale := freshBuf[:0], staleBuf[:0]
	for _, m := range matches {
		if loginRecentEnough(m.entry.MaxAuthAge.D(), r.AuthTime, r.Now) {
			fresh = append(fresh, m)
		} else {
			stale = append(stale, m)
		}
	}
	var freshScopesBuf, staleScopesBuf [16]string
	freshScopes := appendScopesOf(freshScopesBuf[:0], fresh)
	staleScopes := appendScopesOf(staleScopesBuf[:0], stale)

	// Step-up (ID-JAG draft section 9.2, RFC 9470): ask for a new login only
	// when one would change the answer.
	var needLogin []string // scopes only a more recent login would grant
	var helpers []match    // stale entries that would grant them
	switch {
	case len(requested) > 0:
		for _, sc := range requested {
			if !contains(freshScopes, sc) && contains(staleScopes, sc) {
				needLogin = append(needLogin, sc)
			}
		}
		for _, m := range stale {
			if containsAny(m.entry.Scopes, needLogin) {
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
		return c.stepUp(d, r, s, clientID, needLogin, helpers)
	}

	d.Scopes = grantedScopes(s.Scopes, freshScopes, requested)
	if len(requested) > 0 && len(d.Scopes) == 0 {
		d.Rule = c.ruleList(s, fresh)
		d.Error = ErrInvalidScope
		// Without scope the client gets what the user is granted (RFC
		// 6749 section 3.3 lets it): that is the change to suggest.
		d.Description = fmt.Sprintf("none of the requested scopes (%s) is granted to user %q for %s; request without scope to get the scopes the user is granted there, or ask an administrator for more", strings.Join(requested, " "), user.Username, serverLabel(s))
		d.Reason = fmt.Sprintf("user %s requested %s on %s, which no matching entry allows; assigned: %s",
			user.Username, strings.Join(requested, " "), s.ID, describe(s, matches, r, user, clientID))
		return d
	}

	var contributorsBuf [8]match
	contributors := contributions(contributorsBuf[:0], fresh, d.Scopes)
	d.Allowed = true
	d.Until = accessEnds(fresh, d.Scopes)
	d.Rule = c.ruleList(s, contributors)
	d.Reason = c.allowedReason(r, s, user, clientID, requested, staleScopes, contributors, d.Scopes)
	return d
}

// accessEnds is when the grant of scopes by the entries of fresh ends:
// the earliest of the scopes' ends, each the latest expires among the
// entries that grant it (never, when one of them has none). Without
// scopes, the latest expires among all the entries. Zero means never.
func accessEnds(fresh []match, scopes []string) time.Time {
	// lastOf is the latest expires of the entries of fresh that ok
	// accepts; zero when one of them never expires (or none is accepted).
	lastOf := func(ok func(*Access) bool) time.Time {
		var last time.Time
		for _, m := range fresh {
			if !ok(m.entry) {
				continue
			}
			if m.entry.Expires.IsZero() {
				return time.Time{}
			}
			if at := m.entry.Expires.T(); at.After(last) {
				last = at
			}
		}
		return last
	}
	if len(scopes) == 0 {
		return lastOf(func(*Access) bool { return true })
	}
	var until time.Time
	for _, sc := range scopes {
		end := lastOf(func(e *Access) bool { return contains(e.Scopes, sc) })
		if !end.IsZero() && (until.IsZero() || end.Before(until)) {
			until = end
		}
	}
	return until
}

// allowedReason explains an allowed decision: what each contributing entry
// adds to the granted scopes and why it matches, then what was requested
// and not granted, or, when nothing was requested, what a more recent
// login would add. For example:
//
//	user carol is assigned chat.read chat.write by chat access[0] (groups: engineering),
//	chat.admin by chat access[2] (groups: ops; login 5m ago, within max_auth_age 15m)
//
// It is built in one buffer, the one allocation being the string.
func (c *Config) allowedReason(r Request, s *MCPServer, user *User, clientID string, requested, staleScopes []string, contributors []match, granted []string) string {
	b := make([]byte, 0, 256)
	b = cat(b, "user ", user.Username, " is assigned ")
	for k, m := range contributors {
		if k > 0 {
			b = append(b, ", "...)
		}
		b = appendAdded(b, contributors[:k], m, granted)
		b = cat(b, " by ", c.accessRule(s, m.index), " (")
		b = appendHow(b, m.entry, user, clientID)
		b = appendAgeNote(b, m.entry, r)
		b = append(b, ')')
	}
	unknown := func(sc string) bool { return !contains(s.Scopes, sc) }
	if slices.ContainsFunc(requested, unknown) {
		b = cat(b, "; ", s.ID, " does not know ")
		b = appendScopes(b, requested, unknown)
	}
	notAssigned := func(sc string) bool { return contains(s.Scopes, sc) && !contains(granted, sc) }
	if slices.ContainsFunc(requested, notAssigned) {
		b = append(b, "; not assigned: "...)
		b = appendScopes(b, requested, notAssigned)
	}
	later := func(sc string) bool { return contains(staleScopes, sc) && !contains(granted, sc) }
	if len(requested) == 0 && slices.ContainsFunc(s.Scopes, later) {
		b = append(b, "; a more recent login would also grant "...)
		b = appendScopes(b, s.Scopes, later)
	}
	return string(b)
}

// stepUp refuses with insufficient_user_authentication, asking for the
// smallest max_auth_age among the entries that would help.
func (c *Config) stepUp(d Decision, r Request, s *MCPServer, clientID string, scopes []string, helpers []match) Decision {
	best := helpers[0]
	for _, m := range helpers[1:] {
		if m.entry.MaxAuthAge < best.entry.MaxAuthAge {
			best = m
		}
	}
	d.Error = ErrInsufficientUserAuthentication
	d.MaxAge = best.entry.MaxAuthAge.D()
	d.Rule = c.accessRule(s, best.index)
	// The description says the login's age too, and on which clock: an
	// admin may have moved it ahead of a login made a minute ago.
	last, said := "the login time is unknown", "the login time is unknown"
	if !r.AuthTime.IsZero() {
		last = fmt.Sprintf("the login was %s ago", loginAge(r))
		said = last + " on the IdP's clock"
	}
	d.Description = fmt.Sprintf("MCP server %q requires a login within the last %s, and %s: log in again and retry", s.Label(), best.entry.MaxAuthAge, said)
	what := "access"
	if len(scopes) > 0 {
		what = strings.Join(inOrder(s.Scopes, scopes), " ")
	}
	d.Reason = fmt.Sprintf("user %s needs a login within %s for %s by %s (%s); %s",
		d.User.Username, best.entry.MaxAuthAge, what, d.Rule, how(best.entry, d.User, clientID), last)
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

// appendAgeNote explains a satisfied max_auth_age in a reason.
func appendAgeNote(b []byte, e *Access, r Request) []byte {
	if e.MaxAuthAge == 0 {
		return b
	}
	b = appendDuration(append(b, "; login "...), loginAge(r))
	return appendDuration(append(b, " ago, within max_auth_age "...), e.MaxAuthAge)
}

// loginAge is how long ago the user logged in, to the second; a login time
// in the future (clock skew between IdP instances) counts as now.
func loginAge(r Request) Duration {
	return Duration(max(r.Now.Sub(r.AuthTime), 0).Round(time.Second))
}

// namesUser reports whether the user is one of users or a member of one of
// groups.
func namesUser(users, groups []string, u *User) bool {
	if contains(users, u.Username) {
		return true
	}
	for _, g := range groups {
		if u.InGroup(g) {
			return true
		}
	}
	return false
}

// appendWho says how users or groups name a user that namesUser accepts:
// "users: bob", or the groups of the list the user is in, "groups:
// engineering, ops".
func appendWho(b []byte, users, groups []string, u *User) []byte {
	if contains(users, u.Username) {
		return cat(b, "users: ", u.Username)
	}
	b = append(b, "groups: "...)
	sep := ""
	for _, g := range groups {
		if u.InGroup(g) {
			b = cat(b, sep, g)
			sep = ", "
		}
	}
	return b
}

// appendHow says why a matching access entry matches: the user or the
// groups, and the client when the entry names clients.
func appendHow(b []byte, e *Access, u *User, clientID string) []byte {
	b = appendWho(b, e.Users, e.Groups, u)
	if len(e.Clients) > 0 {
		b = cat(b, "; clients: ", clientID)
	}
	return b
}

// how is appendHow as a string.
func how(e *Access, u *User, clientID string) string {
	return string(appendHow(nil, e, u, clientID))
}

// denies applies a deny entry: its fields are ANDed, and an omitted field
// matches everyone; an entry without any field denies nobody.
func denies(e *Deny, u *User, clientID string) bool {
	who := len(e.Users) > 0 || len(e.Groups) > 0
	if who && !namesUser(e.Users, e.Groups, u) {
		return false
	}
	if len(e.Clients) > 0 && !contains(e.Clients, clientID) {
		return false
	}
	return who || len(e.Clients) > 0
}

// denyHow says why a deny entry that denies matches: the user or the
// groups, and the client, for those of its fields that are given.
func denyHow(e *Deny, u *User, clientID string) string {
	var b []byte
	if len(e.Users) > 0 || len(e.Groups) > 0 {
		b = appendWho(b, e.Users, e.Groups, u)
	}
	if len(e.Clients) > 0 {
		if len(b) > 0 {
			b = append(b, "; "...)
		}
		b = cat(b, "clients: ", clientID)
	}
	return string(b)
}

// contributions appends to dst, in configuration order, the entries that
// give at least one granted scope that no earlier entry gives (appendAdded
// says which). Comparing with the earlier contributors is enough: an
// earlier entry that contributes nothing gives only scopes they give. When
// nothing is granted (a server without scopes) the first entry decides.
func contributions(dst, entries []match, granted []string) []match {
	n := len(dst)
	for _, m := range entries {
		if hasAdded(dst[n:], m, granted) {
			dst = append(dst, m)
		}
	}
	if len(dst) == n && len(entries) > 0 {
		dst = append(dst, entries[0])
	}
	return dst
}

// hasAdded reports whether entry m grants a scope that none of the earlier
// contributors does.
func hasAdded(earlier []match, m match, granted []string) bool {
	for _, sc := range granted {
		if adds(earlier, m, sc) {
			return true
		}
	}
	return false
}

// appendAdded writes what a contributor adds to the granted scopes, after
// the earlier contributors: "chat.read chat.write", or "no scopes".
func appendAdded(b []byte, earlier []match, m match, granted []string) []byte {
	n := len(b)
	for _, sc := range granted {
		if adds(earlier, m, sc) {
			if len(b) > n {
				b = append(b, ' ')
			}
			b = append(b, sc...)
		}
	}
	if len(b) == n {
		b = append(b, "no scopes"...)
	}
	return b
}

// adds reports whether entry m gives the granted scope sc, and no earlier
// contributor does.
func adds(earlier []match, m match, sc string) bool {
	if !contains(m.entry.Scopes, sc) {
		return false
	}
	for _, e := range earlier {
		if contains(e.entry.Scopes, sc) {
			return false
		}
	}
	return true
}

// describe lists entries with why they match and what they allow, for
// reasons.
func describe(s *MCPServer, entries []match, r Request, user *User, clientID string) string {
	parts := make([]string, len(entries))
	for i, m := range entries {
		note := ""
		if !loginRecentEnough(m.entry.MaxAuthAge.D(), r.AuthTime, r.Now) {
			note = fmt.Sprintf("; needs a login within %s", m.entry.MaxAuthAge)
		}
		parts[i] = fmt.Sprintf("%s by %s access[%d] (%s%s)", scopesOrNo(m.entry.Scopes), s.ID, m.index, how(m.entry, user, clientID), note)
	}
	return strings.Join(parts, ", ")
}

// ruleList names entries as a Rule.
func (c *Config) ruleList(s *MCPServer, entries []match) string {
	if len(entries) == 1 {
		return c.accessRule(s, entries[0].index)
	}
	names := make([]string, len(entries))
	for i, m := range entries {
		names[i] = c.accessRule(s, m.index)
	}
	return strings.Join(names, ", ")
}

// serverLabel is how descriptions name a server.
func serverLabel(s *MCPServer) string {
	return fmt.Sprintf("MCP server %q (%s)", s.Label(), s.Issuer)
}

func acceptedResources(s *MCPServer) string {
	if len(s.Resources) == 0 {
		return "it has no resources configured"
	}
	return "accepted resources: " + strings.Join(s.Resources, " ")
}

// groupsPhrase is whom no access entry names: the user, and the user's
// groups if any.
func groupsPhrase(u *User) string {
	if len(u.Groups) == 0 {
		return "the user, who is in no group"
	}
	return "the user or the user's groups: " + strings.Join(u.Groups, ", ")
}

// appendScopesOf appends the union of the entries' scopes to dst.
func appendScopesOf(dst []string, entries []match) []string {
	n := len(dst)
	for _, m := range entries {
		for _, sc := range m.entry.Scopes {
			if !contains(dst[n:], sc) {
				dst = append(dst, sc)
			}
		}
	}
	return dst
}

// grantedScopes returns the scopes of order (the server's) that allowed
// holds and, unless nothing was requested, that were requested; nil when
// none.
func grantedScopes(order, allowed, requested []string) []string {
	var buf [16]string
	granted := buf[:0]
	for _, sc := range order {
		if contains(allowed, sc) && (len(requested) == 0 || contains(requested, sc)) {
			granted = append(granted, sc)
		}
	}
	if len(granted) == 0 {
		return nil
	}
	return append([]string(nil), granted...)
}

// uniqueScopes drops empty and repeated scopes, keeping the first order.
func uniqueScopes(scopes []string) []string { return appendUnique(nil, scopes) }

// appendUnique appends to dst the scopes that are not empty and not
// repeated, keeping the first order.
func appendUnique(dst, scopes []string) []string {
	n := len(dst)
	for _, sc := range scopes {
		if sc != "" && !contains(dst[n:], sc) {
			dst = append(dst, sc)
		}
	}
	return dst
}

// appendScopes writes the scopes of list that keep accepts, separated by
// spaces.
func appendScopes(b []byte, list []string, keep func(string) bool) []byte {
	sep := ""
	for _, sc := range list {
		if keep(sc) {
			b = cat(b, sep, sc)
			sep = " "
		}
	}
	return b
}

// containsAny reports whether list holds any of xs.
func containsAny(list, xs []string) bool {
	for _, x := range xs {
		if contains(list, x) {
			return true
		}
	}
	return false
}

// inOrder returns the elements of set, ordered as in order (elements of
// order only).
func inOrder(order, set []string) []string {
	var out []string
	for _, x := range order {
		if contains(set, x) {
			out = append(out, x)
		}
	}
	return out
}

// cat appends strings to a text being built.
func cat(b []byte, parts ...string) []byte {
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// scopesOrNo is what an entry allows, as reasons say it (appendAdded).
func scopesOrNo(scopes []string) string {
	if len(scopes) == 0 {
		return "no scopes"
	}
	return strings.Join(scopes, " ")
}

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
