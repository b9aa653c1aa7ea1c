// Package push tells MCP servers that a user's access ended: it finds the
// users who lost a server (a configuration change, expiry on the IdP's
// clock, the end of an SSO session), and delivers a Security Event Token
// (RFC 8417) to each server's events_endpoint by RFC 8935 push, with
// retries, a bounded queue that survives restarts in the state directory,
// and an audit event for every attempt (docs/configuration.md, "Revocation
// push"; docs/audit.md, event_push). With a state directory it also finds,
// at start, what the configuration loaded took away since it last acted on
// one (StandingFile): nothing is lost to a crash or an edit while stopped.
package push

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/internal/redact"
	"github.com/xaa-idp/xaa-idp/internal/secevent"
	"github.com/xaa-idp/xaa-idp/policy"
)

// Signer signs a SET's claims as a compact JWS with typ secevent+jwt and
// a key the IdP's JWKS publishes; idp.Server implements it.
type Signer interface {
	SignSecEvent(claims any) (string, error)
}

// Auditor records the push's audit events; audit.Log implements it.
type Auditor interface {
	Append(audit.Event) (audit.Event, error)
}

// Defaults of Options. DefaultAttemptTimeout plus DefaultFirstRetry keeps
// the first retry of a receiver that never answers within the 5 s
// docs/configuration.md promises ("Revocation push").
const (
	DefaultMaxPending     = 10_000
	DefaultAttemptTimeout = 3 * time.Second
	DefaultFirstRetry     = time.Second
	DefaultMaxBackoff     = 15 * time.Second
	DefaultGiveUpAfter    = 24 * time.Hour
	DefaultCheckEvery     = time.Second
	workers               = 4
)

// ErrFull means the queue holds MaxPending SETs: the SETs that did not fit
// were not queued, and were logged and audited.
var ErrFull = errors.New("push: the queue of pending Security Event Tokens is full")

// Options configure a Pusher.
type Options struct {
	// Issuer is the IdP's issuer: the SETs' iss and the subjects' iss.
	Issuer string
	// Signer signs the SETs. Audit records every attempt. Both required.
	// When Audit is also a Querier (audit.Log is), the access_request
	// expired events it holds are not written again for the same entries.
	Signer Signer
	Audit  Auditor
	// Config is the running configuration at start. Required.
	Config *policy.Config
	// Now is the IdP's clock, for expiry and the SETs' iat and
	// event_timestamp; nil means time.Now. Retries follow the wall clock.
	Now func() time.Time
	// Endpoint returns where a server's SETs go, "" for nowhere; nil
	// means its events_endpoint.
	Endpoint func(*policy.MCPServer) string
	// Dir, when set, keeps the pending SETs there (JournalFile), so that
	// a restart delivers them, and who could reach each server when the
	// Pusher last acted on a configuration (StandingFile), so that New
	// queues the revocations of a configuration that changed without
	// them (a crash before they were queued, an edit while stopped); ""
	// keeps them in memory.
	Dir string
	// Client posts the SETs; nil means http.DefaultClient (each attempt
	// has its own timeout). Redirects are never followed, whatever the
	// client's CheckRedirect.
	Client *http.Client
	// MaxPending bounds the queue (default 10,000). AttemptTimeout bounds
	// one POST (default 3s). A failed attempt is retried after FirstRetry
	// (default 1s), doubling up to MaxBackoff (default 15s), for up to
	// GiveUpAfter (default 24h). CheckEvery is how often expiry is looked
	// for (default 1s).
	MaxPending                          int
	AttemptTimeout, FirstRetry          time.Duration
	MaxBackoff, GiveUpAfter, CheckEvery time.Duration
	// Logger receives a record when the queue refuses SETs or the journal
	// fails; nil means slog.Default().
	Logger *slog.Logger
}

