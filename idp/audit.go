package idp

import (
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
)

// auditRecorder is the IdP's door to the audit log: it stamps events with
// the IdP's clock, times the append and counts the decision. The process
// logs every event of the log, whoever appends it (cmd/xaa-idp,
// logAudit).
type auditRecorder struct {
	*audit.Log
	now     func() time.Time
	metrics *metrics
	failing atomic.Int64 // appends failed since the last that succeeded
}

// Append records ev like audit.Log.Append does (which cuts every text
// field to audit.MaxTextBytes: most of them can carry what a client sent),
// then counts and logs the event as recorded.
func (a *auditRecorder) Append(ev audit.Event) (audit.Event, error) {
	return a.record(a.Log.Append, ev, true)
}

// appendUncounted is Append of an event that the decision counters leave
// out: a refusal that is no login attempt, though audited as a login (as
// the console's refusal of a form without its CSRF token, which no IdP
// counter counts).
func (a *auditRecorder) appendUncounted(ev audit.Event) (audit.Event, error) {
	return a.record(a.Log.Append, ev, false)
}

func (a *auditRecorder) record(appendEvent func(audit.Event) (audit.Event, error), ev audit.Event, counted bool) (audit.Event, error) {
	if ev.Time.IsZero() {
		ev.Time = a.now()
	}
	start := time.Now()
	out, err := appendEvent(ev)
	a.metrics.auditLatency.Observe(time.Since(start).Seconds())
	if err != nil {
		a.metrics.auditErrors.Inc()
		if a.failing.Add(1) == 1 {
			// Once, not per request: while the file cannot be written (a full disk)
			// every login and token fails, and a line each would bury the log.
			slog.Error("audit log cannot be written: logins, tokens and changes are refused (500 server_error) until it can; said once until then",
				"err", err)
		}
		return out, err
	}
	if a.failing.Load() != 0 {
		if n := a.failing.Swap(0); n != 0 {
			slog.Warn("audit log written again", "failed_appends", n)
		}
	}
	if counted {
		a.metrics.count(out)
	}
	return out, nil
}

// expectedEvent is the audit event of a request being handled, announced
// to the log when the work that ends in it starts (audit.Log.Expect), so
// that the log's commit waits for it rather than syncing without it.
type expectedEvent struct {
	a *auditRecorder
	x audit.Expectation
}

// expect announces an event that Append of the result will record; end
// it, deferred, in case the request returns without.
func (a *auditRecorder) expect() expectedEvent {
	return expectedEvent{a, a.Log.Expect()}
}

// Append is auditRecorder.Append of the expected event.
func (e expectedEvent) Append(ev audit.Event) (audit.Event, error) {
	return e.a.record(e.x.Append, ev, true)
}

// end ends the expectation if Append has not.
func (e expectedEvent) end() { e.x.End() }
