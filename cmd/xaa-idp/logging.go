package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/internal/jsonstr"
)

// logOptions are the --log-format and --log-level flags.
type logOptions struct {
	fs            *flag.FlagSet
	format, level *string
}

func logFlags(fs *flag.FlagSet) logOptions {
	return logOptions{
		fs:     fs,
		format: fs.String("log-format", "text", "log format on stderr: text or json (one object per line)"),
		level:  fs.String("log-level", "info", "log level: debug (adds one line per HTTP request), info, warn or error"),
	}
}

// check refuses a --log-level or --log-format that is none.
func (o logOptions) check() error {
	_, _, err := o.parse()
	return err
}

// parse reads --log-level and --log-format: the level, and whether the
// format is json (else text).
func (o logOptions) parse() (level slog.Level, json bool, err error) {
	if err := level.UnmarshalText([]byte(*o.level)); err != nil {
		return 0, false, fmt.Errorf("%s: use debug, info, warn or error", flagValue(o.fs, "log-level", *o.level))
	}
	switch strings.ToLower(*o.format) {
	case "text":
		return level, false, nil
	case "json":
		return level, true, nil
	}
	return 0, false, fmt.Errorf("%s: use text or json", flagValue(o.fs, "log-format", *o.format))
}

// setup makes the process logger, which the IdP and zitadel log through
// (slog's default), and returns a function that puts the previous one
// back. Logs never carry tokens: audit events hold none (logAudit), and
// requests are logged by method and path, without query string or
// headers.
func (o logOptions) setup(w io.Writer) (restore func(), err error) {
	level, json, err := o.parse()
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: cutLongValues}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if json {
		h = slog.NewJSONHandler(visibleJSON{w}, opts)
	}
	prev := slog.Default()
	slog.SetDefault(slog.New(h))
	return func() { slog.SetDefault(prev) }, nil
}

// errorOutput is where serve and demo say why they stop (exit 1 or 2)
// once their flags are read: w, or with --log-format json a writer that
// makes each message one JSON record at level ERROR, so that stderr stays
// JSON lines when the IdP fails to start (README, "Operations").
func (o logOptions) errorOutput(w io.Writer) io.Writer {
	if _, json, err := o.parse(); err == nil && json {
		return jsonErrors{slog.New(slog.NewJSONHandler(visibleJSON{w}, nil))}
	}
	return w
}

// jsonErrors logs each Write, one message (a line, or a configuration's
// problems, a line each), as one ERROR record.
type jsonErrors struct{ log *slog.Logger }

