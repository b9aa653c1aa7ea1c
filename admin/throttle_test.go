package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/admin"
	"github.com/xaa-idp/xaa-idp/app"
	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/internal/clientaddr"
	"github.com/xaa-idp/xaa-idp/internal/throttle"
	"github.com/xaa-idp/xaa-idp/policy"
	"golang.org/x/crypto/bcrypt"
)

// throttled serves the admin API alone, over HTTP, with a throttle on a
// clock the test moves, and a file audit log.
func throttled(t *testing.T) (base string, advance func(time.Duration), auditFile string) {
	t.Helper()
	return throttledConfig(t, testConfig)
}

func throttledConfig(t *testing.T, yaml string) (base string, advance func(time.Duration), auditFile string) {
	t.Helper()
	return throttledBehind(t, yaml, nil)
}

// throttledBehind is throttledConfig serving the API through proxies'
// handler (serve --trusted-proxies) when proxies is set.
func throttledBehind(t *testing.T, yaml string, proxies clientaddr.Trusted) (base string, advance func(time.Duration), auditFile string) {
	t.Helper()
	cfg, err := policy.Parse([]byte(yaml), "idp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	auditFile = t.TempDir() + "/audit.jsonl"
	log, err := audit.Open(audit.Options{Path: auditFile})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := idp.New(idp.Options{Config: cfg, Issuer: "http://idp.example", Audit: log})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	th := throttle.New(throttle.Options{Now: func() time.Time { return now }})
	ts := httptest.NewServer(proxies.Handler(admin.New(admin.Options{IdP: srv, Throttle: th})))
	t.Cleanup(func() {
		ts.Close()
		log.Close()
	})
	return ts.URL, func(d time.Duration) { now = now.Add(d) }, auditFile
}

func TestAdminAPI_BasicIsThrottledPerUsername(t *testing.T) {
	base, advance, _ := throttled(t)
	steps := []struct {
		what           string
		user, password string
		status         int
		retryAfter     string
	}{
		{"failure 1", "alice", "guess1", 401, ""},
		{"failure 2", "alice", "guess2", 401, ""},
		{"failure 3", "alice", "guess3", 401, ""},
		{"failure 4", "alice", "guess4", 401, ""},
		{"failure 5", "alice", "guess5", 401, ""},
		{"right password during the back-off", "alice", "alice-pw", 429, "1"},
		{"another username is unaffected", "bob", "bob-pw", 403, ""},
		{"an unknown username counts too", "mallory", "x", 401, ""},
	}
	for _, s := range steps {
		resp, body := get(t, base, "/admin/api/config", s.user, s.password)
		if resp.StatusCode != s.status || resp.Header.Get("Retry-After") != s.retryAfter {
			t.Fatalf("%s: %d Retry-After %q: %s", s.what, resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
		if s.status == 429 {
			var e struct{ Error, Error_description string }
			if json.Unmarshal(body, &e) != nil || e.Error != "too_many_requests" || e.Error_description == "" {
				t.Fatalf("%s: not a JSON error: %s", s.what, body)
			}
		}
	}
	advance(time.Second)
	if resp, body := get(t, base, "/admin/api/config", "alice", "guess6"); resp.StatusCode != 401 {
		t.Fatalf("after the back-off, a wrong password: %d %s", resp.StatusCode, body)
	}
	if resp, _ := get(t, base, "/admin/api/config", "alice", "alice-pw"); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" {
		t.Fatalf("failure 6 doubles the back-off: %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	advance(2 * time.Second)
	if resp, body := get(t, base, "/admin/api/config", "alice", "alice-pw"); resp.StatusCode != 200 {
		t.Fatalf("after the back-off, the right password: %d %s", resp.StatusCode, body)
	}
	for i := range 4 {
		if resp, _ := get(t, base, "/admin/api/config", "alice", "guess"); resp.StatusCode != 401 {
			t.Fatalf("a success resets the count, yet failure %d answered %d", i+1, resp.StatusCode)
		}
	}
}

func TestAdminAPI_FailedBasicIsAuditedWithoutThePassword(t *testing.T) {
	base, _, auditFile := throttled(t)
	long := strings.Repeat("é", 400) // 800 bytes
	for _, c := range [][2]string{{"alice", "secret-guess-1"}, {"nobody", "secret-guess-2"}, {long, "secret-guess-3"}} {
		if resp, _ := get(t, base, "/admin/api/config", c[0], c[1]); resp.StatusCode != 401 {
			t.Fatalf("%.20s: %d", c[0], resp.StatusCode)
		}
	}
	raw, err := os.ReadFile(auditFile)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "secret-guess") {
		t.Fatalf("a password is in the audit log:\n%s", raw)
	}
	var users []string
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var e audit.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		if e.Type != audit.TypeLogin || e.Outcome != audit.Denied || e.ClientID != "admin-api" || e.Reason == "" {
			t.Errorf("not a denied admin-api login: %+v", e)
		}
		users = append(users, e.User)
	}
	if len(users) != 3 || users[0] != "alice" || users[1] != "nobody" {
		t.Fatalf("audited users %q", users)
	}
	// A username over the login form's 256 bytes is, as there, no part of
	// the audit (nor of the log, which prints the event): such a "username"
	// is a pasted token or password more often than a name.
	if users[2] != "" || strings.Contains(string(raw), "éé") {
		t.Errorf("an over-long username is audited: %d bytes", len(users[2]))
	}
}

// TestApp_SharesItsThrottle checks that app.New gives the admin API the
// IdP's login throttle, and that security.login_throttle: false switches
// it off for both.
func TestApp_SharesItsThrottle(t *testing.T) {
	cfg, err := policy.Parse([]byte(testConfig), "idp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	log, _ := audit.Open(audit.Options{})
	defer log.Close()
	th := throttle.New(throttle.Options{})
	srv, err := idp.New(idp.Options{Config: cfg, Issuer: "http://idp.example", Audit: log, LoginThrottle: th})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(app.New(app.Options{IdP: srv}))
	defer ts.Close()
	for range throttle.FreeFailures {
		get(t, ts.URL, "/admin/api/config", "alice", "wrong")
	}
	if _, ok := th.Allow("alice"); ok {
		t.Fatal("the admin API's failures did not count in the shared throttle")
	}
	if resp, _ := get(t, ts.URL, "/admin/api/config", "alice", "alice-pw"); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("got %d, want 429", resp.StatusCode)
	}
	off := *cfg
	off.Security.LoginThrottle = new(bool)
	srv.SetConfig(&off)
	if resp, _ := get(t, ts.URL, "/admin/api/config", "alice", "alice-pw"); resp.StatusCode != http.StatusOK {
		t.Fatalf("with security.login_throttle: false got %d, want 200", resp.StatusCode)
	}
}

// recordingThrottle allows everything and records the usernames of the
// failures reported to it.
type recordingThrottle struct{ failed []string }

func (r *recordingThrottle) Wait(context.Context, string) (time.Duration, bool) { return 0, true }
func (r *recordingThrottle) Failure(u string)                                   { r.failed = append(r.failed, u) }
func (r *recordingThrottle) Success(string)                                     {}
func (r *recordingThrottle) Unchecked(string)                                   {}

// TestAdminAPI_OverlongBasicCredentialsStayOutOfTheThrottle: HTTP Basic
// credentials beyond the login form's bounds (256-byte username, 1024-byte
// password) are refused without being checked or tracked. The throttle
// keeps one entry per username, so without the bound every failed request
// could park up to a header's worth (64 KiB) of attacker text in it, for
// each of its 10,000 entries, as the login form already prevents.
func TestAdminAPI_OverlongBasicCredentialsStayOutOfTheThrottle(t *testing.T) {
	cfg, err := policy.Parse([]byte(testConfig), "idp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := idp.New(idp.Options{Config: cfg, Issuer: "http://idp.example"})
	if err != nil {
		t.Fatal(err)
	}
	th := &recordingThrottle{}
	ts := httptest.NewServer(admin.New(admin.Options{IdP: srv, Throttle: th}))
	defer ts.Close()
	for _, c := range [][2]string{{strings.Repeat("u", 20_000), "x"}, {"alice", strings.Repeat("p", 2000)}} {
		if resp, body := get(t, ts.URL, "/admin/api/config", c[0], c[1]); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%.20s…: %d %s", c[0], resp.StatusCode, body)
		}
	}
	if len(th.failed) != 0 {
		t.Errorf("the throttle tracked %d over-long attempts (first username %d bytes)", len(th.failed), len(th.failed[0]))
	}
	if resp, _ := get(t, ts.URL, "/admin/api/config", "alice", "wrong"); resp.StatusCode != http.StatusUnauthorized || len(th.failed) != 1 {
		t.Errorf("an ordinary failure: %d, %d tracked", resp.StatusCode, len(th.failed))
	}
}

// TestAdminAPI_BasicAttemptsAtOnceAreBounded: guesses sent at once for one
// username are not all checked before the first failure counts (each is
// a password_bcrypt check, some 50 ms of CPU): at most the five free
// failures are, and the others get 429 with Retry-After, unchecked.
func TestAdminAPI_BasicAttemptsAtOnceAreBounded(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("alice-pw"), bcrypt.DefaultCost)
	if err != nil {
		t.Fatal(err)
	}
	base, _, _ := throttledConfig(t, strings.Replace(testConfig, "password: alice-pw", "password_bcrypt: '"+string(hash)+"'", 1))
	// The bcrypt queue's 5 s wait is not what this test is about: under
	// -race on a loaded machine the five checks in one queue outlast it and
	// the last ones shed (503).
	defer policy.LimitBcryptQueue(policy.MaxBcryptWaitersPerPlace*policy.BcryptPlaces(), time.Minute)()
	const n = 40
	statuses := make(chan int, n)
	start := make(chan struct{})
	for i := range n {
		go func() {
			<-start
			req, _ := http.NewRequest(http.MethodGet, base+"/admin/api/status", nil)
			req.SetBasicAuth("alice", "guess-"+strconv.Itoa(i))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
				statuses <- -1
				return
			}
			statuses <- resp.StatusCode
		}()
	}
	close(start)
	count := map[int]int{}
	for range n {
		count[<-statuses]++
	}
	if count[http.StatusUnauthorized] > throttle.FreeFailures || count[http.StatusUnauthorized]+count[http.StatusTooManyRequests] != n {
		t.Errorf("%d guesses at once: %v by status, want at most %d checked (401), the others 429 with Retry-After", n, count, throttle.FreeFailures)
	}
}