// pending is one SET waiting for delivery: what it says, where it goes,
// how many attempts it had (kept in the journal, so that a restart counts
// on, and the back-off after its first attempt goes on doubling), and (in
// memory only) when the next is due and whether it is being posted. A
// start retries at once, as docs/configuration.md says. Attempts changes
// under Pusher.mu only: the journal writes it while an attempt is in
// flight.
type pending struct {
	ID       string    `json:"jti"`
	Server   string    `json:"server"`
	Endpoint string    `json:"endpoint"`
	Audience string    `json:"aud"`
	User     string    `json:"user"`
	Sub      string    `json:"sub"`
	Event    string    `json:"event"`
	At       int64     `json:"event_timestamp"`
	Reason   string    `json:"reason"`
	Created  time.Time `json:"created"`
	Attempts int       `json:"attempts,omitempty"`

	next     time.Time
	inflight bool
	// failed is set, under mu, once an attempt in flight has failed and
	// will be retried: the SET is waiting again, and a revocation that
	// says what it says is merged into it (enqueue), while the attempt
	// records its outcome.
	failed bool
}

// Pusher finds revocations and delivers their SETs. Its methods are safe
// for concurrent use.
type Pusher struct {
	o        Options
	endpoint func(*policy.MCPServer) string

	mu      sync.Mutex
	queue   map[string]*pending
	order   []*pending                                 // queue in enqueue order, for the journal
	journal *journal                                   // nil without Dir
	busy    int                                        // attempts in flight
	queued  []func(sub, audience string, at time.Time) // OnQueued

	watchMu sync.Mutex
	cfg     *policy.Config // the configuration last compared
	cfgAt   time.Time      // and the instant it was compared at
	seen    expirySet      // expired entries already audited
	// lastLook lets auditExpired skip a configuration with nothing
	// newly expired since it last looked.
	lastLook expiryLook
	// standingPath is the StandingFile, "" without Dir; standingSaved is
	// what it holds. standingHeld is set once a SET was refused (the queue
	// full): from then on the standing is not saved, so that the next
	// start compares with the last one whose SETs were all queued and
	// finds the refused revocations again.
	standingPath  string
	standingSaved []byte
	standingHeld  bool

	wake   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns a Pusher that delivers the SETs left pending in Dir, and
// starts it. Close stops it.
func New(o Options) (*Pusher, error) {
	if o.Signer == nil || o.Audit == nil || o.Config == nil || o.Issuer == "" {
		return nil, errors.New("push: Options.Issuer, Signer, Audit and Config are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	// A redirect is not followed: RFC 8935 delivery is to the configured
	// endpoint, and only its own 202 counts (a 3xx is retried like any
	// other failure). Following it would post the SET wherever the
	// receiver points, internal addresses included.
	client := http.DefaultClient
	if o.Client != nil {
		client = o.Client
	}
	noRedirects := *client
	noRedirects.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	o.Client = &noRedirects
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	setDefault(&o.AttemptTimeout, DefaultAttemptTimeout)
	setDefault(&o.FirstRetry, DefaultFirstRetry)
	setDefault(&o.MaxBackoff, DefaultMaxBackoff)
	setDefault(&o.GiveUpAfter, DefaultGiveUpAfter)
	setDefault(&o.CheckEvery, DefaultCheckEvery)
	if o.MaxPending <= 0 {
		o.MaxPending = DefaultMaxPending
	}
	p := &Pusher{o: o, endpoint: o.Endpoint, queue: map[string]*pending{}, cfg: o.Config, cfgAt: o.Now(), wake: make(chan struct{}, 1)}
	if p.endpoint == nil {
		p.endpoint = func(s *policy.MCPServer) string { return s.EventsEndpoint }
	}
	if q, ok := o.Audit.(Querier); ok {
		p.seen.seedExpired(q)
	}
	if o.Dir != "" {
		j, live, torn, err := openJournal(o.Dir)
		if err != nil {
			return nil, err
		}
		if torn > 0 {
			o.Logger.Warn("push: dropped the torn last line of the journal: the write of a SET that a crash cut short, which was never acknowledged", "file", j.path, "bytes", torn)
		}
		p.journal = j
		for _, it := range live {
			p.queue[it.ID] = it
			p.order = append(p.order, it)
		}
		// After the journal: the revocations found merge into its SETs.
		if err := p.catchUp(o.Dir); err != nil {
			_ = j.close()
			return nil, err
		}
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.wg.Add(1)
	go p.run()
	return p, nil
}

func setDefault(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

// Close stops delivery, waits for the attempts in flight (each bounded by
// AttemptTimeout) and closes the journal. Pending SETs stay in it; without
// one they are lost, and each is audited as not delivered, so that the
// audit's last word on it is not a retry that never comes.
func (p *Pusher) Close() {
	p.cancel()
	p.wg.Wait()
	p.mu.Lock()
	var lost []*pending
	if p.journal != nil {
		_ = p.journal.close()
	} else {
		lost, p.queue, p.order = p.order, map[string]*pending{}, nil
	}
	p.mu.Unlock()
	// Audited by several goroutines at once, each announced to the audit
	// log first (Expect), so that its group commit waits for them and one
	// fsync covers a whole chunk: one after another, each waited for its
	// own, and a full queue (MaxPending) took minutes of a stop that the
	// log said would take 8 s; started together but unannounced, how many
	// shared a sync depended on how soon the goroutines ran.
	ex, _ := p.o.Audit.(expecter)
	for chunk := range slices.Chunk(lost, lostAuditors) {
		var wg sync.WaitGroup
		for _, it := range chunk {
			appendEvent := p.o.Audit.Append
			if ex != nil {
				appendEvent = ex.Expect().Append
			}
			wg.Go(func() {
				p.record(appendEvent, it, audit.Error, ErrNotDelivered, "", notDelivered, it.Attempts)
			})
		}
		wg.Wait()
	}
	if len(lost) > 0 {
		p.o.Logger.Warn("push: revocation SETs not delivered: the IdP stopped without a state directory (--state-dir), which would have kept them for the next start", "sets", len(lost))
	}
}

// lostAuditors is how many goroutines audit the SETs lost at a stop.
const lostAuditors = 64

// notDelivered is the audit's reason for a SET still pending when a
// Pusher without a journal stops.
const notDelivered = "not delivered: the IdP stopped, and without --state-dir pending SETs are lost"

// The error codes of event_push events with outcome error (docs/audit.md), besides not_queued
// (a SET the full queue refused): a SIEM counts and alerts by them, not by the reason's words.
// A receiver's refusal (400) is denied, with the receiver's own RFC 8935 code.
const (
	// ErrDeliveryFailed is an attempt that failed (no answer, or a status other than 202 and
	// 400) and is retried: after a back-off, or at the next start.
	ErrDeliveryFailed = "delivery_failed"
	// ErrGivenUp is the last attempt, once the SET has failed for GiveUpAfter.
	ErrGivenUp = "given_up"
	// ErrNotSigned is a SET that could not be signed; no retry helps.
	ErrNotSigned = "not_signed"
	// ErrNotDelivered is a SET still pending when the IdP stopped without a state directory:
	// lost.
	ErrNotDelivered = "not_delivered"
)

// OnQueued registers f to be called with the user's sub, the server's
// issuer (the SET's aud) and the SET's event_timestamp for every SET
// queued from now on (or merged into one waiting), before it can be
// posted, and again with the IdP's clock when its receiver accepts it:
// idp.Server.NoteRevocation, so that an ID-JAG issued after the
// revocation falls in a later second. f runs under the Pusher's lock and
// must neither block nor call the Pusher.
func (p *Pusher) OnQueued(f func(sub, audience string, at time.Time)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.queued = append(p.queued, f)
}

// Pending returns the number of SETs not yet delivered.
func (p *Pusher) Pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.queue)
}

// enqueue queues SETs, durably when there is a journal, and refuses those
// that do not fit. It never waits for a receiver.
//
// A SET that says what one already waiting says (the same receiver, user
// and event) is merged into it rather than queued: the waiting one takes
// the newer event's time and reason, and keeps its jti, its place and its
// retry schedule. A receiver that is down thus holds one SET per user and
// event however often the revocation is repeated (a user who logs in and
// out in a loop), not one per repetition, which would fill the queue and
// refuse every later revocation, to every receiver. A SET being posted is
// not merged into: the new one is queued after it.
func (p *Pusher) enqueue(items []*pending) error {
	if len(items) == 0 {
		return nil
	}
	p.mu.Lock()
	waiting := make(map[string]*pending, len(p.order))
	for _, it := range p.order {
		if !it.inflight || it.failed {
			waiting[it.mergeKey()] = it
		}
	}
	var fresh, merged, into []*pending
	updates := map[*pending]*pending{} // a waiting SET: its update
	batch := map[string]*pending{}     // the fresh SETs of this call
	for _, it := range items {
		k := it.mergeKey()
		switch old := waiting[k]; {
		case old != nil:
			m := updates[old]
			if m == nil {
				// Journaled as a new line of old's jti, which replaces the
				// old line on reading; applied to old once durable.
				c := *old
				m = &c
				updates[old] = m
				merged, into = append(merged, m), append(into, old)
			}
			m.At, m.Reason, m.Created = it.At, it.Reason, it.Created
		case batch[k] != nil: // twice in this call
			*batch[k] = *it
		default:
			batch[k] = it
			fresh = append(fresh, it)
		}
	}
	free := p.o.MaxPending - len(p.queue)
	var refused []*pending
	if len(fresh) > free {
		fresh, refused = fresh[:max(free, 0)], fresh[max(free, 0):]
	}
	var err error
	if p.journal != nil && len(fresh)+len(merged) > 0 {
		if err = p.journal.add(append(slices.Clip(fresh), merged...)); err != nil {
			refused, fresh, merged = append(fresh, refused...), nil, nil
		}
	}
	for i, m := range merged {
		// Not being posted (not in flight, or its attempt failed): attempts
		// start, and fail, under mu, which enqueue holds.
		into[i].At, into[i].Reason, into[i].Created = m.At, m.Reason, m.Created
	}
	for _, it := range fresh {
		p.queue[it.ID] = it
		p.order = append(p.order, it)
	}
	// Under mu, which attempts start under: before any is posted.
	for _, f := range p.queued {
		for _, it := range slices.Concat(fresh, merged) {
			f(it.Sub, it.Audience, time.Unix(it.At, 0))
		}
	}
	if p.journal != nil && len(fresh)+len(merged) > 0 {
		if jerr := p.journal.superseded(len(merged), p.order); jerr != nil {
			p.o.Logger.Error("push: journal", "err", jerr)
		}
	}
	p.mu.Unlock()
	p.signal()
	for _, it := range refused {
		p.o.Logger.Error("push: Security Event Token NOT queued; its receiver will not learn of this revocation",
			"server", it.Server, "user", it.User, "event", it.Event, "max_pending", p.o.MaxPending, "why", orFull(err))
		p.audit(it, audit.Error, "not_queued", "", fmt.Sprintf("not queued: %s", orFull(err)), 0)
	}
	if len(refused) > 0 {
		return errors.Join(ErrFull, err)
	}
	return nil
}

// mergeKey is what two SETs must share for one to be merged into the
// other (enqueue): receiver, user and event.
func (it *pending) mergeKey() string {
	return it.Server + "\x00" + it.Endpoint + "\x00" + it.Sub + "\x00" + it.Event
}

func orFull(err error) string {
	if err != nil {
		return err.Error()
	}
	return ErrFull.Error()
}

func (p *Pusher) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// run starts the attempts that are due, at most workers at a time, and
// looks for expiry every CheckEvery.
func (p *Pusher) run() {
	defer p.wg.Done()
	tick := time.NewTicker(p.o.CheckEvery)
	defer tick.Stop()
	for {
		wait := p.startDue()
		timer := time.NewTimer(wait)
		select {
		case <-p.ctx.Done():
			timer.Stop()
			return
		case <-p.wake:
		case <-timer.C:
		case <-tick.C:
			p.CheckExpiry()
		}
		timer.Stop()
	}
}

// startDue starts the attempts due now and returns how long until the next
// one is.
func (p *Pusher) startDue() time.Duration {
	now := time.Now()
	wait := time.Hour
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, it := range p.order {
		if it.inflight {
			continue
		}
		if d := it.next.Sub(now); d > 0 {
			wait = min(wait, d)
			continue
		}
		if p.busy >= workers {
			break
		}
		it.inflight = true
		it.Attempts++
		p.busy++
		p.wg.Add(1)
		go p.attempt(it)
	}
	return wait
}

// attempt posts one SET and records the outcome.
func (p *Pusher) attempt(it *pending) {
	defer p.wg.Done()
	status, code, result := p.post(it)
	switch {
	case status == http.StatusAccepted:
		// The receiver took the revocation now, maybe in a later second
		// than it was queued in (retries).
		p.mu.Lock()
		for _, f := range p.queued {
			f(it.Sub, it.Audience, p.o.Now())
		}
		p.mu.Unlock()
		p.audit(it, audit.Allowed, "", result, "delivered", it.Attempts)
		p.finish(it)
	case status == http.StatusBadRequest:
		p.audit(it, audit.Denied, code, result, "refused by the receiver; not retried (RFC 8935 section 2.3)", it.Attempts)
		p.finish(it)
	case status == -1: // cannot be signed: no retry helps
		p.audit(it, audit.Error, ErrNotSigned, result, "not signed; not retried", it.Attempts)
		p.finish(it)
	case time.Since(it.Created) > p.o.GiveUpAfter:
		p.audit(it, audit.Error, ErrGivenUp, result, fmt.Sprintf("failed for %s; given up", p.o.GiveUpAfter), it.Attempts)
		p.finish(it)
	default:
		backoff := p.o.FirstRetry << min(max(it.Attempts-1, 0), 20)
		if backoff > p.o.MaxBackoff || backoff <= 0 {
			backoff = p.o.MaxBackoff
		}
		what := fmt.Sprintf("failed; retry in %s", backoff)
		switch {
		case p.ctx.Err() == nil:
		case p.journal != nil: // stopping (Close): no retry in this process
			what = "failed; the IdP is stopping: retried at its next start"
		default: // and Close audits it as not delivered
			what = "failed; the IdP is stopping"
		}
		// The SET waits again before its event is visible: a reader who
		// has seen the failure (a test, an operator repeating the
		// revocation) finds a revocation it says merged into it. The event
		// is made under mu, which merges take, as they change the SET.
		p.mu.Lock()
		it.failed = true
		ev := eventOf(it, audit.Error, ErrDeliveryFailed, result, what, it.Attempts)
		p.mu.Unlock()
		if _, err := p.o.Audit.Append(ev); err != nil {
			p.o.Logger.Error("push: audit event not written", "err", err)
		}
		p.mu.Lock()
		it.next, it.inflight, it.failed = time.Now().Add(backoff), false, false
		p.busy--
		if p.journal != nil {
			if err := p.journal.tried(it, p.order); err != nil {
				p.o.Logger.Error("push: journal", "err", err)
			}
		}
		p.mu.Unlock()
	}
	p.signal()
}

// post signs the SET anew (a fresh iat, the same jti) and sends it. It
// returns the HTTP status (-1 when it could not be signed, 0 when no
// answer came), the RFC 8935 error code of a 400, and the result as the
// audit shows it.
func (p *Pusher) post(it *pending) (int, string, string) {
	claims := secevent.New(p.o.Issuer, it.Audience, it.ID, it.Event, it.Sub, time.Unix(it.At, 0), p.o.Now())
	set, err := p.o.Signer.SignSecEvent(claims)
	if err != nil {
		return -1, "", err.Error()
	}
	// Not p.ctx: Close waits for a post in flight rather than cancel it.
	// A receiver may have taken the SET already; cancelled, its answer
	// would be lost and the SET, still journaled, sent again by the next
	// start. AttemptTimeout bounds the wait.
	ctx, cancel := context.WithTimeout(context.Background(), p.o.AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, it.Endpoint, bytes.NewReader([]byte(set)))
	if err != nil {
		return -1, "", urlRedacted(err)
	}
	req.Header.Set("Content-Type", secevent.MediaType)
	req.Header.Set("Accept", "application/json")
	resp, err := p.o.Client.Do(req)
	if err != nil {
		return 0, "", urlRedacted(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	result := strconv.Itoa(resp.StatusCode)
	var e secevent.Error
	if resp.StatusCode == http.StatusBadRequest && json.Unmarshal(body, &e) == nil && e.Code != "" {
		result += " " + e.Code + ": " + cut(e.Description, 200)
	}
	return resp.StatusCode, e.Code, result
}

// urlRedacted is err's text with the URL it quotes masked as the audit
// shows the endpoint (redact.URLAndQuery): Go's client masks a password
// alone, not a token sent as the user (https://TOKEN@host/events) nor a
// key in the query.
func urlRedacted(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = redact.URLAndQuery(ue.URL)
	}
	return err.Error()
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// finish drops a delivered or abandoned SET from the queue and the journal.
func (p *Pusher) finish(it *pending) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.queue, it.ID)
	for i, o := range p.order {
		if o == it {
			p.order = append(p.order[:i], p.order[i+1:]...)
			break
		}
	}
	p.busy--
	if p.journal != nil {
		if err := p.journal.finish(it.ID, p.order); err != nil {
			p.o.Logger.Error("push: journal", "err", err)
		}
	}
}

// audit records one event_push event. The SET itself is never written.
func (p *Pusher) audit(it *pending, outcome, code, result, what string, attempt int) {
	p.record(p.o.Audit.Append, it, outcome, code, result, what, attempt)
}

// expecter is an Auditor that can announce appends on their way (audit.Log's Expect), so that
// its group commit waits for them.
type expecter interface {
	Expect() audit.Expectation
}

// record is audit, appending with appendEvent: the Auditor's Append or an Expectation's.
func (p *Pusher) record(appendEvent func(audit.Event) (audit.Event, error), it *pending, outcome, code, result, what string, attempt int) {
	if _, err := appendEvent(eventOf(it, outcome, code, result, what, attempt)); err != nil {
		p.o.Logger.Error("push: audit event not written", "err", err)
	}
}

// eventOf is the event_push event of an attempt on it (attempt 0: none).
func eventOf(it *pending, outcome, code, result, what string, attempt int) audit.Event {
	details := map[string]any{"endpoint": redact.URLAndQuery(it.Endpoint), "event": it.Event}
	if result != "" {
		details["result"] = result
	}
	if attempt > 0 {
		details["attempt"] = attempt
	}
	ev := audit.Event{
		Type: audit.TypeEventPush, Outcome: outcome, Error: code, User: it.User, Sub: it.Sub,
		Server: it.Server, Audience: it.Audience, JTI: it.ID, Details: details,
		Reason: fmt.Sprintf("%s to %s (%s): %s", eventName(it.Event), it.Server, it.Reason, what),
	}
	return ev
}

func eventName(typ string) string {
	switch typ {
	case secevent.AccountDisabled:
		return "account-disabled"
	case secevent.SessionRevoked:
		return "session-revoked"
	}
	return typ
}

// newJTI returns 128 random bits, base64url.
func newJTI() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
