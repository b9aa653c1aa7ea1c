package idp

import (
	"maps"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/internal/stopgate"
	"github.com/xaa-idp/xaa-idp/policy"
)

// metrics are the IdP's Prometheus metrics, served at /metrics. Each
// Server has its own registry, so that several IdPs in one test process
// count apart and nothing is registered globally. A tenant's series carry
// the label tenant="<id>" (a const label: it costs nothing per count),
// so that the root /metrics of a file with tenants can serve every
// tenant's series side by side (Server.Metrics); a file without tenants
// keeps its series unlabelled. The Go and process collectors are in a
// registry of their own, since they describe the process, not a tenant.
//
// The decision counters are driven by the audit events (auditRecorder,
// audit.go), key rotations excepted (counted once made, Server.RotateKeys):
// every login, grant and exchange is audited exactly once, so the counts
// match the audit log and no handler needs its own bookkeeping.
type metrics struct {
	registry     *prometheus.Registry  // the IdP's own series
	register     prometheus.Registerer // registry, with the tenant label
	process      *prometheus.Registry  // Go and process collectors
	logins       *prometheus.CounterVec
	grants       *prometheus.CounterVec
	exchanges    *prometheus.CounterVec
	keyRotations prometheus.Counter
	tokenLatency *prometheus.HistogramVec
	auditLatency prometheus.Histogram
	auditErrors  prometheus.Counter

	// The children of the vectors for fixed label values, looked up once rather than per
	// request (WithLabelValues hashes the values, takes a lock and allocates).
	latency   [4]lazyObserver // tokenLatency by grant label, in grantLabels' order
	exchanged exchangeCounters
}

// exchangeCounters are the two counters an exchange's event adds to, by its outcome, error code
// and server: a copy-on-write map, so that counting takes no lock once a combination has been
// seen. Its keys are as many as the vectors' children, which are kept for good anyway.
type exchangeCounters struct {
	m  atomic.Pointer[map[exchangeKey]exchangeCounter]
	mu sync.Mutex // held to add a key
}

// lazyObserver is a histogram's child made at its first observation, as WithLabelValues would
// make it: a series appears in /metrics once it has been observed, as before the cache.
type lazyObserver struct {
	once sync.Once
	o    prometheus.Observer
}

func (l *lazyObserver) get(v *prometheus.HistogramVec, label string) prometheus.Observer {
	l.once.Do(func() { l.o = v.WithLabelValues(label) })
	return l.o
}

type exchangeKey struct{ outcome, error, server string }

type exchangeCounter struct{ grants, exchanges prometheus.Counter }

func (c *exchangeCounters) get(m *metrics, k exchangeKey) exchangeCounter {
	if p := c.m.Load(); p != nil {
		if v, ok := (*p)[k]; ok {
			return v
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.m.Load()
	if old != nil {
		if v, ok := (*old)[k]; ok {
			return v
		}
	}
	// The key's strings may be substrings of a request; keep copies, not the request.
	k = exchangeKey{strings.Clone(k.outcome), strings.Clone(k.error), strings.Clone(k.server)}
	v := exchangeCounter{
		grants:    m.grants.WithLabelValues(grantTokenExchange, k.outcome),
		exchanges: m.exchanges.WithLabelValues(k.outcome, k.error, k.server),
	}
	next := make(map[exchangeKey]exchangeCounter, 1)
	if old != nil {
		next = maps.Clone(*old)
	}
	next[k] = v
	c.m.Store(&next)
	return v
}

func newMetrics(tenant string) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xaa_idp_logins_total",
			Help: "Login events the IdP audits, by outcome (allowed, denied, error): passwords at the login page, authorization requests refused before it, a code asked for without its SSO session; not the admin API's, SCIM's, the console's or the apps page's refusals.",
		}, []string{"outcome"}),
		grants: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xaa_idp_token_grants_total",
			Help: "Audited token endpoint requests, by grant type and outcome (allowed, denied, error).",
		}, []string{"grant_type", "outcome"}),
		exchanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xaa_idp_token_exchanges_total",
			Help: "Token exchanges for ID-JAGs, by outcome, OAuth error code and MCP server id (empty when unknown).",
		}, []string{"outcome", "error", "server"}),
		keyRotations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "xaa_idp_key_rotations_total",
			Help: "Signing keys replaced by a rotation (one whose keys could not be written was not made and is not counted).",
		}),
		tokenLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "xaa_idp_token_request_duration_seconds",
			Help:    "Time to answer a token endpoint request, audit write included, by grant type.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"grant_type"}),
		auditLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "xaa_idp_audit_append_duration_seconds",
			Help:    "Time for an audit event the IdP appends to become durable (fsync included when the log has a file); the admin API's, SCIM's, the console's and reloads' events are not timed.",
			Buckets: []float64{.00001, .00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}),
		auditErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "xaa_idp_audit_append_errors_total",
			Help: "Audit events the IdP appends that could not be written (their tokens were withheld).",
		}),
	}
	m.register = m.registry
	if tenant != "" {
		m.register = prometheus.WrapRegistererWith(prometheus.Labels{"tenant": tenant}, m.registry)
	}
	m.register.MustRegister(m.logins, m.grants, m.exchanges, m.keyRotations, m.tokenLatency,
		m.auditLatency, m.auditErrors)
	m.process = ProcessMetrics()
	return m
}