// TestAdminAPI_BasicRightPasswordsAtOnceAllPass: the bound on attempts
// checked at once makes the ones beyond it wait, not fail: a script's
// parallel admin API calls as one bcrypt admin all get their answer.
func TestAdminAPI_BasicRightPasswordsAtOnceAllPass(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("alice-pw"), bcrypt.DefaultCost)
	if err != nil {
		t.Fatal(err)
	}
	base, _, _ := throttledConfig(t, strings.Replace(testConfig, "password: alice-pw", "password_bcrypt: '"+string(hash)+"'", 1))
	// The bcrypt queue's 5 s wait is not what this test is about: on a
	// loaded machine 20 checks in one queue outlast it and shed (503).
	defer policy.LimitBcryptQueue(policy.MaxBcryptWaitersPerPlace*policy.BcryptPlaces(), time.Minute)()
	const n = 4 * throttle.FreeFailures
	statuses := make(chan int, n)
	start := make(chan struct{})
	for range n {
		go func() {
			<-start
			req, _ := http.NewRequest(http.MethodGet, base+"/admin/api/status", nil)
			req.SetBasicAuth("alice", "alice-pw")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	close(start)
	count := map[int]int{}
	for range n {
		count[<-statuses]++
	}
	if count[http.StatusOK] != n {
		t.Errorf("%d requests at once with the right password: %v by status, want all 200", n, count)
	}
}