func (j jsonErrors) Write(p []byte) (int, error) {
	j.log.Error(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// visibleJSON escapes the invisible characters (bidi controls, zero-width
// characters, C1 controls: jsonstr.Invisible) of the JSON records slog
// writes, one record a Write, as \uXXXX, as the audit log does: a user
// name holding U+202E would otherwise reorder the line tail -f shows. The
// text format needs none: slog quotes a value holding a character that is
// not printable, and Go quoting escapes it.
type visibleJSON struct{ w io.Writer }

func (v visibleJSON) Write(p []byte) (int, error) {
	if _, err := v.w.Write(jsonstr.EscapeInvisible(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// cutLongValues cuts a string value, or the text of an error or Stringer,
// to audit.MaxTextBytes with a visible marker, and redacts the tokens in
// it: the audit log's rule (audit.Truncate). zitadel logs what a client
// sent (a redirect_uri, a client_id, an error quoting a parameter) as it
// came, and a log line must not grow with a request (README, "Limits and
// throttles").
func cutLongValues(_ []string, a slog.Attr) slog.Attr {
	var text string
	switch v := a.Value.Resolve(); {
	case v.Kind() == slog.KindString:
		text = v.String()
	case v.Kind() == slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			text = x.Error()
		case fmt.Stringer:
			text = x.String()
		default:
			return a
		}
	default:
		return a
	}
	if cut := audit.Truncate(text); cut != text {
		return slog.String(a.Key, cut)
	}
	return a
}

// logDrainWait is how long, once serve or demo is told to stop, a log
// record may wait for stderr. A record that waits longer is dropped, and
// so is every later one: stderr may be a pipe nobody reads (a CI step
// whose reader died or stalled), where a write blocks for ever and a stop
// would hang on it. What is lost is only log records: the audit log has
// every event.
const logDrainWait = 2 * time.Second

// droppedAfterStop is w, whose writes, once ctx ends, wait at most
// logDrainWait (README, "Operations"); until then they wait as long as w
// takes. Each write is made by one goroutine, so that a blocked one can be
// left.
func droppedAfterStop(ctx context.Context, w io.Writer) io.Writer {
	d := &dropWriter{writes: make(chan dropWrite), stopped: ctx.Done()}
	go func() {
		for wr := range d.writes {
			n, err := w.Write(wr.p)
			wr.done <- dropResult{n, err}
		}
	}()
	return d
}

type dropWriter struct {
	writes  chan dropWrite
	stopped <-chan struct{}
	stuck   atomic.Bool // a write outwaited logDrainWait after the stop: drop the rest
}

type dropWrite struct {
	p    []byte // a copy: a write left blocked must not read the caller's buffer, which slog reuses
	done chan dropResult
}

type dropResult struct {
	n   int
	err error
}

func (d *dropWriter) Write(p []byte) (int, error) {
	if d.stuck.Load() {
		return len(p), nil
	}
	wr := dropWrite{p: bytes.Clone(p), done: make(chan dropResult, 1)}
	send, stopped := d.writes, d.stopped
	var late <-chan time.Time // from the stop on
	for {
		select {
		case send <- wr:
			send = nil
		case r := <-wr.done:
			return r.n, r.err
		case <-stopped:
			stopped, late = nil, time.After(logDrainWait)
		case <-late:
			d.stuck.Store(true)
			return len(p), nil
		}
	}
}

// logRequests logs each request at debug level: method, path, status and
// duration. The query string is left out on purpose: it may carry an
// authorization code or a state, and headers may carry credentials.
func logRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !slog.Default().Enabled(r.Context(), slog.LevelDebug) {
			h.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		slog.LogAttrs(r.Context(), slog.LevelDebug, "http request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", sw.status), slog.Duration("duration", time.Since(start)))
	})
}

// httpErrorLog is the http.Servers' ErrorLog: what net/http says of a
// connection, as a record at a level that fits rather than the INFO the
// log package's output gets from slog. A failed TLS handshake (a
// plain-http probe of --tls, a client that does not trust the CA, a
// scanner) and a query with a semicolon are per-request detail: debug. A
// panic in a handler is an error; the rest (an accept error) a warning.
var httpErrorLog = log.New(httpErrorWriter{}, "", 0)

type httpErrorWriter struct{}

func (httpErrorWriter) Write(p []byte) (int, error) {
	msg := strings.TrimSuffix(string(p), "\n")
	level := slog.LevelWarn
	switch {
	case strings.HasPrefix(msg, "http: TLS handshake error"), strings.HasPrefix(msg, "http: URL query contains semicolon"):
		level = slog.LevelDebug
	case strings.HasPrefix(msg, "http: panic serving"):
		level = slog.LevelError
	}
	slog.Log(context.Background(), level, msg)
	return len(p), nil
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// auditLogBuffer is how far the log records may fall behind the audit log
// before events are left out of the log (never out of the audit log).
const auditLogBuffer = 4096

// logAudit makes every event of the audit log a log record, whoever
// appends it: the IdP (logins, tokens, exchanges, key rotations), the
// admin API (admin_change) and the configuration watcher (config_reload),
// until the log is closed; the channel it returns is closed once the
// last event is logged. Allowed token exchanges are logged at debug, since
// an IdP under load makes thousands a second; everything else, refused
// exchanges too (a CI log must say why a client was refused), at info.
// Below debug the subscription skips allowed exchanges before they are
// decoded, so that they cost the token endpoint nothing here. A flood of
// refusals cannot hold up the endpoint either: the audit log never waits
// for a subscriber, and what the buffer cannot hold is left out of the log
// (never out of the audit log), which says how many once it has caught up
// (reportLeftOut). Audit events hold no tokens (docs/audit.md), so neither
// do the records.
func logAudit(log *audit.Log, logger *slog.Logger) (done <-chan struct{}) {
	var skip []audit.Skip
	if !logger.Enabled(context.Background(), slog.LevelDebug) {
		skip = append(skip, audit.Skip{Type: audit.TypeTokenExchange, Outcome: audit.Allowed}) // not even decoded
	}
	events, missed, _ := log.SubscribeCounting(auditLogBuffer, skip...) // Close ends it
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var r leftOutReport
		for ev := range events {
			logAuditEvent(logger, *ev)
			if len(events) == 0 { // caught up
				r.report(logger, missed(), false)
			}
		}
		r.report(logger, missed(), true)
	}()
	return finished
}

// leftOutEvery is how often at most the log says that it left out audit
// events: a flood that keeps it behind makes one record every so often,
// not one a burst.
const leftOutEvery = 10 * time.Second

// leftOutReport says, once, how many audit events the log left out since
// it last said so.
type leftOutReport struct {
	said int64
	last time.Time
}

func (r *leftOutReport) report(logger *slog.Logger, missed int64, final bool) {
	if missed == r.said || (!final && time.Since(r.last) < leftOutEvery) {
		return
	}
	logger.Warn(fmt.Sprintf("left out %d audit events; the audit log has them", missed-r.said),
		"left_out", missed-r.said, "left_out_total", missed)
	r.said, r.last = missed, time.Now()
}

func logAuditEvent(logger *slog.Logger, ev audit.Event) {
	level := slog.LevelInfo
	switch {
	case ev.Type == audit.TypeTokenExchange && ev.Outcome == audit.Allowed:
		level = slog.LevelDebug
	case ev.Outcome == audit.Error && (ev.Type == audit.TypeConfigReload || ev.Type == audit.TypeEventPush):
		// An operator must act: the file on disk is not what runs, or a
		// receiver is not told of a revocation.
		level = slog.LevelWarn
	}
	ctx := context.Background()
	if !logger.Enabled(ctx, level) {
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
	if result, ok := ev.Details["result"].(string); ok && ev.Type == audit.TypeEventPush {
		// Why a push failed (the receiver's status, the transport error,
		// its endpoint masked as in the audit): the reason says only when
		// it is retried.
		attrs = append(attrs, slog.String("result", result))
	}
	if ev.Injected {
		attrs = append(attrs, slog.Bool("injected", true))
	}
	logger.LogAttrs(ctx, level, "audit", attrs...)
}
