package push_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/internal/secevent"
	"github.com/xaa-idp/xaa-idp/policy"
	"github.com/xaa-idp/xaa-idp/push"
)

// config is a configuration whose two servers push to receiverURL/crm and
// receiverURL/wiki; bob reaches crm until 18:00, alice both.
const config = `
signing: {id_token_alg: ES256}
users:
  - {username: alice, password: a, sub: 00u-alice}
  - {username: bob, password: b, sub: 00u-bob}
clients:
  - {client_id: c, client_secret: s, token_exchange: true}
mcp_servers:
  - id: crm
    issuer: https://as.crm.example
    events_endpoint: RECEIVER/crm
    clients: {c: c-at-crm}
    access:
      - {users: [alice]}
      - {users: [bob], expires: 2026-12-04T18:00:00Z}
  - id: wiki
    issuer: https://as.wiki.example
    events_endpoint: RECEIVER/wiki
    clients: {c: c-at-wiki}
    access:
      - {users: [alice]}
`

var start = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

// receiver is an RFC 8935 receiver that records every SET and answers
// with the statuses given, then 202.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	statuses []int
	got      []received
	arrived  chan struct{}
}

type received struct {
	path, contentType, body string
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	r := &receiver{statuses: statuses, arrived: make(chan struct{}, 100)}
	ended := make(chan struct{})
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{req.URL.Path, req.Header.Get("Content-Type"), string(body)})
		status := http.StatusAccepted
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(status)
		// Counted for wait; once the test has ended, not: a test that
		// stopped reading arrivals (a pusher retrying every millisecond
		// outran it under -race) left handlers blocked here, and Close,
		// which waits for them, hung until the package's timeout.
		select {
		case r.arrived <- struct{}{}:
		case <-ended:
		}
	}))
	t.Cleanup(func() {
		close(ended)
		r.Close()
	})
	return r
}

