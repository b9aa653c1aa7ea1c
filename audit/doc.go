// Package audit records what the IdP decided: logins, token issuance, ID-JAG exchanges, admin
// changes, configuration reloads and key rotations (docs/audit.md).
//
// A [Log] appends each [Event] as one JSON line to a file and keeps the most recent events in
// memory for the console's queries and live tail. Append returns only once the line is on stable
// storage, so an event the caller was told about survives a crash; concurrent appends share one
// write and one fsync (group commit), so durability costs one disk flush per batch, not per event.
//
// Every string an event holds is cut to [MaxTextBytes] when it is appended (see [Truncate]), and
// the index is bounded in bytes as well as in events, so that clients sending huge usernames or
// scopes cost the log no more than anyone else.
//
// The package knows nothing of HTTP or tokens: callers describe what happened, never the
// credentials involved.
package audit
