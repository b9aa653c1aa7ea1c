package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
)

// logOptions are the --log-format and --log-level flags.
type logOptions struct {
	format, level *string
}

func logFlags(fs *flag.FlagSet) logOptions {
	return logOptions{
		format: fs.String("log-format", "text", "log format on stderr: text or json (one object per line)"),
		level:  fs.String("log-level", "info", "log level: debug (adds one line per HTTP request), info, warn or error"),
	}
}

// setup makes the process logger, which the IdP and zitadel log through
// (slog's default), and returns a function that puts the previous one
// back. Logs never carry tokens: the IdP logs audit events, which hold
// none, and requests are logged by method and path, without query string
// or headers.
func (o logOptions) setup(w io.Writer) (restore func(), err error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(*o.level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", *o.level)
	}
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: cutLongValues}
	var h slog.Handler
	switch strings.ToLower(*o.format) {
	case "text":
		h = slog.NewTextHandler(w, opts)
	case "json":
		h = slog.NewJSONHandler(w, opts)
	default:
		return nil, fmt.Errorf("--log-format %q: use text or json", *o.format)
	}
	prev := slog.Default()
	slog.SetDefault(slog.New(h))
	return func() { slog.SetDefault(prev) }, nil
}

// maxLogValue bounds each value of a log record: zitadel logs what a
// client sent (a redirect_uri, a client_id, an error quoting a parameter)
// as it came, and a log line must not grow with a request (README, "Limits
// and throttles").
const maxLogValue = audit.MaxTextBytes

// cutLongValues cuts a string value, or the text of an error or Stringer,
// to maxLogValue bytes with a visible marker, the audit log's rule.
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
	if len(text) <= maxLogValue {
		return a
	}
	return slog.String(a.Key, audit.Truncate(text))
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
