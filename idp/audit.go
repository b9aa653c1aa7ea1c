package idp

import (
	"context"
	"log/slog"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
)

// auditRecorder is the IdP's door to the audit log: it stamps events with
// the IdP's clock, times the append, counts the decision, and logs it
// (audit events never hold tokens, so neither do these log lines).
type auditRecorder struct {
	*audit.Log
	now     func() time.Time
	metrics *metrics
	logger  *slog.Logger // nil: audit events are not logged
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
	a.logEvent(out)
	return out, nil
}

func (a *auditRecorder) logEvent(ev audit.Event) {
	logger := a.logger
	if logger == nil {
		return
	}
	ctx := context.Background()
	if !logger.Enabled(ctx, slog.LevelInfo) {
		return
	}
	attrs := []slog.Attr{slog.String("type", ev.Type), slog.String("outcome", ev.Outcome)}
	for _, f := range []struct{ k, v string }{
		{"id", ev.ID}, {"error", ev.Error}, {"user", ev.User}, {"client_id", ev.ClientID},
		{"server", ev.Server}, {"grant_type", ev.GrantType}, {"scope_granted", ev.ScopeGranted},
		{"rule", ev.Rule}, {"reason", ev.Reason}, {"jti", ev.JTI}, {"admin", ev.Admin},
	} {
		if f.v != "" {
			attrs = append(attrs, slog.String(f.k, f.v))
		}
	}
	if ev.Injected {
		attrs = append(attrs, slog.Bool("injected", true))
	}
	logger.LogAttrs(ctx, slog.LevelInfo, "audit", attrs...)
}