func (r *receiver) wait(t *testing.T, n int) []received {
	t.Helper()
	for range n {
		select {
		case <-r.arrived:
		case <-time.After(60 * time.Second):
			t.Fatalf("fewer than %d SETs arrived", n)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

type env struct {
	idp   *idp.Server
	url   string // the IdP's issuer
	clock *idp.Clock
	cfg   *policy.Config
	yaml  string
}

func newEnv(t *testing.T, receiverURL string) *env {
	t.Helper()
	y := strings.ReplaceAll(config, "RECEIVER", receiverURL)
	cfg, err := policy.Parse([]byte(y), "push.yaml")
	if err != nil {
		t.Fatal(err)
	}
	clock := idp.NewClock(nil)
	clock.Freeze()
	clock.Set(start)
	var srv *idp.Server
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { srv.ServeHTTP(w, r) }))
	t.Cleanup(hs.Close)
	srv, err = idp.New(idp.Options{Config: cfg, Issuer: hs.URL, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return &env{idp: srv, url: hs.URL, clock: clock, cfg: cfg, yaml: y}
}

func (e *env) pusher(t *testing.T, edit func(*push.Options)) *push.Pusher {
	t.Helper()
	o := push.Options{Issuer: e.url, Signer: e.idp, Audit: e.idp.Audit(), Config: e.cfg, Now: e.clock.Now, FirstRetry: 10 * time.Millisecond}
	if edit != nil {
		edit(&o)
	}
	p, err := push.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// edited parses the environment's configuration after replacing old with new.
func (e *env) edited(t *testing.T, old, new string) *policy.Config {
	t.Helper()
	if !strings.Contains(e.yaml, old) {
		t.Fatalf("configuration has no %q", old)
	}
	cfg, err := policy.Parse([]byte(strings.Replace(e.yaml, old, new, 1)), "push.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func (e *env) jwks(t *testing.T) secevent.Keys {
	resp, err := http.Get(e.url + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	return func(_ context.Context, iss, kid string) ([]jose.JSONWebKey, error) {
		if iss != e.url {
			return nil, secevent.ErrUntrusted
		}
		return set.Key(kid), nil
	}
}

func pushEvents(e *env) []audit.Event {
	evs := e.idp.Audit().Query(audit.Filter{Type: audit.TypeEventPush})
	slices.Reverse(evs) // oldest first
	return evs
}

// TestPush_SETIsSignedByTheIdPWithExactlyTheseClaims removes alice's
// access to crm and checks the SET the receiver gets, against the IdP's
// JWKS, claim by claim.
func TestPush_SETIsSignedByTheIdPWithExactlyTheseClaims(t *testing.T) {
	r := newReceiver(t)
	e := newEnv(t, r.URL)
	p := e.pusher(t, nil)
	if err := p.ConfigChanged(e.edited(t, "      - {users: [alice]}\n      - {users: [bob]", "      - {users: [bob]")); err != nil {
		t.Fatal(err)
	}
	got := r.wait(t, 1)[0]
	if got.path != "/crm" || got.contentType != "application/secevent+jwt" {
		t.Fatalf("POST %s with Content-Type %q", got.path, got.contentType)
	}
	v, verr := secevent.Verify(context.Background(), got.body, e.jwks(t),
		secevent.Want{Audience: "https://as.crm.example", Now: start, MaxAge: time.Minute, Skew: time.Second})
	if verr != nil {
		t.Fatalf("the SET does not verify against the IdP's JWKS: %v", verr)
	}
	header, _ := base64.RawURLEncoding.DecodeString(strings.Split(got.body, ".")[0])
	var h map[string]any
	_ = json.Unmarshal(header, &h)
	if h["typ"] != "secevent+jwt" || h["alg"] != "ES256" || h["kid"] == "" {
		t.Errorf("header %v", h)
	}
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(got.body, ".")[1])
	var claims map[string]any
	_ = json.Unmarshal(payload, &claims)
	subID := map[string]any{"format": "iss_sub", "iss": e.url, "sub": "00u-alice"}
	want := map[string]any{
		"iss": e.url, "iat": float64(start.Unix()), "jti": v.ID, "aud": "https://as.crm.example", "sub_id": subID,
		"events": map[string]any{secevent.SessionRevoked: map[string]any{"subject": subID, "event_timestamp": float64(start.Unix())}},
	}
	gotJSON, _ := json.Marshal(claims)
	wantJSON, _ := json.Marshal(want)
	if string(gotJSON) != string(wantJSON) || v.ID == "" {
		t.Errorf("claims\n got %s\nwant %s", gotJSON, wantJSON)
	}
	// The attempt is audited once the receiver has answered, which may be
	// a moment after it got the SET.
	var evs []audit.Event
	for deadline := time.Now().Add(60 * time.Second); len(evs) == 0 && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		evs = pushEvents(e)
	}
	if len(evs) != 1 || evs[0].Outcome != audit.Allowed || evs[0].Server != "crm" || evs[0].User != "alice" ||
		evs[0].Details["result"] != "202" || fmt.Sprint(evs[0].Details["attempt"]) != "1" {
		t.Errorf("audit %+v", evs)
	}
	for _, ev := range evs {
		if b, _ := json.Marshal(ev); strings.Contains(string(b), got.body) || strings.Contains(string(b), strings.Split(got.body, ".")[2]) {
			t.Errorf("the SET is in the audit log: %s", b)
		}
	}
}

// TestPush_DisabledUserIsAccountDisabledEverywhereReachable disables alice:
// both servers she could reach get RISC account-disabled.
func TestPush_DisabledUserIsAccountDisabledEverywhereReachable(t *testing.T) {
	r := newReceiver(t)
	e := newEnv(t, r.URL)
	p := e.pusher(t, nil)
	if err := p.ConfigChanged(e.edited(t, "sub: 00u-alice}", "sub: 00u-alice, disabled: true}")); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, got := range r.wait(t, 2) {
		v, verr := secevent.Verify(context.Background(), got.body, e.jwks(t),
			secevent.Want{Audience: "https://as" + strings.ReplaceAll(got.path, "/", ".") + ".example", Now: start, MaxAge: time.Minute})
		if verr != nil || v.Type != secevent.AccountDisabled || v.Subject.Sub != "00u-alice" {
			t.Errorf("%s: %+v %v", got.path, v, verr)
		}
		paths = append(paths, got.path)
	}
	slices.Sort(paths)
	if strings.Join(paths, " ") != "/crm /wiki" {
		t.Errorf("pushed to %v", paths)
	}
}

// TestPush_ExpiryOnTheIdPClock advances the IdP's clock past bob's
// expires: crm gets session-revoked and the expiry is audited once.
func TestPush_ExpiryOnTheIdPClock(t *testing.T) {
	r := newReceiver(t)
	e := newEnv(t, r.URL)
	p := e.pusher(t, func(o *push.Options) { o.CheckEvery = 10 * time.Millisecond })
	e.clock.Advance(6 * time.Hour)
	got := r.wait(t, 1)[0]
	v, verr := secevent.Verify(context.Background(), got.body, e.jwks(t),
		secevent.Want{Audience: "https://as.crm.example", Now: e.clock.Now(), MaxAge: time.Minute})
	if verr != nil || v.Type != secevent.SessionRevoked || v.Subject.Sub != "00u-bob" {
		t.Fatalf("%+v %v", v, verr)
	}
	_ = p.CheckExpiry()
	expired := e.idp.Audit().Query(audit.Filter{Type: audit.TypeAccessRequest, Outcome: audit.Expired})
	if len(expired) != 1 || expired[0].User != "bob" || expired[0].Rule != "crm access[1]" {
		t.Errorf("access_request expired events: %+v", expired)
	}
}

// TestPush_ExpiryIsAuditedOnceAcrossRestarts: an expired entry's
// access_request expired event is in the audit file; a restart (a new
// Pusher on the reopened file) does not write it again.
func TestPush_ExpiryIsAuditedOnceAcrossRestarts(t *testing.T) {
	r := newReceiver(t)
	e := newEnv(t, r.URL)
	e.clock.Advance(6 * time.Hour)
	file := filepath.Join(t.TempDir(), "audit.jsonl")
	for run := 1; run <= 2; run++ {
		log, err := audit.Open(audit.Options{Path: file})
		if err != nil {
			t.Fatal(err)
		}
		p := e.pusher(t, func(o *push.Options) { o.Audit = log })
		_ = p.CheckExpiry()
		p.Close()
		expired := log.Query(audit.Filter{Type: audit.TypeAccessRequest, Outcome: audit.Expired})
		if len(expired) != 1 || expired[0].User != "bob" {
			t.Errorf("run %d: access_request expired events: %+v, want bob's one", run, expired)
		}
		log.Close()
	}
}

// TestPush_ExpiryNamingManyIsAuditedOnceAcrossRestarts: an expired entry
// that names so many users that whom it names is cut in the audit event
// (audit.MaxTextBytes) is not audited again at a restart either.
func TestPush_ExpiryNamingManyIsAuditedOnceAcrossRestarts(t *testing.T) {
	r := newReceiver(t)
	e := newEnv(t, r.URL)
	var users, names []string
	for i := range 40 {
		name := fmt.Sprintf("contractor-with-a-long-username-%02d", i)
		names = append(names, name)
		users = append(users, fmt.Sprintf("  - {username: %s, password: p, sub: 00u-%02d}\n", name, i))
	}
	y := strings.Replace(e.yaml, "clients:\n", strings.Join(users, "")+"clients:\n", 1)
	y = strings.Replace(y, "{users: [bob], expires:", "{users: ["+strings.Join(names, ", ")+"], expires:", 1)
	cfg, err := policy.Parse([]byte(y), "push.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(6 * time.Hour)
	file := filepath.Join(t.TempDir(), "audit.jsonl")
	for run := 1; run <= 2; run++ {
		log, err := audit.Open(audit.Options{Path: file})
		if err != nil {
			t.Fatal(err)
		}
		p := e.pusher(t, func(o *push.Options) { o.Audit, o.Config = log, cfg })
		_ = p.CheckExpiry()
		p.Close()
		expired := log.Query(audit.Filter{Type: audit.TypeAccessRequest, Outcome: audit.Expired})
		if len(expired) != 1 {
			t.Errorf("run %d: %d access_request expired events, want 1", run, len(expired))
		}
		log.Close()
	}
}

// TestPush_RetriesUntilAccepted: the receiver answers 500 twice, then 202;
// the SET is delivered and each of the three attempts audited.
func TestPush_RetriesUntilAccepted(t *testing.T) {
	r := newReceiver(t, 500, 500)
	e := newEnv(t, r.URL)
	p := e.pusher(t, nil)
	_ = p.SessionEnded("00u-bob")
	r.wait(t, 3)
	waitIdle(p)
	var got []string
	for _, ev := range pushEvents(e) {
		got = append(got, ev.Outcome+" "+ev.Details["result"].(string))
	}
	if strings.Join(got, ", ") != "error 500, error 500, allowed 202" || p.Pending() != 0 {
		t.Errorf("attempts %v, pending %d", got, p.Pending())
	}
}

// TestPush_PendingSETSurvivesARestart: a SET queued while the receiver is
// down is delivered by the next Pusher on the same state directory.
func TestPush_PendingSETSurvivesARestart(t *testing.T) {
	r := newReceiver(t, 503)
	e := newEnv(t, r.URL)
	dir := t.TempDir()
	first := e.pusher(t, func(o *push.Options) { o.Dir, o.FirstRetry = dir, time.Hour })
	_ = first.SessionEnded("00u-bob")
	r.wait(t, 1)
	first.Close()

	second := e.pusher(t, func(o *push.Options) { o.Dir = dir })
	got := r.wait(t, 1)
	if len(got) != 2 || got[1].path != "/crm" {
		t.Fatalf("received %+v", got)
	}
	waitIdle(second)
	if second.Pending() != 0 {
		t.Errorf("%d still pending", second.Pending())
	}
}

// TestPush_FullQueueRefusesWithoutBlocking: with room for one SET and a
// receiver that never answers, a second revocation is refused at once.
func TestPush_FullQueueRefusesWithoutBlocking(t *testing.T) {
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	defer slow.Close()
	defer close(hang)
	e := newEnv(t, slow.URL)
	p := e.pusher(t, func(o *push.Options) { o.MaxPending = 1; o.AttemptTimeout = 200 * time.Millisecond })
	cfg := e.edited(t, "sub: 00u-alice}", "sub: 00u-alice, disabled: true}")
	// The room never comes while the receiver hangs: a ConfigChanged that
	// waited for it would not return before the test ends. The 30 s only
	// says so rather than hang; a refusal at once takes milliseconds.
	refused := make(chan error, 1)
	go func() { refused <- p.ConfigChanged(cfg) }()
	var err error
	select {
	case err = <-refused:
	case <-time.After(30 * time.Second):
		t.Fatal("ConfigChanged waits for room in a full queue")
	}
	if !errors.Is(err, push.ErrFull) || p.Pending() != 1 {
		t.Fatalf("err %v, %d pending; want ErrFull with 1 pending", err, p.Pending())
	}
	// The refused SET is audited with an error code, as every other
	// error's (not_written, invalid_config): it was "not queued", with a
	// space, in no document.
	refusedEvents := 0
	for _, ev := range pushEvents(e) {
		if ev.Outcome == audit.Error && strings.Contains(ev.Reason, "not queued") {
			refusedEvents++
			if ev.Error != "not_queued" {
				t.Errorf("the refused SET's event has error %q, want not_queued", ev.Error)
			}
		}
	}
	if refusedEvents != 1 {
		t.Errorf("%d events of a refused SET, want 1", refusedEvents)
	}
}

// TestPush_RedirectIsNotFollowed: a receiver that answers 307 to another
// URL has not accepted the SET (docs/configuration.md: only 202 is
// delivered, anything else is retried). Following the redirect would post
// the SET wherever the receiver points, internal addresses included, and
// count the other host's 202 as delivery.
func TestPush_RedirectIsNotFollowed(t *testing.T) {
	elsewhere := newReceiver(t)
	redirects := 0
	var mu sync.Mutex
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		redirects++
		mu.Unlock()
		http.Redirect(w, r, elsewhere.URL+"/internal", http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()
	e := newEnv(t, redirector.URL)
	p := e.pusher(t, func(o *push.Options) { o.FirstRetry, o.MaxBackoff = time.Hour, time.Hour })
	_ = p.SessionEnded("00u-bob")
	var evs []audit.Event
	for deadline := time.Now().Add(60 * time.Second); len(evs) == 0 && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		evs = pushEvents(e)
	}
	elsewhere.mu.Lock()
	reached := len(elsewhere.got)
	elsewhere.mu.Unlock()
	if reached != 0 {
		t.Errorf("the redirect target received %d SETs", reached)
	}
	if len(evs) != 1 || evs[0].Outcome != audit.Error || evs[0].Details["result"] != "307" || p.Pending() != 1 {
		t.Errorf("audit %+v, %d pending; want one failed attempt with result 307, the SET still pending", evs, p.Pending())
	}
}

// TestPush_RepeatedRevocationsMergeWhileTheReceiverIsDown: a user who logs in and out in a loop
// while a receiver is down leaves one SET waiting for it, not one per logout, which would fill the
// queue and refuse every later revocation to every receiver; the journal does not grow with the
// repetitions either. The SET keeps its jti and takes the newest event time, which a restart
// delivers.
func TestPush_RepeatedRevocationsMergeWhileTheReceiverIsDown(t *testing.T) {
	r := newReceiver(t, http.StatusServiceUnavailable) // then 202
	e := newEnv(t, r.URL)
	dir := t.TempDir()
	first := e.pusher(t, func(o *push.Options) { o.Dir, o.FirstRetry, o.MaxPending = dir, time.Hour, 5 })
	if err := first.SessionEnded("00u-bob"); err != nil {
		t.Fatal(err)
	}
	r.wait(t, 1)
	for deadline := time.Now().Add(60 * time.Second); len(pushEvents(e)) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the failed attempt was not audited")
		}
	}
	// The attempt failed: the SET waits an hour for its retry.
	const n = 300 // 60 times the queue's room
	for i := 1; i <= n; i++ {
		e.clock.Set(start.Add(time.Duration(i) * time.Second))
		if err := first.SessionEnded("00u-bob"); err != nil {
			t.Fatalf("logout %d: %v", i, err)
		}
	}
	if got := first.Pending(); got != 1 {
		t.Errorf("%d SETs pending after %d repeated revocations, want 1", got, n)
	}
	data, err := os.ReadFile(filepath.Join(dir, push.JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(data), "\n"); lines > 102 {
		t.Errorf("the journal has %d lines after %d merges into one SET", lines, n)
	}
	first.Close()

	second := e.pusher(t, func(o *push.Options) { o.Dir = dir })
	got := r.wait(t, 1)
	if len(got) != 2 {
		t.Fatalf("received %d SETs, want the failed one and its retry", len(got))
	}
	claims := func(raw string) (jti string, at float64) {
		payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[1])
		var c struct {
			JTI    string `json:"jti"`
			Events map[string]struct {
				At float64 `json:"event_timestamp"`
			} `json:"events"`
		}
		if err := json.Unmarshal(payload, &c); err != nil {
			t.Fatal(err)
		}
		return c.JTI, c.Events[secevent.SessionRevoked].At
	}
	jti0, at0 := claims(got[0].body)
	jti1, at1 := claims(got[1].body)
	if jti1 != jti0 || at0 != float64(start.Unix()) || at1 != float64(start.Add(n*time.Second).Unix()) {
		t.Errorf("first SET jti %s at %v, retry jti %s at %v; want the same jti, the retry at the last logout (%v)",
			jti0, at0, jti1, at1, start.Add(n*time.Second).Unix())
	}
	waitIdle(second)
	if second.Pending() != 0 {
		t.Errorf("%d still pending", second.Pending())
	}
}

// TestPush_CorruptJournalLineIsAnErrorNotDropped: a crash can leave only
// a torn last line (every line is written whole, then fsynced), which is
// ignored. A bad complete line is corruption: dropping it, as a rewrite
// would, could drop a revocation never delivered, so New refuses with the
// file and line and leaves the file as it is, for a person to fix.
func TestPush_CorruptJournalLineIsAnErrorNotDropped(t *testing.T) {
	r := newReceiver(t, 503)
	e := newEnv(t, r.URL)
	dir := t.TempDir()
	first := e.pusher(t, func(o *push.Options) { o.Dir, o.FirstRetry = dir, time.Hour })
	_ = first.SessionEnded("00u-bob")
	r.wait(t, 1)
	first.Close()
	path := filepath.Join(dir, push.JournalFile)
	good, err := os.ReadFile(path)
	// The SET, and again with its failed attempt counted.
	if err != nil || strings.Count(string(good), "\n") != 2 {
		t.Fatalf("journal %q (%v), want one pending SET, written twice", good, err)
	}

	for _, bad := range []string{"garbage", `{"add": 5}`, `{"add": {"jti": ""}}`, "{}", strings.Repeat("x", 2<<20)} {
		corrupt := bad + "\n" + string(good)
		if err := os.WriteFile(path, []byte(corrupt), 0o600); err != nil {
			t.Fatal(err)
		}
		o := push.Options{Issuer: e.url, Signer: e.idp, Audit: e.idp.Audit(), Config: e.cfg, Now: e.clock.Now, Dir: dir}
		p, err := push.New(o)
		if err == nil {
			p.Close()
		}
		if err == nil || !strings.Contains(err.Error(), path+":1:") {
			t.Errorf("New with the journal line %.20q: %v, want an error naming %s:1", bad, err, path)
		}
		if data, _ := os.ReadFile(path); string(data) != corrupt {
			t.Errorf("New with the journal line %.20q rewrote the journal: %.100q", bad, data)
		}
	}

	// A torn last line is what a crash leaves: ignored, said in the log,
	// and the SET before it is delivered.
	if err := os.WriteFile(path, append(good, `{"add":{"jti":"x`...), 0o600); err != nil {
		t.Fatal(err)
	}
	var logged lockedBuffer
	second := e.pusher(t, func(o *push.Options) { o.Dir, o.Logger = dir, slog.New(slog.NewTextHandler(&logged, nil)) })
	if s := logged.String(); !strings.Contains(s, "torn") || !strings.Contains(s, path) {
		t.Errorf("the torn line was dropped without a word; logged:\n%s", s)
	}
	if got := r.wait(t, 1); len(got) != 2 {
		t.Fatalf("received %d SETs after the restart, want the pending one again", len(got))
	}
	// It retries the refused SET, writing the journal: it must be done
	// with it before the journal is replaced below.
	second.Close()

	// Zeros where the last line was to go are what a power loss leaves
	// when the new size reached the disk before the data: torn too.
	if err := os.WriteFile(path, append(good, make([]byte, 24)...), 0o600); err != nil {
		t.Fatal(err)
	}
	logged = lockedBuffer{}
	e.pusher(t, func(o *push.Options) { o.Dir, o.Logger = dir, slog.New(slog.NewTextHandler(&logged, nil)) })
	if s := logged.String(); !strings.Contains(s, "torn") {
		t.Errorf("a zero-filled tail was not taken for a torn line; logged:\n%s", s)
	}
}

// lockedBuffer collects a Logger's output, which the Pusher's goroutines
// may write while a test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// down is a client for a receiver that is down: every attempt fails, and
// with an hour before the retry the SETs stay pending, to be counted.
func down(o *push.Options) {
	o.Client = &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
		return nil, errors.New("connection refused")
	})}
	o.FirstRetry = time.Hour
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestPush_RevocationMissedByACrashIsSentAtTheNextStart: the configuration
// loses alice's entry for wiki while no Pusher compares it, as when the
// process dies after the new file was renamed into place and before
// ConfigChanged queued the SET, or when the file is edited while the IdP
// is stopped. The next start finds the revocation against the standing
// the last run saved, and it is delivered exactly once: a crash between
// its journal line and the new standing finds it again but merges it into
// the pending SET, and later restarts queue nothing.
func TestPush_RevocationMissedByACrashIsSentAtTheNextStart(t *testing.T) {
	r := newReceiver(t)
	e := newEnv(t, r.URL)
	dir := t.TempDir()
	standing := filepath.Join(dir, push.StandingFile)
	e.pusher(t, func(o *push.Options) { o.Dir = dir }).Close()
	before, err := os.ReadFile(standing)
	if err != nil {
		t.Fatalf("the first start saved no standing: %v", err)
	}

	lost := e.edited(t, "    clients: {c: c-at-wiki}\n    access:\n      - {users: [alice]}\n", "    clients: {c: c-at-wiki}\n    access: []\n")
	restart := func(edit func(*push.Options)) *push.Pusher {
		return e.pusher(t, func(o *push.Options) { o.Dir, o.Config = dir, lost; edit(o) })
	}
	p := restart(down)
	if n := p.Pending(); n != 1 {
		t.Fatalf("%d SETs queued at the start after alice lost wiki, want 1", n)
	}
	p.Close()
	// As a crash between the journal line and the standing leaves it.
	if err := os.WriteFile(standing, before, 0o600); err != nil {
		t.Fatal(err)
	}
	p = restart(down)
	if n := p.Pending(); n != 1 {
		t.Fatalf("%d SETs pending after the revocation was found again, want 1 (merged)", n)
	}
	p.Close()

	p = restart(func(*push.Options) {})
	got := r.wait(t, 1)[0]
	v, verr := secevent.Verify(context.Background(), got.body, e.jwks(t),
		secevent.Want{Audience: "https://as.wiki.example", Now: start, MaxAge: time.Minute})
	if got.path != "/wiki" || verr != nil || v.Type != secevent.SessionRevoked || v.Subject.Sub != "00u-alice" {
		t.Fatalf("POST %s: %+v %v", got.path, v, verr)
	}
	waitIdle(p)
	p.Close()

	for run := range 2 {
		p = restart(down)
		if n := p.Pending(); n != 0 {
			t.Errorf("restart %d with nothing changed: %d SETs queued", run, n)
		}
		p.Close()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.got) != 1 {
		t.Errorf("the receiver got %d SETs, want 1", len(r.got))
	}
}

// TestPush_NormalRestartQueuesNothing: a restart on the configuration the
// last run acted on, changes delivered included, queues no SET.
func TestPush_NormalRestartQueuesNothing(t *testing.T) {
	r := newReceiver(t)
	e := newEnv(t, r.URL)
	dir := t.TempDir()
	e.pusher(t, func(o *push.Options) { o.Dir = dir }).Close()
	p := e.pusher(t, func(o *push.Options) { o.Dir = dir; down(o) })
	if n := p.Pending(); n != 0 {
		t.Fatalf("restart with nothing changed: %d SETs queued", n)
	}
	p.Close()

	edited := e.edited(t, "sub: 00u-bob}", "sub: 00u-bob, disabled: true}")
	p = e.pusher(t, func(o *push.Options) { o.Dir = dir })
	if err := p.ConfigChanged(edited); err != nil {
		t.Fatal(err)
	}
	r.wait(t, 1)
	waitIdle(p)
	p.Close()
	p = e.pusher(t, func(o *push.Options) { o.Dir, o.Config = dir, edited; down(o) })
	if n := p.Pending(); n != 0 {
		t.Errorf("restart on the configuration whose change was pushed: %d SETs queued", n)
	}
}

// TestPush_ChangesWhileStoppedAreSentAtStart: each way of losing access,
// made while the IdP is stopped, gets its SET at the next start: a user
// disabled (account-disabled to every server the user reached), a user
// removed (the SET names the sub the server knew) and a server removed
// (sent to the endpoint it had).
func TestPush_ChangesWhileStoppedAreSentAtStart(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edits []string // old, new, ...
		want  []string // path event sub, sorted
	}{
		{"disabled", []string{"sub: 00u-alice}", "sub: 00u-alice, disabled: true}"},
			[]string{"/crm account-disabled 00u-alice", "/wiki account-disabled 00u-alice"}},
		{"user removed", []string{"  - {username: bob, password: b, sub: 00u-bob}\n", "", "      - {users: [bob], expires: 2026-12-04T18:00:00Z}\n", ""},
			[]string{"/crm session-revoked 00u-bob"}},
		{"sub changed", []string{"sub: 00u-bob}", "sub: 00u-bob-2}"},
			[]string{"/crm session-revoked 00u-bob"}},
		{"server removed", []string{"  - id: wiki\n    issuer: https://as.wiki.example\n    events_endpoint: RECEIVER/wiki\n    clients: {c: c-at-wiki}\n    access:\n      - {users: [alice]}\n", ""},
			[]string{"/wiki session-revoked 00u-alice"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newReceiver(t)
			e := newEnv(t, r.URL)
			dir := t.TempDir()
			e.pusher(t, func(o *push.Options) { o.Dir = dir }).Close()
			y := e.yaml
			for i := 0; i < len(tc.edits); i += 2 {
				old := strings.ReplaceAll(tc.edits[i], "RECEIVER", r.URL)
				if !strings.Contains(y, old) {
					t.Fatalf("configuration has no %q", old)
				}
				y = strings.Replace(y, old, tc.edits[i+1], 1)
			}
			cfg, err := policy.Parse([]byte(y), "push.yaml")
			if err != nil {
				t.Fatal(err)
			}
			e.pusher(t, func(o *push.Options) { o.Dir, o.Config = dir, cfg })
			var got []string
			for _, s := range r.wait(t, len(tc.want)) {
				v, verr := secevent.Verify(context.Background(), s.body, e.jwks(t),
					secevent.Want{Audience: "https://as" + strings.ReplaceAll(s.path, "/", ".") + ".example", Now: start, MaxAge: time.Minute})
				if verr != nil {
					t.Fatalf("%s: %v", s.path, verr)
				}
				event := map[string]string{secevent.AccountDisabled: "account-disabled", secevent.SessionRevoked: "session-revoked"}[v.Type]
				got = append(got, s.path+" "+event+" "+v.Subject.Sub)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestPush_ExpiryAcrossARestart: bob's entry expiring while the IdP is
// stopped is sent at the next start; one that expired, and was pushed,
// while it ran is not sent again by a restart.
func TestPush_ExpiryAcrossARestart(t *testing.T) {
	r := newReceiver(t)
	e := newEnv(t, r.URL)
	dir := t.TempDir()
	e.pusher(t, func(o *push.Options) { o.Dir = dir }).Close()
	e.clock.Advance(6 * time.Hour)
	p := e.pusher(t, func(o *push.Options) { o.Dir = dir })
	got := r.wait(t, 1)[0]
	v, verr := secevent.Verify(context.Background(), got.body, e.jwks(t),
		secevent.Want{Audience: "https://as.crm.example", Now: e.clock.Now(), MaxAge: time.Minute})
	if verr != nil || v.Type != secevent.SessionRevoked || v.Subject.Sub != "00u-bob" {
		t.Fatalf("%+v %v", v, verr)
	}
	waitIdle(p)
	p.Close()

	// Expired while running: the standing saved after the push lacks bob.
	e.clock.Set(start)
	e.pusher(t, func(o *push.Options) { o.Dir = dir }).Close() // bob again, as the clock says
	p = e.pusher(t, func(o *push.Options) { o.Dir = dir; o.CheckEvery = 10 * time.Millisecond })
	e.clock.Advance(6 * time.Hour)
	r.wait(t, 1)
	waitIdle(p)
	p.Close()
	p = e.pusher(t, func(o *push.Options) { o.Dir = dir; down(o) })
	if n := p.Pending(); n != 0 {
		t.Errorf("restart after an expiry that was pushed: %d SETs queued", n)
	}
}

// TestPush_StandingNotWrittenByThisProgramIsRefused: push-standing.json
// that is not the file this program writes (another program's JSON, as a
// symbolic link to it leaves, or one naming a user without its sub) stops
// the start with a message naming it, and is left as it was: taking any
// JSON object for an empty standing replaced the file, through the link,
// outside the state directory.
func TestPush_StandingNotWrittenByThisProgramIsRefused(t *testing.T) {
	r := newReceiver(t)
	e := newEnv(t, r.URL)
	for name, content := range map[string]string{
		"another program's": `{"name":"pkg","version":"1.0.0"}` + "\n",
		"null":              "null\n",
		"no servers":        `{"subs":{}}` + "\n",
		"user without sub":  `{"servers":[{"id":"s","issuer":"http://x","endpoint":"http://x/e","users":["bob"]}],"subs":{}}` + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			wantStartRefusedOnALink(t, e, push.StandingFile, "package.json", content, "fix or remove it")
		})
	}
}

// TestPush_JournalTailNoCrashLeavesIsRefused: a last line without its
// newline that does not begin a journal line ('{') is not a write a crash
// cut short; the start refuses, naming the file, and leaves it. Dropping
// it as torn rewrote the journal, through a symbolic link, emptying
// another file outside the state directory.
func TestPush_JournalTailNoCrashLeavesIsRefused(t *testing.T) {
	r := newReceiver(t)
	e := newEnv(t, r.URL)
	wantStartRefusedOnALink(t, e, push.JournalFile, "notes.txt", "precious notes, no newline", "fix or remove")
}

// wantStartRefusedOnALink puts the state file name in a fresh state
// directory as a symbolic link to a file outside it holding content, and
// wants New to refuse to start, naming the file and saying what to do
// (want), and to leave the linked file as it was.
func wantStartRefusedOnALink(t *testing.T, e *env, name, outsideName, content, want string) {
	t.Helper()
	dir, outside := t.TempDir(), filepath.Join(t.TempDir(), outsideName)
	if err := os.WriteFile(outside, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, name)
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}
	o := push.Options{Issuer: e.url, Signer: e.idp, Audit: e.idp.Audit(), Config: e.cfg, Now: e.clock.Now, Dir: dir}
	down(&o)
	p, err := push.New(o)
	if err == nil {
		p.Close()
		t.Fatalf("started on a %s this program did not write", name)
	}
	if !strings.Contains(err.Error(), link) || !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name %s and what to do", err, link)
	}
	if got, _ := os.ReadFile(outside); string(got) != content {
		t.Errorf("the file the link points to was changed to %q", got)
	}
}

// TestPush_CloseLetsAnAttemptInFlightFinish: Close waits for a post in
// flight instead of cancelling it. A receiver that has taken the SET but
// not yet answered would otherwise have it, while the journal keeps it as
// undelivered: the next start would send it again.
func TestPush_CloseLetsAnAttemptInFlightFinish(t *testing.T) {
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	var accepted atomic.Int32
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		io.Copy(io.Discard, req.Body)
		arrived <- struct{}{}
		<-release
		accepted.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer recv.Close()
	e := newEnv(t, recv.URL)
	dir := t.TempDir()
	p := e.pusher(t, func(o *push.Options) { o.Dir = dir })
	_ = p.SessionEnded("00u-bob")
	select {
	case <-arrived:
	case <-time.After(60 * time.Second):
		t.Fatal("no SET arrived")
	}
	closed := make(chan struct{})
	go func() { p.Close(); close(closed) }()
	time.Sleep(50 * time.Millisecond) // Close has begun; with a cancelled post the answer below comes too late
	close(release)
	<-closed
	if accepted.Load() != 1 {
		t.Errorf("Close returned before the receiver's answer (%d accepted)", accepted.Load())
	}
	journal, err := os.ReadFile(filepath.Join(dir, push.JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(journal)) != "" {
		t.Errorf("the SET the receiver accepted is still pending after Close:\n%s", journal)
	}
}

// TestPush_RefusedSETsAreFoundAgainAtTheNextStart: a SET refused because the
// queue was full is not forgotten when a later change saves the standing:
// the standing stays at the last configuration whose SETs were all queued,
// so the next start finds the refused revocation again and queues it.
func TestPush_RefusedSETsAreFoundAgainAtTheNextStart(t *testing.T) {
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	defer slow.Close()
	defer close(hang)
	e := newEnv(t, slow.URL)
	dir := t.TempDir()
	first := e.pusher(t, func(o *push.Options) {
		o.Dir, o.MaxPending, o.AttemptTimeout, o.FirstRetry = dir, 1, 100*time.Millisecond, time.Hour
	})
	disabled := e.edited(t, "sub: 00u-alice}", "sub: 00u-alice, disabled: true}")
	if err := first.ConfigChanged(disabled); !errors.Is(err, push.ErrFull) {
		t.Fatalf("alice disabled, room for one of her two SETs: %v, want ErrFull", err)
	}
	// A later change that takes nothing away.
	if err := first.ConfigChanged(disabled); err != nil {
		t.Fatal(err)
	}
	first.Close()

	second := e.pusher(t, func(o *push.Options) {
		o.Dir, o.Config, o.AttemptTimeout, o.FirstRetry = dir, disabled, 100*time.Millisecond, time.Hour
	})
	if got := second.Pending(); got != 2 {
		t.Errorf("%d SETs pending after the restart, want alice's two: the journaled one and the refused one", got)
	}
}

// TestPusher_AccessExpiredAlreadyAuditedIsFree: an idp.Server calls
// AccessExpired in every token exchange whose decision finds an expired
// entry, and an expired entry may stay in the file for weeks: each call
// rebuilt every expired entry's names, times and key under the Pusher's
// lock (allocations and work for each entry, on every such exchange) to
// find them all audited already. With nothing new expired since the last
// look at the same configuration, it does no work.
func TestPusher_AccessExpiredAlreadyAuditedIsFree(t *testing.T) {
	e := newEnv(t, "http://127.0.0.1:1")
	after := start.Add(7 * time.Hour) // bob's crm entry expired at 18:00
	e.clock.Set(after)                // the Pusher's own looks too
	// No look of its own while allocations are counted.
	p := e.pusher(t, func(o *push.Options) { o.CheckEvery = time.Hour })
	p.AccessExpired(e.cfg, after)
	evs := e.idp.Audit().Query(audit.Filter{Type: audit.TypeAccessRequest, Outcome: audit.Expired})
	if len(evs) != 1 {
		t.Fatalf("access_request expired events: %d, want 1", len(evs))
	}
	allocs := testing.AllocsPerRun(100, func() { p.AccessExpired(e.cfg, after) })
	if allocs > 0 {
		t.Errorf("AccessExpired with its one expired entry audited already: %.0f allocations a call, want none", allocs)
	}
	if evs := e.idp.Audit().Query(audit.Filter{Type: audit.TypeAccessRequest, Outcome: audit.Expired}); len(evs) != 1 {
		t.Errorf("access_request expired events after more calls: %d, want 1", len(evs))
	}
}

// TestPush_ReceiverPasswordStaysOutOfTheAuditLog: an events_endpoint may
// carry the receiver's credentials (https://user:password@host/events;
// the post sends them as Basic). Every attempt's event_push names the
// endpoint with the password masked, as a secret is nowhere in the audit
// log.
func TestPush_ReceiverPasswordStaysOutOfTheAuditLog(t *testing.T) {
	r := newReceiver(t, 500)
	withAuth := strings.Replace(r.URL, "http://", "http://rcv:s3cret-pw@", 1)
	e := newEnv(t, withAuth)
	p := e.pusher(t, nil)
	_ = p.SessionEnded("00u-bob")
	r.wait(t, 2)
	waitIdle(p)
	evs := pushEvents(e)
	if len(evs) != 2 {
		t.Fatalf("%d event_push events, want 2", len(evs))
	}
	for _, ev := range evs {
		b, _ := json.Marshal(ev)
		if strings.Contains(string(b), "s3cret-pw") {
			t.Errorf("the receiver's password is in the audit log: %s", b)
		}
		if ep, _ := ev.Details["endpoint"].(string); !strings.HasPrefix(ep, "http://rcv:xxxxx@") {
			t.Errorf("endpoint %q, want the user with the password masked", ep)
		}
	}
}

// TestPush_FirstRetryOfAReceiverThatDoesNotAnswerWithin5s: docs/configuration.md
// ("Revocation push") promises the first retry within 5 s. A receiver that takes
// the SET and never answers is given up on and tried again, with the
// default timeout and back-off, less than 5 s after the first attempt
// reached it.
func TestPush_FirstRetryOfAReceiverThatDoesNotAnswerWithin5s(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan time.Time, 10)
	var n atomic.Int32
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		arrived <- time.Now()
		if n.Add(1) == 1 {
			select {
			case <-release:
			case <-time.After(30 * time.Second):
			}
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(rcv.Close)
	t.Cleanup(func() { close(release) })
	e := newEnv(t, rcv.URL)
	p := e.pusher(t, func(o *push.Options) { o.FirstRetry = push.DefaultFirstRetry })
	_ = p.SessionEnded("00u-bob")
	var first time.Time
	select {
	case first = <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("no first attempt")
	}
	select {
	case second := <-arrived:
		if gap := second.Sub(first); gap > 5*time.Second {
			t.Errorf("first retry %v after the first attempt, want within 5s", gap)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no retry within 15s")
	}
}

// waitIdle waits, a minute at most, until p has nothing pending: each
// push delivered or given up on, and audited.
func waitIdle(p *push.Pusher) {
	for deadline := time.Now().Add(60 * time.Second); p.Pending() > 0 && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
	}
}

// TestPush_ReceiverTokenStaysOutOfTheAuditLogWhenUnreachable: an
// events_endpoint may carry a token as its user alone
// (https://TOKEN@host/events), masked like a password wherever the
// endpoint is shown. A receiver that could not be reached made the
// attempt's result Go's transport error, which quotes the URL with only
// a password masked: the token was in the audit log.
func TestPush_ReceiverTokenStaysOutOfTheAuditLogWhenUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close() // nothing answers there
	e := newEnv(t, "http://t0ken-s3cret@"+closed+"/events")
	p := e.pusher(t, nil)
	_ = p.SessionEnded("00u-bob")
	var evs []audit.Event
	for deadline := time.Now().Add(60 * time.Second); len(evs) == 0 && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		evs = pushEvents(e)
	}
	if len(evs) == 0 {
		t.Fatal("no event_push event")
	}
	for _, ev := range evs {
		b, _ := json.Marshal(ev)
		if strings.Contains(string(b), "t0ken-s3cret") {
			t.Errorf("the receiver's token is in the audit log: %s", b)
		}
		if res, _ := ev.Details["result"].(string); res == "" {
			t.Errorf("event_push without its result: %s", b)
		}
	}
}

