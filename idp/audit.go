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
}

// Append records ev like audit.Log.Append does (which cuts every text
// field to audit.MaxTextBytes: most of them can carry what a client sent),
// then counts and logs the event as recorded.
func (a *auditRecorder) Append(ev audit.Event) (audit.Event, error) {
	if ev.Time.IsZero() {
		ev.Time = a.now()
	}
	start := time.Now()
	out, err := a.Log.Append(ev)
	a.metrics.auditLatency.Observe(time.Since(start).Seconds())
	if err != nil {
		a.metrics.auditErrors.Inc()
		return out, err
	}
	a.metrics.count(out)
	return out, nil
}
