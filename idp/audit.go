package idp

import (
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
	failing audit.FailOnce
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
		a.failing.Failed("audit log cannot be written: logins, tokens and changes are refused (500 server_error) until it can; said once until then",
			"err", err)
		return out, err
	}
	a.failing.Succeeded("audit log written again", "failed_appends")
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
