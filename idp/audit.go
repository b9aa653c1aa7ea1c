package idp

import (
	"context"
	"log/slog"
	"time"
	"unicode/utf8"

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

// Append records ev like audit.Log.Append does, with every text field cut
// to maxAuditText bytes: most of them can carry what a client sent (a
// client_id, a scope, a reason quoting a parameter), and neither the log
// file, the in-memory index nor the log lines may grow with it.
func (a *auditRecorder) Append(ev audit.Event) (audit.Event, error) {
	for _, f := range []*string{&ev.Error, &ev.User, &ev.Sub, &ev.ClientID, &ev.Server, &ev.Audience,
		&ev.Resource, &ev.ScopeRequested, &ev.ScopeGranted, &ev.Rule, &ev.Reason, &ev.JTI, &ev.GrantType} {
		*f = cut(*f, maxAuditText)
	}
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

// maxAuditText bounds each text field of the IdP's audit events and log
// lines (docs/audit.md).
const maxAuditText = 512

// truncated marks text that cut shortened.
const truncated = "…[truncated]"

// cut returns s if it has at most n bytes, else its first bytes, cut at a
// character boundary, and the truncated marker, n bytes at most in all.
//
// Package audit is to cut events centrally (audit.Truncate); until then
// the IdP cuts what it records and logs itself.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	end := n - len(truncated)
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return s[:end] + truncated
}