// TestPush_ReceiverKeyInTheQueryStaysOutOfTheAuditLog: an events_endpoint
// may carry the receiver's key in its query
// (https://rx.example/events?key=SECRET), which only a password in its
// userinfo was masked of: every event_push named it whole, and so did the
// result of an attempt that reached nobody. Query values are masked now,
// their names kept.
func TestPush_ReceiverKeyInTheQueryStaysOutOfTheAuditLog(t *testing.T) {
	r := newReceiver(t, 500)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()                                                                                                                    // nothing answers there
	for _, endpoint := range []string{r.URL + "/events?key=k3y-s3cret&to=", "http://" + closed + "/events?key=k3y-s3cret&to="} { // the test's env adds /<server id>
		e := newEnv(t, endpoint)
		p := e.pusher(t, nil)
		_ = p.SessionEnded("00u-bob")
		var evs []audit.Event
		for deadline := time.Now().Add(60 * time.Second); len(evs) == 0 && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			evs = pushEvents(e)
		}
		if len(evs) == 0 {
			t.Fatalf("%s: no event_push event", endpoint)
		}
		for _, ev := range evs {
			b, _ := json.Marshal(ev)
			if strings.Contains(string(b), "k3y-s3cret") {
				t.Errorf("the receiver's key is in the audit log: %s", b)
			}
			if ep, _ := ev.Details["endpoint"].(string); !strings.Contains(ep, "?key=xxxxx") {
				t.Errorf("endpoint %q, want the key's name with its value masked", ep)
			}
		}
		p.Close()
	}
}

