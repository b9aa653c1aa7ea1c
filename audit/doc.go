// Package audit records what the IdP decided: logins, token issuance, ID-JAG exchanges, admin
// changes, configuration reloads and key rotations (CONTRACT.md §5).
//
// A [Log] appends each [Event] as one JSON line to a file and keeps the most recent events in
// memory for the console's queries and live tail. Append returns only once the line is on stable
// storage, so an event the caller was told about survives a crash; concurrent appends share one
// write and one fsync (group commit), so durability costs one disk flush per batch, not per event.
//
// The package knows nothing of HTTP or tokens: callers describe what happened, never the
// credentials involved.
package audit
