package audit

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Event types, the "type" field (docs/audit.md).
const (
	TypeLogin         = "login"
	TypeLogout        = "logout"
	TypeToken         = "token" // authorization code or refresh token redeemed at the token endpoint
	TypeTokenExchange = "token_exchange"
	TypeAdminChange   = "admin_change"
	TypeConfigReload  = "config_reload"
	TypeKeyRotation   = "key_rotation"
	// TypeAccessRequest is a request for access to an MCP server, its
	// approval or denial, or the expiry of time-bound access.
	TypeAccessRequest = "access_request"
	// TypeEventPush is one attempt to push a Security Event Token (RFC
	// 8935) to an MCP server.
	TypeEventPush = "event_push"
	// TypeFault is a fault injected into a request that has no event of
	// its own: a GET of the JWKS, a discovery document or userinfo.
	TypeFault = "fault"
)

// Outcomes, the "outcome" field (docs/audit.md).
const (
	Allowed = "allowed"
	Denied  = "denied"
	Error   = "error"
	// Expired is the outcome of an access_request event whose time-bound
	// access ended.
	Expired = "expired"
	// Requested, Approved: the outcomes of an access_request event when a
	// user asks for access and when an admin grants it (a denial is
	// Denied).
	Requested = "requested"
	Approved  = "approved"
)

// Types and Outcomes list every value of "type" and "outcome": the audit
// API refuses a filter outside them, the console offers them.
var (
	Types = []string{TypeLogin, TypeLogout, TypeToken, TypeTokenExchange, TypeAdminChange,
		TypeConfigReload, TypeKeyRotation, TypeAccessRequest, TypeEventPush, TypeFault}
	Outcomes = []string{Allowed, Denied, Error, Requested, Approved, Expired}
)

// TimeLayout is the contract's time format: UTC, always three fractional digits, so that lines
// sort and diff the same way whatever the clock's precision. Whatever shows an event's time as a
// field of the event (the console's decoded view) shows it so, as the file has it.
const TimeLayout = "2006-01-02T15:04:05.000Z"

// Event is one audited decision or change, written as one JSON object per line.
//
// Tokens (ID tokens, refresh tokens, ID-JAGs, access tokens, client secrets, passwords) must never
// be put in any field, Details included: the log is readable by every console admin and is shipped
// to other systems. Identify an issued token by its jti only.
//
// Time is written in UTC with millisecond precision; [Log.Append] truncates it accordingly, so the
// event kept in memory equals the one read back from the file.
type Event struct {
	Time time.Time `json:"time"`
	ID   string    `json:"id"`
	Type string    `json:"type"`
	// Tenant is the tenant the event happened in, in a file with more than
	// one tenant; "" otherwise (docs/audit.md).
	Tenant         string         `json:"tenant,omitempty"`
	Outcome        string         `json:"outcome"`
	Error          string         `json:"error,omitempty"` // OAuth error code when Outcome is Error or Denied
	User           string         `json:"user,omitempty"`
	Sub            string         `json:"sub,omitempty"`
	ClientID       string         `json:"client_id,omitempty"`
	Server         string         `json:"server,omitempty"`
	Audience       string         `json:"audience,omitempty"`
	Resource       string         `json:"resource,omitempty"`
	ScopeRequested string         `json:"scope_requested,omitempty"`
	ScopeGranted   string         `json:"scope_granted,omitempty"`
	Rule           string         `json:"rule,omitempty"`
	Reason         string         `json:"reason,omitempty"`
	JTI            string         `json:"jti,omitempty"`
	Admin          string         `json:"admin,omitempty"` // admin_change: who made the change
	GrantType      string         `json:"grant_type,omitempty"`
	Injected       bool           `json:"injected,omitempty"` // a fault injected on purpose, not a real failure
	Details        map[string]any `json:"details,omitempty"`  // e.g. admin_change before/after
}

// plainEvent has Event's fields but not its methods, so that encoding it inside MarshalJSON and
// UnmarshalJSON does not recurse.
type plainEvent Event

// MarshalJSON encodes the event in the contract's format, as one line without its newline
// (encode.go). Unlike encoding/json's default, it does not escape <, > and &: the log is read with
// grep and jq, and the console escapes for HTML itself. (json.Marshal escapes a Marshaler's
// output again; the Log writes this output as it is.)
func (e Event) MarshalJSON() ([]byte, error) {
	return e.appendJSON(make([]byte, 0, e.lineSize()), nil)
}

// UnmarshalJSON decodes an event. It accepts any RFC 3339 time, not only the layout it writes, so
// that hand-written fixtures need not spell out milliseconds.
func (e *Event) UnmarshalJSON(data []byte) error {
	var v struct {
		Time *string `json:"time"`
		*plainEvent
	}
	var out Event
	v.plainEvent = (*plainEvent)(&out)
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	if v.Time != nil {
		t, err := time.Parse(time.RFC3339Nano, *v.Time)
		if err != nil {
			return fmt.Errorf("audit: event time %q: %w", *v.Time, err)
		}
		out.Time = t.UTC()
	}
	*e = out
	return nil
}

// Names reports whether e is about user as [Filter]'s User selects: its User, or an element of
// its details.users (the users a change named: a SCIM change of a group's members).
func (e *Event) Names(user string) bool {
	if e.User == user {
		return true
	}
	switch us := e.Details["users"].(type) {
	case []string:
		return slices.Contains(us, user)
	case []any:
		// As decoded from a line; the index reads up to the first element that is not a
		// string.
		for _, u := range us {
			if s, ok := u.(string); !ok {
				return false
			} else if s == user {
				return true
			}
		}
	}
	return false
}
