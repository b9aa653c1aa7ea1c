package policy

import (
	"slices"
	"time"
)

// Standing is where a user stands with an MCP server whatever the client:
// what "My MCP servers" shows (docs/http.md, /apps) and what decides
// whether the user may request access.
type Standing struct {
	// Denied: a deny entry names the user (or a group of the user) for
	// every client.
	Denied bool
	// Assigned: an unexpired access entry names the user or a group of the
	// user, and the user is not Denied (a deny entry wins over access, as
	// in every decision); Scopes are what those entries give, in the
	// server's order.
	Assigned bool
	Scopes   []string
	// Until is when the last of those entries expires; zero when one of
	// them never does.
	Until time.Time
}

// StandingOf returns u's standing with s at now (the IdP's clock).
func (s *MCPServer) StandingOf(u *User, now time.Time) Standing {
	var st Standing
	if u == nil {
		return st
	}
	for i := range s.Deny {
		e := &s.Deny[i]
		if namesUser(e.Users, e.Groups, u) && len(e.Clients) == 0 {
			st.Denied = true
		}
	}
	if st.Denied {
		return st
	}
	forever := false
	var granted []string
	for i := range s.Access {
		e := &s.Access[i]
		if !namesUser(e.Users, e.Groups, u) || e.Expired(now) {
			continue
		}
		st.Assigned = true
		granted = append(granted, e.Scopes...)
		if e.Expires.IsZero() {
			forever = true
		} else if t := e.Expires.T(); t.After(st.Until) {
			st.Until = t
		}
	}
	if forever {
		st.Until = time.Time{}
	}
	st.Scopes = inOrder(s.Scopes, uniqueScopes(granted))
	if len(st.Scopes) == 0 {
		st.Scopes = nil
	}
	return st
}

// UnknownScopes returns the scopes the server does not list, nil when it
// knows all.
func (s *MCPServer) UnknownScopes(scopes []string) []string {
	var out []string
	for _, sc := range scopes {
		if !slices.Contains(s.Scopes, sc) {
			out = append(out, sc)
		}
	}
	return out
}