// ProcessMetrics is a registry of what the process has once, whatever its
// tenants: the Go runtime's and the process's collectors, and the password
// checks the process's bcrypt queue refused (policy.BcryptShed).
func ProcessMetrics() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "xaa_idp_password_checks_shed_total",
			Help: "Password checks refused unchecked (503 with Retry-After) because the process's queue of bcrypt checks was full or its wait too long.",
		}, func() float64 { return float64(policy.BcryptShed()) }),
		inProgress("working", inProgressHelp, func(working, _ int) int { return working }),
		inProgress("waiting_for_body", inProgressHelp, func(_, waiting int) int { return waiting }))
	return r
}

const inProgressHelp = "Requests of this process's servers in progress (a scrape counts itself), by state: working, or waiting for the client to send more of the body."

// inProgress is one state's series of xaa_idp_http_requests_in_progress,
// read from the stop gates the process's servers serve through.
func inProgress(state, help string, pick func(working, waiting int) int) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "xaa_idp_http_requests_in_progress",
		Help:        help,
		ConstLabels: prometheus.Labels{"state": state},
	}, func() float64 { return float64(pick(stopgate.InProgress())) })
}

// auditSyncs publishes the fsyncs of the audit log's file: the events
// appended (xaa_idp_audit_append_duration_seconds_count) over them is the
// average group commit; and the events serve's log of it left out
// (audit.Log.SubscriberMisses). A tenant's log is the shared one, so each
// tenant reports the same fsyncs, and the events of its own left out.
func (m *metrics) auditSyncs(log *audit.Log) {
	m.register.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "xaa_idp_audit_syncs_total",
		Help: "Fsyncs of the audit log file, each making a batch of events durable (0 without a file).",
	}, func() float64 { return float64(log.Syncs()) }))
	m.register.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "xaa_idp_audit_subscriber_missed_total",
		Help: "Audit events of this IdP (of its tenant) that serve's log on stderr left out because it fell behind (it holds 4,096); the audit log has them all. Console tails are not counted.",
	}, func() float64 { return float64(log.SubscriberMisses()) }))
}

// storeSize publishes the number of entries in one in-memory store, so
// that an operator sees them grow under load and shrink back
// (Server.startSweeper).
func (m *metrics) storeSize(name string, size func() int) {
	m.register.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "xaa_idp_store_entries",
		Help:        "Entries in an in-memory store of the IdP, expired ones not yet swept included.",
		ConstLabels: prometheus.Labels{"store": name},
	}, func() float64 { return float64(size()) }))
}

// handler serves the IdP's series and the process's in the Prometheus
// text format.
func (m *metrics) handler() http.Handler {
	return MetricsHandler(prometheus.Gatherers{m.registry, m.process})
}

// MetricsHandler serves g's series in the Prometheus text format,
// uncompressed whatever the scraper accepts: gzip would save about 8 KB
// of an IdP's 10 KB page, and its compressor takes 900 KB of heap at
// every scrape that finds none left over from the last (README,
// "Performance", "Memory").
func MetricsHandler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{DisableCompression: true})
}

// Metrics returns the IdP's own series, without those of the process: in
// a file with tenants, each labelled with the tenant, for the root
// /metrics to gather every tenant's (app.Tenants).
func (s *Server) Metrics() prometheus.Gatherer { return s.metrics.registry }

// count updates the decision counters from one durable audit event.
func (m *metrics) count(ev audit.Event) {
	switch ev.Type {
	case audit.TypeLogin:
		m.logins.WithLabelValues(ev.Outcome).Inc()
	case audit.TypeToken:
		// A token event without a grant type is a refusal at the introspection or
		// revocation endpoint or of a bearer token: no token endpoint request.
		if ev.GrantType != "" {
			m.grants.WithLabelValues(ev.GrantType, ev.Outcome).Inc()
		}
	case audit.TypeTokenExchange:
		code := ev.Error
		if code != "" { // a refusal: the allowed path does no more work
			code = errorLabel(code)
		}
		c := m.exchanged.get(m, exchangeKey{ev.Outcome, code, ev.Server})
		c.grants.Inc()
		c.exchanges.Inc()
	}
}

// errorLabel is an error code as the error label counts it: the codes the
// IdP answers itself (RFC 6749, RFC 8693, RFC 9449, RFC 9470, RFC 9396,
// OpenID Connect's), or "other". An error fault may answer any code an
// admin typed, and each label value is a series for the life of the
// process; the answer and the audit event keep the fault's code.
func errorLabel(code string) string {
	switch code {
	case policy.ErrInvalidRequest, policy.ErrInvalidClient, policy.ErrInvalidGrant, policy.ErrUnauthorizedClient,
		policy.ErrInvalidTarget, policy.ErrInvalidScope, policy.ErrAccessDenied, policy.ErrInsufficientUserAuthentication,
		"unsupported_grant_type", "unsupported_response_type", "server_error", "temporarily_unavailable",
		"invalid_token", "invalid_dpop_proof", "invalid_authorization_details", "login_required", "interaction_required":
		return code
	}
	return "other"
}

// grantLabels are the grant_type label values of the token endpoint's latency.
var grantLabels = [...]string{grantAuthorizationCd, grantRefreshToken, grantTokenExchange, "other"}

// timeTokenEndpoint observes the token endpoint's latency by grant type.
// The label is read after the handler parsed the form; grant types that
// are not served share "other", so a client cannot grow the label set.
func (m *metrics) timeTokenEndpoint(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		next.ServeHTTP(w, r)
		i := 3 // other
		switch grantTypeOf(r) {
		case grantAuthorizationCd:
			i = 0
		case grantRefreshToken:
			i = 1
		case grantTokenExchange:
			i = 2
		}
		m.latency[i].get(m.tokenLatency, grantLabels[i]).Observe(time.Since(start).Seconds())
	})
}
