package idp

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/xaa-idp/xaa-idp/access"
	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/policy"
)

// denyOrphanedRequests denies each pending access request whose user or
// MCP server cfg no longer has: no approval can grant it (the admin API
// answers 409 and says to deny it), and left pending it would count
// against the store's bounds for ever. It runs with every configuration
// the IdP takes, the first included (the file may have changed while the
// IdP was stopped), and audits each denial as an access_request denied
// without an admin, the reason naming the removal. A request records its
// user's sub: a user of its name with another sub (a user replaced by
// another of that name, while the IdP ran or while it was stopped) is a
// removed user, and a user with its sub under another name (a user
// renamed) keeps the request under its new name. old, the configuration
// before, gives the sub of a request written without one, by an earlier
// version; nil at start, where cfg gives it.
func (s *Server) denyOrphanedRequests(old, cfg *policy.Config) {
	before := old
	if before == nil {
		before = cfg
	}
	if _, err := s.requests.RecordSubs(func(r access.Request) string {
		if u := before.User(r.User); u != nil {
			return u.Sub
		}
		return ""
	}); err != nil {
		slog.Error("access requests: the subs of requests written by an earlier version could not be recorded; their users are matched by name", "err", err)
	}
	// The pending requests of users whose sub cfg no longer has, though
	// their name may be another user's now (a user replaced by another
	// of that name): the request was the old user's, not the new one's.
	gone := map[string]bool{}
	_, err := s.requests.RenamePending(func(r access.Request) string {
		sub := r.Sub
		if sub == "" && old != nil {
			if u := old.User(r.User); u != nil {
				sub = u.Sub
			}
		}
		if sub == "" {
			return ""
		}
		// A user renamed (its sub kept: a SCIM userName change, or an
		// edit of the file) keeps its pending requests under its new
		// name.
		if nu := cfg.UserBySub(sub); nu != nil {
			return nu.Username
		}
		gone[r.ID] = true
		return ""
	})
	if err != nil {
		slog.Error("access requests: the pending requests of renamed users could not follow them; they are denied as their users' old names are gone", "err", err)
	}
	denied, err := s.requests.DenyPending(func(r access.Request) string {
		switch {
		case gone[r.ID] || cfg.User(r.User) == nil || r.Sub != "" && cfg.User(r.User).Sub != r.Sub:
			return fmt.Sprintf("denied automatically: the user %q was removed from the configuration", r.User)
		case cfg.Server(r.Server) == nil:
			return fmt.Sprintf("denied automatically: the MCP server %q was removed from the configuration", r.Server)
		}
		return ""
	})
	if err != nil {
		slog.Error("access requests: the pending requests of removed users or MCP servers could not be denied", "err", err)
		return
	}
	for _, r := range denied {
		ev := audit.Event{
			Type: audit.TypeAccessRequest, Outcome: audit.Denied, User: r.User, Server: r.Server,
			ScopeRequested: strings.Join(r.Scopes, " "), Reason: r.DenyReason,
			Details: map[string]any{"request": r.ID},
		}
		if ev.Sub = r.Sub; ev.Sub == "" && old != nil {
			if u := old.User(r.User); u != nil {
				ev.Sub = u.Sub
			}
		}
		if _, err := s.audit.Append(ev); err != nil {
			slog.Error("audit log: the denial of an access request whose user or MCP server was removed was not recorded", "request", r.ID, "err", err)
		}
	}
}