// TestPush_AttemptsAreKeptWithoutGrowingTheJournal: each failed attempt
// writes the SET's attempt count to the journal, so that a restart counts
// on (docs/configuration.md, "Revocation push"); a receiver down for
// hundreds of attempts does not make the journal grow without bound, and
// the next start reads the count back.
func TestPush_AttemptsAreKeptWithoutGrowingTheJournal(t *testing.T) {
	r := newReceiver(t, slices.Repeat([]int{503}, 1000)...)
	e := newEnv(t, r.URL)
	dir := t.TempDir()
	lastAttempt := func() int {
		evs := pushEvents(e)
		if len(evs) == 0 {
			return 0
		}
		n, _ := strconv.Atoi(fmt.Sprint(evs[len(evs)-1].Details["attempt"]))
		return n
	}
	first := e.pusher(t, func(o *push.Options) { o.Dir, o.FirstRetry, o.MaxBackoff = dir, time.Millisecond, time.Millisecond })
	_ = first.SessionEnded("00u-bob")
	path := filepath.Join(dir, push.JournalFile)
	longest := 0
	for lastAttempt() < 300 {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		longest = max(longest, strings.Count(string(data), "\n"))
		select {
		case <-r.arrived:
		case <-time.After(60 * time.Second):
			t.Fatal("no attempt within 60 s")
		}
	}
	first.Close()
	if longest > 200 {
		t.Errorf("the journal of one pending SET grew to %d lines over 300 failed attempts", longest)
	}
	last := lastAttempt()

	e.pusher(t, func(o *push.Options) { o.Dir, o.FirstRetry = dir, time.Hour })
	for deadline := time.Now().Add(60 * time.Second); lastAttempt() == last; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no attempt within 60 s of the restart")
		}
	}
	if got := lastAttempt(); got != last+1 {
		t.Errorf("the first attempt after the restart is attempt %d, want %d", got, last+1)
	}
}

