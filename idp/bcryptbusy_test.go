package idp_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/xaa-idp/xaa-idp/policy"
)

// holdBcryptPlaces takes every place of the process's bcrypt queue, so
// that every password check waits, and gives them back when the test ends
// or when the returned function is called.
func holdBcryptPlaces(t *testing.T) (release func()) {
	t.Helper()
	var held []func()
	for range policy.BcryptPlaces() {
		r, err := policy.BcryptPlace(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, r)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			for _, r := range held {
				r()
			}
		})
	}
	t.Cleanup(release)
	return release
}

// shedCount reads xaa_idp_password_checks_shed_total from /metrics.
func shedCount(t *testing.T, base string) int {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^xaa_idp_password_checks_shed_total (\d+)`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("/metrics has no xaa_idp_password_checks_shed_total")
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// TestLogin_BusyPasswordQueueAnswers503: the queue of bcrypt checks had
// no bound, so under a sustained flood every sign-in waited behind it
// until its client gave up. Beyond the bound a login is now answered at
// once, 503 with Retry-After and a page saying the IdP is busy, alike for
// a known username, an unknown one and a wrong plain password (whose
// equalising check would wait too), so the answer names no username; the
// logins that found room are checked once a place frees.
func TestLogin_BusyPasswordQueueAnswers503(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("right-pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := policy.Parse([]byte(`
users:
  - {username: u1, password_bcrypt: "`+string(hash)+`"}
  - {username: u2, password: plain-pw}
clients:
  - {client_id: mcp-client, client_secret: s1, redirect_uris: [http://127.0.0.1/callback]}
`), "bcrypt.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	_, challenge := pkce()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	newID := func() string {
		resp, err := noRedirect.Get(p.URL + "/authorize?" + authParams("http://127.0.0.1/callback", challenge).Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		id := loc.Query().Get("authRequestID")
		if id == "" {
			t.Fatalf("authorize: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		return id
	}
	type answer struct {
		status int
		retry  string
		body   string
		took   time.Duration
	}
	login := func(id, username string) answer {
		form := url.Values{"authRequestID": {id}, "username": {username}, "password": {"wrong-pw"}}
		start := time.Now()
		resp, err := noRedirect.Post(p.URL+"/login", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		if err != nil {
			t.Error(err)
			return answer{}
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return answer{resp.StatusCode, resp.Header.Get("Retry-After"), string(b), time.Since(start)}
	}
	if a := login(newID(), "warm-up"); a.status != http.StatusUnauthorized { // makes the unknown users' hash
		t.Fatalf("warm-up: %d", a.status)
	}
	before := shedCount(t, p.URL)

	const bound, logins = 2, 12
	defer policy.LimitBcryptQueue(bound, time.Minute)()
	release := holdBcryptPlaces(t)
	ids := make([]string, logins)
	for i := range ids {
		ids[i] = newID()
	}
	answers := make(chan answer, logins)
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() { answers <- login(id, []string{"u1", "nobody", "u2"}[i%3]) })
	}
	// Those beyond the bound are answered while the places are still held.
	var busy []answer
	for range logins - bound {
		select {
		case a := <-answers:
			busy = append(busy, a)
		case <-time.After(30 * time.Second):
			t.Fatalf("after 30 s only %d of %d logins beyond the queue's bound were answered: they wait", len(busy), logins-bound)
		}
	}
	release()
	wg.Wait()
	close(answers)
	for _, a := range busy {
		if a.status != http.StatusServiceUnavailable || a.retry == "" || !strings.Contains(a.body, "busy") {
			t.Errorf("a login beyond the queue's bound: %d Retry-After %q, body %q; want 503 with Retry-After and a page saying the IdP is busy", a.status, a.retry, a.body)
		}
	}
	for a := range answers {
		if a.status != http.StatusUnauthorized {
			t.Errorf("a login that found room in the queue: %d, want 401 once checked", a.status)
		}
	}
	if got := shedCount(t, p.URL) - before; got != logins-bound {
		t.Errorf("xaa_idp_password_checks_shed_total rose by %d, want %d", got, logins-bound)
	}

	// A check that waits longer than the queue's time bound gives up too.
	defer policy.LimitBcryptQueue(bound, 100*time.Millisecond)()
	holdBcryptPlaces(t)
	if a := login(newID(), "u1"); a.status != http.StatusServiceUnavailable || a.retry == "" {
		t.Errorf("a login waiting past the queue's time bound: %d Retry-After %q, want 503 with Retry-After", a.status, a.retry)
	}
}

// TestLogin_BusyQueueBeforeTheUnknownUsersHash: the hash an unknown
// username is checked against is made at the first refusal, and it waited
// for a place in the queue without a bound and without its request: a
// flood of unknown usernames right after a start queued every one of them
// for good. Making it takes its place as a check does, so a full queue
// answers 503 then too.
func TestLogin_BusyQueueBeforeTheUnknownUsersHash(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("right-pw"), 5) // a cost no other test's users have
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := policy.Parse([]byte(`
users:
  - {username: u1, password_bcrypt: "`+string(hash)+`"}
clients:
  - {client_id: mcp-client, client_secret: s1, redirect_uris: [http://127.0.0.1/callback]}
`), "bcrypt5.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	_, challenge := pkce()
	noRedirect := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(p.URL + "/authorize?" + authParams("http://127.0.0.1/callback", challenge).Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	id := loc.Query().Get("authRequestID")

	defer policy.LimitBcryptQueue(0, time.Minute)()
	holdBcryptPlaces(t)
	form := url.Values{"authRequestID": {id}, "username": {"nobody"}, "password": {"guess"}}
	resp, err = noRedirect.Post(p.URL+"/login", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatalf("an unknown username while the queue is full, before its hash was made: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("an unknown username while the queue is full, before its hash was made: %d Retry-After %q, want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}