// TestPush_JournalOfAnEarlierVersionLoads: a journal written before the
// attempt count was kept (no "attempts") is read as SETs with no attempt
// yet, and delivered; a negative count, which this program never writes,
// is refused as any such line is.
func TestPush_JournalOfAnEarlierVersionLoads(t *testing.T) {
	r := newReceiver(t)
	e := newEnv(t, r.URL)
	dir := t.TempDir()
	path := filepath.Join(dir, push.JournalFile)
	old := `{"add":{"jti":"old-1","server":"crm","endpoint":"` + r.URL + `/crm","aud":"https://as.crm.example","user":"bob","sub":"00u-bob","event":"` + secevent.SessionRevoked + `","event_timestamp":1764849600,"reason":"signed out","created":"2026-12-04T12:00:00Z"}}` + "\n"
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	p := e.pusher(t, func(o *push.Options) { o.Dir = dir })
	r.wait(t, 1)
	waitIdle(p)
	evs := pushEvents(e)
	if len(evs) != 1 || evs[0].Outcome != audit.Allowed || evs[0].JTI != "old-1" || fmt.Sprint(evs[0].Details["attempt"]) != "1" {
		t.Errorf("the SET of the earlier journal: %+v, want old-1 delivered at attempt 1", evs)
	}
	p.Close()

	bad := strings.Replace(old, `"created"`, `"attempts":-1,"created"`, 1)
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	q, err := push.New(push.Options{Issuer: e.url, Signer: e.idp, Audit: e.idp.Audit(), Config: e.cfg, Now: e.clock.Now, Dir: dir})
	if err == nil {
		q.Close()
	}
	if err == nil || !strings.Contains(err.Error(), path+":1:") {
		t.Errorf("New with a negative attempt count: %v, want an error naming %s:1", err, path)
	}
}

// heldAuditor is an Auditor that holds the first failed delivery's event
// until released, once it has said on held that it has it.
type heldAuditor struct {
	push.Auditor
	once     sync.Once
	held     chan struct{}
	released chan struct{}
}

func (a *heldAuditor) Append(ev audit.Event) (audit.Event, error) {
	if ev.Type == audit.TypeEventPush && ev.Error == push.ErrDeliveryFailed {
		a.once.Do(func() {
			close(a.held)
			<-a.released
		})
	}
	return a.Auditor.Append(ev)
}

// TestPush_RevocationRepeatedWhileTheFailureIsRecordedMerges: a failed
// attempt's SET waits again from before its event_push event is written:
// a revocation that says the same, made while that event is being
// written, merges into it. TestPush_RepeatedRevocationsMergeWhileTheReceiverIsDown
// repeats the revocation only once the event is in the log, when the
// merge happens whether or not the SET was waiting again before it; this
// holds the event's write, so that the repeat comes in between.
func TestPush_RevocationRepeatedWhileTheFailureIsRecordedMerges(t *testing.T) {
	r := newReceiver(t, http.StatusServiceUnavailable)
	e := newEnv(t, r.URL)
	a := &heldAuditor{Auditor: e.idp.Audit(), held: make(chan struct{}), released: make(chan struct{})}
	p := e.pusher(t, func(o *push.Options) { o.Audit, o.FirstRetry = a, time.Hour })
	if err := p.SessionEnded("00u-bob"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.held:
	case <-time.After(60 * time.Second):
		t.Fatal("the failed attempt was not audited within 60 s")
	}
	e.clock.Set(start.Add(time.Second))
	err := p.SessionEnded("00u-bob")
	close(a.released)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Pending(); got != 1 {
		t.Errorf("%d SETs pending after a revocation repeated while the failure was recorded, want 1 (merged)", got)
	}
}
