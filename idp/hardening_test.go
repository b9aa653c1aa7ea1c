package idp_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/internal/throttle"
)

const callback = "http://127.0.0.1/callback"

// pendingLogin starts a code flow in br and stops at the login form; it
// returns the auth request's ID and the PKCE verifier.
func (br *browser) pendingLogin(t *testing.T) (id, verifier string) {
	t.Helper()
	verifier, challenge := pkce()
	resp, err := br.hc.Get(br.p.URL + "/authorize?" + authParams(callback, challenge).Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || loc.Query().Get("authRequestID") == "" {
		t.Fatalf("/authorize: %d Location %q, want a redirect to the login page", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.Query().Get("authRequestID"), verifier
}

// postLogin posts the login form and returns the answer with its body.
func (br *browser) postLogin(t *testing.T, form url.Values) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, br.p.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := br.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func loginForm(id, username, password string) url.Values {
	return url.Values{"authRequestID": {id}, "username": {username}, "password": {password}}
}

// codeTokens signs alice in through br and redeems the code.
func (br *browser) codeTokens(t *testing.T) map[string]any {
	t.Helper()
	return br.codeTokensAs(t, "alice", "alice-pw")
}

// codeTokensAs is codeTokens for another user.
func (br *browser) codeTokensAs(t *testing.T, username, password string) map[string]any {
	t.Helper()
	verifier, challenge := pkce()
	res := br.authorize(t, authParams(callback, challenge), username, password)
	if res.location == nil || res.location.Query().Get("code") == "" {
		t.Fatalf("no code: %+v", res)
	}
	return br.redeem(t, res.location.Query().Get("code"), verifier, http.StatusOK)
}

// signInAgain signs username in with prompt=login in a browser that may
// have a session already (the form is shown whatever it has), and redeems
// the code.
func (br *browser) signInAgain(t *testing.T, username, password string) map[string]any {
	t.Helper()
	verifier, challenge := pkce()
	params := authParams(callback, challenge)
	params.Set("prompt", "login")
	res := br.authorize(t, params, username, password)
	if !res.loginShown || res.location == nil || res.location.Query().Get("code") == "" {
		t.Fatalf("%s signing in with prompt=login: %+v, want the form and a code", username, res)
	}
	return br.redeem(t, res.location.Query().Get("code"), verifier, http.StatusOK)
}

// redeemAfterLogin follows a login's redirect to the callback and redeems
// the code it carries.
func (br *browser) redeemAfterLogin(t *testing.T, login *http.Response, verifier string) {
	t.Helper()
	resp, err := br.hc.Get(login.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("callback: %d Location %q, want the code", resp.StatusCode, resp.Header.Get("Location"))
	}
	br.redeem(t, loc.Query().Get("code"), verifier, http.StatusOK)
}

func (br *browser) redeem(t *testing.T, code, verifier string, want int) map[string]any {
	t.Helper()
	resp, body := br.p.postToken(t, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {callback}, "code_verifier": {verifier}}, basic("mcp-client", "s1"))
	if resp.StatusCode != want {
		t.Fatalf("code redemption: %d %v, want %d", resp.StatusCode, body, want)
	}
	return body
}

// auditJSON is every audit event, as the log file would hold them.
func auditJSON(t *testing.T, p *testIdP) string {
	t.Helper()
	b, err := json.Marshal(p.Audit.Query(audit.Filter{}))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestLogin_FormLimits: an oversized username or password is refused with
// 400 and goes into neither the audit log nor the log lines; an oversized
// or malformed form is a 4xx; request-derived text in audit events is cut
// to 512 bytes with a marker.
func TestLogin_FormLimits(t *testing.T) {
	// The log lines are the audit events (cmd/xaa-idp logs them), so what
	// the audit log holds is what they hold; cmd/xaa-idp/limits_test.go
	// checks the lines themselves.
	p := startConformanceIdP(t)
	long := strings.Repeat("Z", 60000)
	br := newBrowser(p)
	id, _ := br.pendingLogin(t)
	for _, c := range []struct {
		name string
		body string
		want int
	}{
		{"username over 256 bytes", loginForm(id, strings.Repeat("Z", 257), "x").Encode(), http.StatusBadRequest},
		{"password over 1024 bytes", loginForm(id, "alice", strings.Repeat("Z", 1025)).Encode(), http.StatusBadRequest},
		{"form over 8 KiB", loginForm(id, long, "x").Encode(), http.StatusRequestEntityTooLarge},
		{"malformed form", "authRequestID=" + id + "&username=%zz", http.StatusBadRequest},
		{"semicolon separator", "authRequestID=" + id + ";username=alice", http.StatusBadRequest},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, p.URL+"/login", strings.NewReader(c.body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := br.hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Errorf("status %d, want %d", resp.StatusCode, c.want)
			}
			if strings.Contains(string(body), "ZZZZZZZZ") {
				t.Error("the page shows the oversized value back")
			}
		})
	}
	if strings.Contains(auditJSON(t, p), "ZZZZZZZZ") {
		t.Error("a part of an oversized value reached the audit log")
	}
	// The login still works after the refusals.
	if resp, _ := br.postLogin(t, loginForm(id, "alice", "alice-pw")); resp.StatusCode != http.StatusFound {
		t.Errorf("login after refused attempts: %d, want 302", resp.StatusCode)
	}

	t.Run("audit text is cut at 512 bytes", func(t *testing.T) {
		clientID := strings.Repeat("c", 4000)
		_, answer := p.postToken(t, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "client_id": {clientID}, "scope": {long}}, nil)
		if d, _ := answer["error_description"].(string); d == "" || len(d) > 1024 {
			t.Errorf("error_description of %d bytes, want at most 1024: the answer must not grow with the request", len(d))
		}
		evs := p.Audit.Query(audit.Filter{Type: audit.TypeTokenExchange})
		if len(evs) == 0 {
			t.Fatal("no token_exchange event")
		}
		ev := evs[0] // newest first
		for name, v := range map[string]string{"client_id": ev.ClientID, "scope_requested": ev.ScopeRequested, "reason": ev.Reason} {
			if len(v) > 512 || !strings.Contains(v, "…[truncated ") {
				t.Errorf("%s: %d bytes ending %q, want at most 512 ending with the marker", name, len(v), v[max(0, len(v)-20):])
			}
		}
	})
}

// fakeThrottle is a LoginThrottle that refuses the usernames in locked and
// records what the login page reports.
type fakeThrottle struct {
	mu     sync.Mutex
	locked map[string]time.Duration
	calls  []string
	asked  int
}

func (f *fakeThrottle) Wait(_ context.Context, u string) (time.Duration, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked++
	d, locked := f.locked[u]
	return d, !locked
}

func (f *fakeThrottle) Failure(u string)   { f.record("failure " + u) }
func (f *fakeThrottle) Success(u string)   { f.record("success " + u) }
func (f *fakeThrottle) Unchecked(u string) { f.record("unchecked " + u) }
func (f *fakeThrottle) record(c string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
}

// TestLogin_ThrottledForASecondSaysSo: the page's wait reads as English.
func TestLogin_ThrottledForASecondSaysSo(t *testing.T) {
	th := &fakeThrottle{locked: map[string]time.Duration{"bob": 300 * time.Millisecond}}
	p := startIdP(t, conformanceConfig(t), func(o *idp.Options) { o.LoginThrottle = th })
	br := newBrowser(p)
	id, _ := br.pendingLogin(t)
	resp, body := br.postLogin(t, loginForm(id, "bob", "bob-pw"))
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "Try again in 1 second.") {
		t.Errorf("throttled for under a second: %d, the page does not say %q:\n%s", resp.StatusCode, "Try again in 1 second.", body)
	}
}

// TestLogin_AsksTheThrottle: the login page asks the throttle before a
// password is checked, answers 429 with Retry-After while it refuses (even
// for the right password), reports failures and successes, not the
// attempts it refused, and leaves it alone when security.login_throttle is
// false.
func TestLogin_AsksTheThrottle(t *testing.T) {
	th := &fakeThrottle{locked: map[string]time.Duration{"bob": 1500 * time.Millisecond}}
	cfg := conformanceConfig(t)
	p := startIdP(t, cfg, func(o *idp.Options) { o.LoginThrottle = th })
	br := newBrowser(p)
	id, _ := br.pendingLogin(t)

	if resp, _ := br.postLogin(t, loginForm(id, "alice", "wrong")); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong password: %d, want 401", resp.StatusCode)
	}
	resp, body := br.postLogin(t, loginForm(id, "bob", "bob-pw"))
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "2" || !strings.Contains(body, "Try again in 2 seconds") {
		t.Errorf("throttled username: %d Retry-After %q, want 429 with Retry-After 2", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp, _ := br.postLogin(t, loginForm(id, "alice", "alice-pw")); resp.StatusCode != http.StatusFound {
		t.Errorf("right password: %d, want 302", resp.StatusCode)
	}
	if got, want := strings.Join(th.calls, ", "), "failure alice, success alice"; got != want {
		t.Errorf("throttle told %q, want %q", got, want)
	}
	evs := p.Audit.Query(audit.Filter{Type: audit.TypeLogin, Outcome: audit.Denied})
	if len(evs) != 2 || !strings.Contains(evs[0].Reason, "throttled") || evs[0].User != "bob" { // newest first
		t.Errorf("denied login events: %+v, want the wrong password and the throttled attempt", evs)
	}

	off := *cfg
	no := false
	off.Security.LoginThrottle = &no
	p.SetConfig(&off)
	asked := th.asked
	id, _ = br.pendingLogin(t)
	if resp, _ := br.postLogin(t, loginForm(id, "bob", "bob-pw")); resp.StatusCode != http.StatusFound || th.asked != asked {
		t.Errorf("login_throttle: false: %d, throttle asked %d times more; want 302 without asking", resp.StatusCode, th.asked-asked)
	}
}

// TestLogin_AttemptsPerAuthRequest: one sign-in request allows ten refused
// attempts; then it is closed, and even the right password must start over.
func TestLogin_AttemptsPerAuthRequest(t *testing.T) {
	p := startConformanceIdP(t)
	br := newBrowser(p)
	id, _ := br.pendingLogin(t)
	for i := range 10 {
		// Other usernames each time: the throttle would answer 429 for one
		// username after five; this counts the attempts per request.
		if resp, _ := br.postLogin(t, loginForm(id, fmt.Sprint("user", i), "guess")); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d, want 401", i+1, resp.StatusCode)
		}
	}
	resp, body := br.postLogin(t, loginForm(id, "alice", "alice-pw"))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "unknown or has expired") {
		t.Errorf("right password after ten failures: %d, want 400: the request is closed", resp.StatusCode)
	}
}

// TestLogin_ThrottleBehaviour runs the login page against the product's
// throttle (internal/throttle) on the test's clock, through real HTTP.
func TestLogin_ThrottleBehaviour(t *testing.T) {
	clock := idp.NewClock(nil)
	clock.Freeze()
	th := throttle.New(throttle.Options{Now: clock.Now})
	p := startIdP(t, conformanceConfig(t), func(o *idp.Options) { o.Clock, o.LoginThrottle = clock, th })
	br := newBrowser(p)
	attempt := func(user, pw string) *http.Response {
		id, _ := br.pendingLogin(t)
		resp, _ := br.postLogin(t, loginForm(id, user, pw))
		return resp
	}
	for i := range 5 {
		if resp := attempt("alice", "wrong"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, resp.StatusCode)
		}
	}
	if resp := attempt("alice", "alice-pw"); resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("sixth attempt, right password: %d Retry-After %q, want 429 and 1", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp := attempt("bob", "bob-pw"); resp.StatusCode != http.StatusFound {
		t.Errorf("another username: %d, want 302", resp.StatusCode)
	}
	clock.Advance(time.Second)
	if resp := attempt("alice", "wrong"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("after the back-off: %d, want 401", resp.StatusCode)
	}
	if resp := attempt("alice", "alice-pw"); resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "2" {
		t.Errorf("after a sixth failure: %d Retry-After %q, want 429 and 2", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	clock.Advance(2 * time.Second)
	if resp := attempt("alice", "alice-pw"); resp.StatusCode != http.StatusFound {
		t.Errorf("right password after the back-off: %d, want 302", resp.StatusCode)
	}
	if resp := attempt("alice", "wrong"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a failure after a success: %d, want 401 (the count was reset)", resp.StatusCode)
	}
}

// TestAuthorize_PendingLoginsBounded: at security.max_pending_logins,
// /authorize answers 503 with Retry-After, and a login already shown its
// form still completes.
func TestAuthorize_PendingLoginsBounded(t *testing.T) {
	cfg := conformanceConfig(t)
	cfg.Security.MaxPendingLogins = 3
	p := startIdP(t, cfg)
	victim := newBrowser(p)
	id, verifier := victim.pendingLogin(t)
	_, challenge := pkce()
	for i := range 20 {
		resp, err := http.Get(p.URL + "/authorize?" + authParams(callback, challenge).Encode())
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if i < 2 {
			continue // the store's last two slots
		}
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || body["error"] != "temporarily_unavailable" {
			t.Fatalf("request %d on a full store: %d Retry-After %q %v, want 503 temporarily_unavailable with Retry-After", i+1, resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
	}
	resp, _ := victim.postLogin(t, loginForm(id, "alice", "alice-pw"))
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("the pending login: %d, want 302", resp.StatusCode)
	}
	victim.redeemAfterLogin(t, resp, verifier)
}

// TestLoginPage_NotFramed: the login page forbids framing
// (clickjacking) and loading anything but itself.
func TestLoginPage_NotFramed(t *testing.T) {
	p := startConformanceIdP(t)
	br := newBrowser(p)
	id, _ := br.pendingLogin(t)
	resp, err := br.hc.Get(p.URL + "/login?authRequestID=" + id)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	if resp.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("X-Frame-Options %q, Content-Security-Policy %q", resp.Header.Get("X-Frame-Options"), csp)
	}
}

// TestEndSession_EndsTheSessionsTokens: after end_session, the session's
// ID token (by its sid) and refresh token get invalid_grant at the token
// exchange and the refresh grant, audited; another session's tokens of the
// same user still work.
func TestEndSession_EndsTheSessionsTokens(t *testing.T) {
	f := &fixture{testIdP: startConformanceIdP(t)}
	br := newBrowser(f.testIdP)
	tok := br.codeTokens(t)
	other := newBrowser(f.testIdP).codeTokens(t)
	idToken, rt := tok["id_token"].(string), tok["refresh_token"].(string)
	if sid := unverifiedClaims(t, idToken)["sid"]; sid == nil || sid == unverifiedClaims(t, other["id_token"].(string))["sid"] {
		t.Fatalf("ID token sid = %v, want one per session", sid)
	}
	chat := grantCase{form: b(idToken), header: basicS1, sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read"}
	f.expectIDJAG(t, chat)

	resp, err := br.signOut(f.URL + "/end_session")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("end_session: %d", resp.StatusCode)
	}
	f.expectRefusal(t, refusal{form: b(idToken), code: "invalid_grant", outcome: audit.Error})
	f.expectRefusal(t, refusal{form: b(rt, set("subject_token_type", typeRefreshToken)), code: "invalid_grant", outcome: audit.Error})
	resp, body := f.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basicS1)
	checkOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
	if evs := f.exchangeEvents(); !strings.Contains(evs[1].Reason, "end_session") {
		t.Errorf("audit reason %q, want it to name end_session", evs[1].Reason)
	} else if evs[1].User != "alice" || evs[1].Sub != "u-alice" {
		t.Errorf("the refusal is audited for user %q sub %q, want alice's: filtering by user must find it", evs[1].User, evs[1].Sub)
	}
	chat.form = b(other["id_token"].(string))
	f.expectIDJAG(t, chat)
}

// TestEndSession_EndsTheSessionOfEveryLoginInTheBrowser: signing in again
// in the same browser (prompt=login, as a step-up does) continues the SSO
// session, so the browser's sign-out ends the tokens of both logins; with a
// fresh sid the first login's tokens outlived the sign-out.
func TestEndSession_EndsTheSessionOfEveryLoginInTheBrowser(t *testing.T) {
	f := &fixture{testIdP: startConformanceIdP(t)}
	br := newBrowser(f.testIdP)
	first := br.codeTokens(t)
	second := br.signInAgain(t, "alice", "alice-pw")
	sid := unverifiedClaims(t, first["id_token"].(string))["sid"]
	if again := unverifiedClaims(t, second["id_token"].(string))["sid"]; sid == nil || again != sid {
		t.Errorf("sid %v after signing in again, %v before; want the session to go on", again, sid)
	}
	resp, err := br.signOut(f.URL + "/end_session")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for i, tok := range []map[string]any{first, second} {
		f.expectRefusal(t, refusal{form: b(tok["id_token"].(string)), code: "invalid_grant", outcome: audit.Error})
		resp, body := f.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}, basicS1)
		if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Errorf("login %d: refresh after the sign-out: %d %v, want invalid_grant", i+1, resp.StatusCode, body)
		}
	}
}

// TestLogin_AnotherUserEndsTheSessionItReplaces: when another user signs
// in in a browser, the first user's session ends as at a sign-out (its
// cookie is gone, so no sign-out in that browser could end it any more):
// its ID tokens and refresh tokens are refused, the logout is audited, and
// the new user's session is unaffected.
func TestLogin_AnotherUserEndsTheSessionItReplaces(t *testing.T) {
	f := &fixture{testIdP: startConformanceIdP(t)}
	br := newBrowser(f.testIdP)
	alice := br.codeTokens(t)
	bob := br.signInAgain(t, "bob", "bob-pw")

	f.expectRefusal(t, refusal{form: b(alice["id_token"].(string)), code: "invalid_grant", outcome: audit.Error})
	refresh := func(tok map[string]any) (int, map[string]any) {
		resp, body := f.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}, basicS1)
		return resp.StatusCode, body
	}
	if status, body := refresh(alice); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("alice's refresh token after bob signed in: %d %v, want invalid_grant", status, body)
	}
	if status, body := refresh(bob); status != http.StatusOK {
		t.Errorf("bob's refresh token: %d %v, want new tokens", status, body)
	}
	evs := f.Audit.Query(audit.Filter{Type: audit.TypeLogout})
	if len(evs) != 1 || evs[0].User != "alice" || !strings.Contains(evs[0].Reason, "another user's sign-in") {
		t.Errorf("logout events %+v, want alice's, saying why", evs)
	}
}

// TestEndpoints_MalformedRequestsAre4xx: no query string, form or body a
// client sends makes an IdP endpoint answer 5xx.
func TestEndpoints_MalformedRequestsAre4xx(t *testing.T) {
	p := startConformanceIdP(t)
	big := "a=" + strings.Repeat("b", 200<<10)
	paths := []string{"/authorize", "/authorize/callback", "/login", "/oauth/token", "/userinfo", "/oauth/introspect",
		"/revoke", "/end_session", "/me/mcp-servers", "/keys", "/.well-known/openid-configuration", "/logged-out"}
	requests := []struct {
		name, method, query, body string
	}{
		{"bad percent-encoding", http.MethodGet, "a=%zz", ""},
		{"semicolon separator", http.MethodGet, "a=1;b=2", ""},
		{"bad percent-encoding in the body", http.MethodPost, "", "a=%zz"},
		{"semicolon in the body", http.MethodPost, "", "a=1;b=2"},
		{"oversized body", http.MethodPost, "", big},
		{"oversized body with a query", http.MethodPost, "id_token_hint=x", big},
	}
	for _, path := range paths {
		for _, rq := range requests {
			t.Run(path+" "+rq.name, func(t *testing.T) {
				req, _ := http.NewRequest(rq.method, p.URL+path+"?"+rq.query, strings.NewReader(rq.body))
				if rq.body != "" {
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				}
				resp, err := newBrowser(p).hc.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode >= 500 {
					t.Errorf("status %d", resp.StatusCode)
				}
			})
		}
	}
}

// FuzzLoginForm posts arbitrary forms to the login page, each for a fresh
// sign-in request ({id} in the body stands for its ID): never a 5xx, and
// an oversized username is never shown back or audited.
func FuzzLoginForm(f *testing.F) {
	cfg := loadConfig(f, "testdata/conformance.yaml")
	cfg.Security.MaxPendingLogins = 1_000_000
	p := startIdP(f, cfg)
	br := newBrowser(p)
	_, challenge := pkce()
	authorize := p.URL + "/authorize?" + authParams(callback, challenge).Encode()
	const form = "application/x-www-form-urlencoded"
	f.Add(loginForm("{id}", "alice", "wrong").Encode(), form)
	f.Add(loginForm("{id}", "alice", "alice-pw").Encode(), form)
	f.Add("authRequestID={id}&username=%zz", form)
	f.Add("authRequestID={id};username=a", form)
	f.Add(loginForm("{id}", strings.Repeat("Q", 300), "x").Encode(), form)
	f.Add(loginForm("{id}", "alice", strings.Repeat("Q", 2000)).Encode(), form)
	f.Add("--x\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nalice\r\n--x--", "multipart/form-data; boundary=x")
	f.Fuzz(func(t *testing.T, body, contentType string) {
		resp, err := br.hc.Get(authorize)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		body = strings.ReplaceAll(body, "{id}", loc.Query().Get("authRequestID"))
		req, _ := http.NewRequest(http.MethodPost, p.URL+"/login", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		resp, err = br.hc.Do(req)
		if err != nil {
			t.Skip("not sendable:", err) // a Content-Type net/http refuses to send
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("status %d for %q", resp.StatusCode, body)
		}
		form, err := url.ParseQuery(body)
		if u := strings.TrimSpace(form.Get("username")); err == nil && len(u) > 256 && (strings.Contains(string(page), u) || strings.Contains(auditJSON(t, p), u)) {
			t.Fatalf("an oversized username came back or was audited")
		}
	})
}

// TestIntrospection_OwnTokensOnly: a client sees only the tokens issued
// to it; client_secret_post, which discovery advertises, works.
func TestIntrospection_OwnTokensOnly(t *testing.T) {
	p := startConformanceIdP(t)
	at := p.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid")["access_token"].(string)
	introspect := func(form url.Values, header http.Header) (int, map[string]any) {
		form.Set("token", at)
		req, _ := http.NewRequest(http.MethodPost, p.URL+"/oauth/introspect", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	for _, c := range []struct {
		name   string
		form   url.Values
		header http.Header
		status int
		active bool
	}{
		{"its client, Basic", url.Values{}, basic("mcp-client", "s1"), http.StatusOK, true},
		{"its client, client_secret_post", url.Values{"client_id": {"mcp-client"}, "client_secret": {"s1"}}, nil, http.StatusOK, true},
		{"another client", url.Values{}, basic("other-client", "s2"), http.StatusOK, false},
		{"another client, client_secret_post", url.Values{"client_id": {"other-client"}, "client_secret": {"s2"}}, nil, http.StatusOK, false},
		{"a public client", url.Values{"client_id": {"pub-client"}}, nil, http.StatusUnauthorized, false},
		{"a wrong secret", url.Values{"client_id": {"mcp-client"}, "client_secret": {"s2"}}, nil, http.StatusUnauthorized, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body := introspect(c.form, c.header)
			if status != c.status || (status == http.StatusOK && body["active"] != c.active) {
				t.Errorf("%d %v, want %d active=%v", status, body, c.status, c.active)
			}
			if status == http.StatusOK && !c.active && len(body) != 1 {
				t.Errorf("an inactive answer says more than active: %v", body)
			}
		})
	}
}

// TestAuthorize_RedirectURIExactMatch: redirect_uri matches a registered
// URI exactly, except the port of a loopback IP literal (RFC 8252 section
// 7.3); a refused one gets 400 and no redirect.
func TestAuthorize_RedirectURIExactMatch(t *testing.T) {
	p := startConformanceIdP(t)
	_, challenge := pkce()
	for _, c := range []struct {
		uri string
		ok  bool
	}{
		{"http://127.0.0.1/callback", true},
		{"http://127.0.0.1:53123/callback", true},
		{"http://127.0.0.1:65535/callback", true},
		{"http://127.0.0.1:65536/callback", false},
		{"http://127.0.0.1:99999999999/callback", false},
		{"http://127.0.0.1:0/callback", false},
		{"http://127.0.0.1:/callback", false},
		{"http://127.0.0.1:053123/callback", false},
		{"https://app.example/cb", true},
		{"http://evil.example@127.0.0.1/callback", false},
		{"http://user:pw@127.0.0.1/callback", false},
		{"https://127.0.0.1/callback", false},
		{"http://[::1]/callback", false},
		{"http://localhost/callback", false},
		{"http://127.0.0.2/callback", false},
		{"http://127.0.0.1/callback#x", false},
		{"http://127.0.0.1/callback#", false},
		{"http://127.0.0.1/callback?x=1", false},
		{"http://127.0.0.1/callback/", false},
		{"http://127.0.0.1/Callback", false},
		{"https://app.example:443/cb", false},
		{"https://app.example/cb/../cb", false},
		// The loopback rule relaxes the port alone: not the case of the
		// scheme, which url.Parse folds.
		{"HTTP://127.0.0.1/callback", false},
		{"Http://127.0.0.1:53123/callback", false},
		{"HTTPS://app.example/cb", false},
	} {
		t.Run(c.uri, func(t *testing.T) {
			res := newBrowser(p).authorize(t, authParams(c.uri, challenge), "", "")
			switch {
			case c.ok && !res.loginShown:
				t.Errorf("refused (%d), want the login form", res.status)
			case !c.ok && (res.status != http.StatusBadRequest || res.loginShown || res.location != nil):
				t.Errorf("status %d, login shown %v, redirect %v; want 400 and no redirect", res.status, res.loginShown, res.location)
			}
		})
	}
}

// TestAuthorize_CodeChallengeForm: code_challenge is 43 to 128 characters
// of the unreserved set (RFC 7636 section 4.2).
func TestAuthorize_CodeChallengeForm(t *testing.T) {
	p := startConformanceIdP(t)
	for _, c := range []struct {
		name, challenge string
		ok              bool
	}{
		{"S256 of a verifier", "", true},
		{"43 characters", strings.Repeat("a", 43), true},
		{"128 unreserved characters", strings.Repeat("aZ9-._~", 18) + "ab", true},
		{"3 characters", "abc", false},
		{"42 characters", strings.Repeat("a", 42), false},
		{"129 characters", strings.Repeat("a", 129), false},
		{"a reserved character", strings.Repeat("a", 42) + "+", false},
		{"padding", strings.Repeat("a", 42) + "=", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			params := authParams(callback, c.challenge)
			if c.challenge == "" {
				_, challenge := pkce()
				params.Set("code_challenge", challenge)
			}
			res := newBrowser(p).authorize(t, params, "", "")
			if c.ok && !res.loginShown {
				t.Errorf("refused (%d %v), want the login form", res.status, res.location)
			}
			if !c.ok {
				wantRedirectError(t, res, "invalid_request")
			}
		})
	}
}

// TestAuthorize_UnsupportedResponseType: a response_type other than code
// goes back to the client as unsupported_response_type (RFC 6749 section
// 4.1.2.1), with state and iss, not as unauthorized_client, which would
// send the developer to the client's registration.
func TestAuthorize_UnsupportedResponseType(t *testing.T) {
	p := startConformanceIdP(t)
	for _, rt := range []string{"token", "id_token", "code id_token", "none"} {
		t.Run(rt, func(t *testing.T) {
			_, challenge := pkce()
			params := authParams(callback, challenge)
			params.Set("response_type", rt)
			res := newBrowser(p).authorize(t, params, "", "")
			wantRedirectError(t, res, "unsupported_response_type")
			if d := res.location.Query().Get("error_description"); !strings.Contains(d, "response_type=code") {
				t.Errorf("error_description %q does not say what to send", d)
			}
		})
	}
}

// TestCodeReplay_RevokesFirstRedemption: a replayed code is refused and
// revokes the access and refresh tokens of its first redemption (RFC 6749
// section 4.1.2), audited.
func TestCodeReplay_RevokesFirstRedemption(t *testing.T) {
	p := startConformanceIdP(t)
	br := newBrowser(p)
	verifier, challenge := pkce()
	res := br.authorize(t, authParams(callback, challenge), "alice", "alice-pw")
	code := res.location.Query().Get("code")
	first := br.redeem(t, code, verifier, http.StatusOK)
	br.redeem(t, code, verifier, http.StatusBadRequest)

	resp, body := p.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first["refresh_token"].(string)}}, basicS1)
	checkOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
	req, _ := http.NewRequest(http.MethodGet, p.URL+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+first["access_token"].(string))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("userinfo with the first access token: %v %v, want 401 (RFC 6750 section 3.1, invalid_token)", resp.Status, err)
	}
	// The grants' events: the userinfo refusal is one of its own.
	evs := slices.DeleteFunc(p.Audit.Query(audit.Filter{Type: audit.TypeToken, Outcome: audit.Error}), func(ev audit.Event) bool { return ev.GrantType == "" })
	if len(evs) < 2 || !strings.Contains(evs[1].Reason, "replayed") {
		t.Errorf("token error events %+v, want the replay with its reason", evs)
	}
}

// TestStores_ReturnToIdle: once everything expired, the sweeper empties
// every in-memory store, as /metrics shows.
func TestStores_ReturnToIdle(t *testing.T) {
	clock := idp.NewClock(nil)
	f := &fixture{testIdP: startIdP(t, conformanceConfig(t), func(o *idp.Options) { o.Clock, o.SweepInterval = clock, 5*time.Millisecond })}
	br := newBrowser(f.testIdP)
	tok := br.codeTokens(t)
	f.expectIDJAG(t, grantCase{form: b(tok["id_token"].(string)), header: basicS1, sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read"})
	br.pendingLogin(t)
	if resp, err := br.signOut(f.URL + "/end_session"); err == nil {
		resp.Body.Close()
	}
	newBrowser(f.testIdP).codeTokens(t)
	stores := func() map[string]float64 {
		out := map[string]float64{}
		for k, v := range scrape(t, f.URL) {
			if strings.HasPrefix(k, "xaa_idp_store_entries{") {
				out[k] = v
			}
		}
		return out
	}
	busy := stores()
	for _, s := range []string{"auth_requests", "access_tokens", "refresh_tokens", "sessions", "ended_sessions", "verified_subjects", "used_codes"} {
		if busy[`xaa_idp_store_entries{store="`+s+`"}`] == 0 {
			t.Errorf("store %s is empty after the flows: %v", s, busy)
		}
	}
	clock.Advance(25 * time.Hour)
	deadline := time.Now().Add(60 * time.Second)
	for {
		left := 0.0
		for _, v := range stores() {
			left += v
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("entries left after expiry and sweeps: %v", stores())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStores_SingleUseSubjectsReturnToIdle: with exchange.single_use_subject
// every exchanged ID token is remembered until it expires; the sweeper
// forgets them then, as it does every other store's entries, rather than
// keeping them until the next exchange (the cache purged only as it was
// used), and /metrics shows the count.
func TestStores_SingleUseSubjectsReturnToIdle(t *testing.T) {
	clock := idp.NewClock(nil)
	cfg := conformanceConfig(t)
	cfg.Exchange.SingleUseSubject = true
	f := &fixture{testIdP: startIdP(t, cfg, func(o *idp.Options) { o.Clock, o.SweepInterval = clock, 5*time.Millisecond })}
	tok := newBrowser(f.testIdP).codeTokens(t)
	f.expectIDJAG(t, grantCase{form: b(tok["id_token"].(string)), header: basicS1, sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read"})
	const series = `xaa_idp_store_entries{store="used_subjects"}`
	if n, ok := scrape(t, f.URL)[series]; !ok || n != 1 {
		t.Fatalf("%s = %v (published: %v) after one exchange, want 1", series, n, ok)
	}
	clock.Advance(25 * time.Hour)
	deadline := time.Now().Add(60 * time.Second)
	for scrape(t, f.URL)[series] != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v after expiry and sweeps, want 0", series, scrape(t, f.URL)[series])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestHealthz_OnlyGET: /healthz answers GET and HEAD; any other method is
// 405, not a 200 from the library's own health handler behind it.
func TestHealthz_OnlyGET(t *testing.T) {
	p := startConformanceIdP(t)
	for method, want := range map[string]int{
		http.MethodGet: http.StatusOK, http.MethodHead: http.StatusOK,
		http.MethodPost: http.StatusMethodNotAllowed, http.MethodPut: http.StatusMethodNotAllowed, http.MethodDelete: http.StatusMethodNotAllowed,
	} {
		req, _ := http.NewRequest(method, p.URL+"/healthz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s /healthz: %d, want %d", method, resp.StatusCode, want)
		}
	}
}

// TestReady_OnlyGET: the library's readiness probe, /ready, answers GET
// and HEAD; any other method (PUT, DELETE, TRACE, ...) is 405 with Allow,
// as at /healthz, not a 200 {"status":"ok"}.
func TestReady_OnlyGET(t *testing.T) {
	p := startConformanceIdP(t)
	for method, want := range map[string]int{
		http.MethodGet: http.StatusOK, http.MethodHead: http.StatusOK,
		http.MethodPost: http.StatusMethodNotAllowed, http.MethodPut: http.StatusMethodNotAllowed,
		http.MethodDelete: http.StatusMethodNotAllowed, http.MethodTrace: http.StatusMethodNotAllowed,
		http.MethodOptions: http.StatusMethodNotAllowed, http.MethodPatch: http.StatusMethodNotAllowed,
	} {
		req, _ := http.NewRequest(method, p.URL+"/ready", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s /ready: %d, want %d", method, resp.StatusCode, want)
		}
		if want == http.StatusMethodNotAllowed && resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s /ready: Allow %q, want GET, HEAD", method, resp.Header.Get("Allow"))
		}
	}
}

// TestLogin_LongUsernameFloodStaysSmall replays the attack that once took
// the server from 60 MB to over 1 GB: failed logins with huge usernames.
// 10,000 of them now leave the audit log's in-memory index, measured by its
// own accounting, within a few MB, and no part of a username in it.
func TestLogin_LongUsernameFloodStaysSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 logins")
	}
	p := startConformanceIdP(t)
	br := newBrowser(p)
	_, before := p.Audit.IndexStats()
	long := strings.Repeat("U", 4000)
	var id string
	for i := range 10_000 {
		if i%9 == 0 { // a sign-in request survives ten refused attempts
			id, _ = br.pendingLogin(t)
		}
		resp, _ := br.postLogin(t, loginForm(id, long, "x"))
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("attempt %d: %d, want 400", i, resp.StatusCode)
		}
	}
	_, after := p.Audit.IndexStats()
	if grown := after - before; grown > 8<<20 {
		t.Errorf("the audit index grew by %d bytes for 10,000 refused logins, want a few MB", grown)
	}
	if strings.Contains(auditJSON(t, p), "UUUUUUUU") {
		t.Error("a part of a refused username is in the audit log")
	}
}

// TestAuthorizeCallback_OnlyTheBrowserThatSignedIn: the code of a sign-in
// goes only to the browser that completed it. Whoever started the
// authorization request knows its ID (the login page's authRequestID);
// if a victim with an SSO session opens that login link, the request
// completes at once, and the starter must not be able to fetch the code
// from /authorize/callback?id= with its own (or no) cookies and redeem it
// with its own PKCE verifier. Each refusal is audited.
func TestAuthorizeCallback_OnlyTheBrowserThatSignedIn(t *testing.T) {
	p := startConformanceIdP(t)
	victim := newBrowser(p)
	victim.codeTokens(t) // alice signs in: the victim's browser has an SSO session

	attacker := newBrowser(p)
	verifier, challenge := pkce()
	params := authParams(callback, challenge)
	params.Set("client_id", "pub-client")
	resp, err := attacker.hc.Get(p.URL + "/authorize?" + params.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	id := loc.Query().Get("authRequestID")
	if id == "" {
		t.Fatalf("/authorize: %d %q, want the login page", resp.StatusCode, resp.Header.Get("Location"))
	}

	// The victim opens the login link: the SSO session completes the request.
	resp, err = victim.hc.Get(p.URL + "/login?authRequestID=" + url.QueryEscape(id))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || !strings.Contains(resp.Header.Get("Location"), "/authorize/callback?id=") {
		t.Fatalf("victim at /login: %d %q, want the redirect to the callback", resp.StatusCode, resp.Header.Get("Location"))
	}

	for name, br := range map[string]*browser{"without cookies": attacker, "with its own session": newBrowser(p)} {
		t.Run(name, func(t *testing.T) {
			if name == "with its own session" {
				br.codeTokens(t)
			}
			denied := audit.Filter{Type: audit.TypeLogin, Client: "pub-client", Outcome: audit.Denied}
			before := len(p.Audit.Query(denied))
			resp, err := br.hc.Get(p.URL + "/authorize/callback?id=" + url.QueryEscape(id))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			// The refusal is audited (since 2026-12-06): whose sign-in
			// another browser asked the code of.
			if evs := p.Audit.Query(denied); len(evs) != before+1 || evs[0].User != "alice" || evs[0].Error != "access_denied" || evs[0].Reason == "" {
				t.Errorf("denied logins of pub-client: %+v, want one more, alice's, access_denied, with a reason", evs)
			}
			back, _ := url.Parse(resp.Header.Get("Location"))
			if code := back.Query().Get("code"); code != "" {
				tokenResp, body := p.postToken(t, url.Values{"grant_type": {"authorization_code"}, "code": {code},
					"redirect_uri": {callback}, "code_verifier": {verifier}, "client_id": {"pub-client"}}, noAuth)
				t.Fatalf("another browser got the victim's code (%d), and redeemed it: %d %v", resp.StatusCode, tokenResp.StatusCode, body)
			}
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Errorf("status %d, want a 4xx", resp.StatusCode)
			}
		})
	}

	// The victim's own browser still gets its code.
	resp, err = victim.hc.Get(p.URL + "/authorize/callback?id=" + url.QueryEscape(id))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, _ := url.Parse(resp.Header.Get("Location"))
	if back == nil || back.Query().Get("code") == "" {
		t.Fatalf("the browser that signed in: %d %q, want the redirect with a code", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestAuthorize_RepeatedParameters: a parameter sent twice at /authorize
// is 400 invalid_request with no redirect (RFC 6749 section 3.1), since
// the IdP's redirect_uri check and op would otherwise read different
// copies: op reads the last, so an unregistered redirect_uri after a
// registered one would get the code.
func TestAuthorize_RepeatedParameters(t *testing.T) {
	p := startConformanceIdP(t)
	_, challenge := pkce()
	base := p.URL + "/authorize?" + authParams(callback, challenge).Encode()
	for name, extra := range map[string]string{
		"redirect_uri on another loopback host": "redirect_uri=" + url.QueryEscape("http://localhost/callback"),
		"redirect_uri with userinfo":            "redirect_uri=" + url.QueryEscape("http://evil.example@127.0.0.1/callback"),
		"redirect_uri over https":               "redirect_uri=" + url.QueryEscape("https://127.0.0.1/callback"),
		"empty redirect_uri":                    "redirect_uri=",
		"client_id":                             "client_id=other-client",
		"state":                                 "state=x",
	} {
		t.Run(name, func(t *testing.T) {
			for _, u := range []string{base + "&" + extra, strings.Replace(base, "?", "?"+extra+"&", 1)} {
				resp, err := newBrowser(p).hc.Get(u + "&prompt=none")
				if err != nil {
					t.Fatal(err)
				}
				var body map[string]any
				_ = json.NewDecoder(resp.Body).Decode(&body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_request" || resp.Header.Get("Location") != "" {
					t.Errorf("%s: %d %v Location %q, want 400 invalid_request and no redirect", u, resp.StatusCode, body, resp.Header.Get("Location"))
				}
			}
		})
	}
}

// TestUserinfo_Errors: userinfo refuses as RFC 6750 section 3.1 says (OIDC
// Core section 5.3.3): 401 with WWW-Authenticate, invalid_token in JSON
// for a token that is not live; 405 for a method other than GET and POST.
func TestUserinfo_Errors(t *testing.T) {
	p := startConformanceIdP(t)
	tokens := newBrowser(p).codeTokens(t)
	at := tokens["access_token"].(string)
	revoked := newBrowser(p).codeTokens(t)["access_token"].(string)
	req, _ := http.NewRequest(http.MethodPost, p.URL+"/revoke", strings.NewReader(url.Values{"token": {revoked}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("mcp-client", "s1")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %v %v", resp, err)
	}
	for _, c := range []struct {
		name, method, auth string
		status             int
		wantError          string
	}{
		{"a live token", http.MethodGet, "Bearer " + at, http.StatusOK, ""},
		{"a live token, lower-case scheme", http.MethodGet, "bearer " + at, http.StatusOK, ""},
		{"no token", http.MethodGet, "", http.StatusUnauthorized, "invalid_token"},
		{"Basic", http.MethodGet, "Basic YTpi", http.StatusUnauthorized, "invalid_token"},
		{"garbage", http.MethodGet, "Bearer abc", http.StatusUnauthorized, "invalid_token"},
		{"a revoked token", http.MethodGet, "Bearer " + revoked, http.StatusUnauthorized, "invalid_token"},
		{"DELETE", http.MethodDelete, "Bearer " + at, http.StatusMethodNotAllowed, "invalid_request"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, p.URL+"/userinfo", nil)
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode != c.status || (c.wantError != "" && body["error"] != c.wantError) {
				t.Fatalf("%d %v, want %d %s", resp.StatusCode, body, c.status, c.wantError)
			}
			if c.status == http.StatusOK && body["sub"] != "u-alice" {
				t.Errorf("claims %v, want alice's", body)
			}
			if c.status == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate %q, want a Bearer challenge", resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
}

// TestRevocation_Errors: revocation answers RFC 7009 section 2.2.1's
// errors: 401 invalid_client when the client does not authenticate (a bad
// client_assertion included), 400 invalid_request without a token, 405
// for another method than POST; an unknown token is 200.
func TestRevocation_Errors(t *testing.T) {
	p := startConformanceIdP(t)
	at := newBrowser(p).codeTokens(t)["access_token"].(string)
	const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	for _, c := range []struct {
		name, method string
		form         url.Values
		header       http.Header
		status       int
		wantError    string
	}{
		{"GET", http.MethodGet, url.Values{"token": {"x"}}, basicS1, http.StatusMethodNotAllowed, "invalid_request"},
		{"no client", http.MethodPost, url.Values{"token": {"x"}}, noAuth, http.StatusUnauthorized, "invalid_client"},
		{"a wrong secret", http.MethodPost, url.Values{"token": {"x"}}, basic("mcp-client", "s2"), http.StatusUnauthorized, "invalid_client"},
		{"a client_assertion that is no JWT", http.MethodPost,
			url.Values{"token": {"x"}, "client_assertion_type": {assertionType}, "client_assertion": {"garbage"}}, noAuth, http.StatusUnauthorized, "invalid_client"},
		{"an unsigned client_assertion", http.MethodPost,
			url.Values{"token": {"x"}, "client_assertion_type": {assertionType}, "client_assertion": {"eyJhbGciOiJub25lIn0.eyJpc3MiOiJtY3AtY2xpZW50In0."}}, noAuth, http.StatusUnauthorized, "invalid_client"},
		{"no token", http.MethodPost, url.Values{}, basicS1, http.StatusBadRequest, "invalid_request"},
		{"an unknown token", http.MethodPost, url.Values{"token": {"x"}}, basicS1, http.StatusOK, ""},
		{"its access token", http.MethodPost, url.Values{"token": {at}}, basicS1, http.StatusOK, ""},
		{"a public client as Basic with an empty password", http.MethodPost, url.Values{"token": {"x"}}, basic("pub-client", ""), http.StatusOK, ""},
		{"a public client as Basic with a password", http.MethodPost, url.Values{"token": {"x"}}, basic("pub-client", "x"), http.StatusUnauthorized, "invalid_client"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, p.URL+"/revoke", strings.NewReader(c.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range c.header {
				req.Header[k] = v
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode != c.status || (c.wantError != "" && body["error"] != c.wantError) {
				t.Errorf("%d %v, want %d %s", resp.StatusCode, body, c.status, c.wantError)
			}
		})
	}
	req, _ := http.NewRequest(http.MethodGet, p.URL+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+at)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("userinfo with the revoked access token: %v %v, want 401", resp, err)
	}
}

// TestExchange_UnauthorizedClientFirst: a client with token_exchange: false
// is refused unauthorized_client right after its authentication, whatever
// else the request holds (docs/http.md: "Processing, in order: client
// authentication, token_exchange permission, the parameters above, ...").
func TestExchange_UnauthorizedClientFirst(t *testing.T) {
	p := startConformanceIdP(t)
	alice := p.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid")["id_token"].(string)
	for name, form := range map[string]url.Values{
		"another client's ID token": exchangeForm(alice),
		"no JWT as subject":         exchangeForm("abc"),
		"no subject":                {"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}},
	} {
		t.Run(name, func(t *testing.T) {
			resp, body := p.postToken(t, form, basic("other-client", "s2"))
			checkOAuthError(t, resp, body, http.StatusBadRequest, "unauthorized_client")
		})
	}
}

// TestOPGrants_AmbiguousClientIsRefused: the code and refresh grants refuse a request that names
// two clients (Basic of one, client_id of another in the body) or authenticates twice, as the
// token exchange does, before the code or refresh token is looked at: zitadel would take one of
// the two and answer for it.
func TestOPGrants_AmbiguousClientIsRefused(t *testing.T) {
	p := startConformanceIdP(t)
	tok := p.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid", "offline_access")
	refresh, _ := tok["refresh_token"].(string)
	if refresh == "" {
		t.Fatalf("no refresh token: %v", tok)
	}
	for name, c := range map[string]struct {
		form   url.Values
		header http.Header
	}{
		"refresh, Basic of one client and client_id of another": {
			url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {"pub-client"}}, basicS1},
		"refresh, Basic and client_secret": {
			url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_secret": {"s1"}}, basicS1},
		"code, Basic of one client and client_id of another": {
			url.Values{"grant_type": {"authorization_code"}, "code": {"any"}, "redirect_uri": {callback}, "client_id": {"pub-client"}}, basicS1},
	} {
		t.Run(name, func(t *testing.T) {
			resp, body := p.postToken(t, c.form, c.header)
			checkOAuthError(t, resp, body, http.StatusBadRequest, "invalid_request")
			if d, _ := body["error_description"].(string); !strings.Contains(d, "client") {
				t.Errorf("error_description %q does not say what is wrong with the client", d)
			}
		})
	}
	// The refresh token was not spent by the refusals: the unambiguous request still works.
	resp, body := p.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, basicS1)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("refresh after the refusals: %d %v", resp.StatusCode, body)
	}
}

// TestAuthorize_RefusalsThatCannotRedirectAreJSON: an authorization request that cannot go back to
// its client is answered 400 in JSON, without a redirect, whatever is wrong with it (zitadel
// answers those it refuses itself in plain text): invalid_client for a client_id the IdP does not
// know, invalid_request otherwise; another method than GET and POST is 405.
func TestAuthorize_RefusalsThatCannotRedirectAreJSON(t *testing.T) {
	p := startConformanceIdP(t)
	_, challenge := pkce()
	for name, c := range map[string]struct {
		edit       func(url.Values)
		says, code string
	}{
		"no client_id":             {del("client_id"), "client_id is missing", "invalid_request"},
		"an unknown client_id":     {set("client_id", "no-such-client"), `'no-such-client' is not registered`, "invalid_client"},
		"no redirect_uri":          {del("redirect_uri"), "redirect_uri is missing", "invalid_request"},
		"max_age not a number":     {set("max_age", "abc"), "max_age", "invalid_request"},
		"max_age negative":         {set("max_age", "-1"), "max_age", "invalid_request"},
		"max_age beyond an uint64": {set("max_age", "99999999999999999999"), "max_age", "invalid_request"},
	} {
		t.Run(name, func(t *testing.T) {
			params := authParams(callback, challenge)
			c.edit(params)
			resp, err := newBrowser(p).hc.Get(p.URL + "/authorize?" + params.Encode())
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]string
			decodeErr := json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || decodeErr != nil || body["error"] != c.code || resp.Header.Get("Location") != "" {
				t.Fatalf("%d %s %v (%v) Location %q, want 400 %s in JSON and no redirect",
					resp.StatusCode, resp.Header.Get("Content-Type"), body, decodeErr, resp.Header.Get("Location"), c.code)
			}
			if !strings.Contains(body["error_description"], c.says) {
				t.Errorf("error_description %q, want it to say %q", body["error_description"], c.says)
			}
		})
	}
	t.Run("PUT", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPut, p.URL+"/authorize?"+authParams(callback, challenge).Encode(), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, POST" {
			t.Errorf("PUT /authorize: %d, Allow %q, want 405 and GET, POST", resp.StatusCode, resp.Header.Get("Allow"))
		}
	})
	// A good max_age still goes to the login page.
	params := authParams(callback, challenge)
	params.Set("max_age", "300")
	resp, err := newBrowser(p).hc.Get(p.URL + "/authorize?" + params.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || !strings.Contains(resp.Header.Get("Location"), "/login?authRequestID=") {
		t.Errorf("max_age=300: %d %q, want the login page", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestEndSession_ForgottenSessionsFailClosed: when more sessions end within an ID token's lifetime
// than the IdP remembers (a flood of logouts from one account, to push a victim's logged-out
// session out), the exchange refuses every ID token of a session issued before the last one was
// forgotten, the victim's stolen one included, rather than take it for live again; a token of a
// session that starts afterwards still works.
func TestEndSession_ForgottenSessionsFailClosed(t *testing.T) {
	defer idp.SetMaxEndedSessions(3)()
	f := &fixture{testIdP: startConformanceIdP(t)}
	endSession := func(br *browser) {
		t.Helper()
		resp, err := br.signOut(f.URL + "/end_session")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	victim := newBrowser(f.testIdP)
	stolen := victim.codeTokens(t)["id_token"].(string)
	live := newBrowser(f.testIdP).codeTokens(t)["id_token"].(string) // a session that does not end
	endSession(victim)
	f.expectRefusal(t, refusal{form: b(stolen), code: "invalid_grant", outcome: audit.Error})

	for range 3 { // the attacker's logouts: one more than the victim's leaves room for
		br := newBrowser(f.testIdP)
		br.codeTokens(t)
		endSession(br)
	}
	f.expectRefusal(t, refusal{form: b(stolen), code: "invalid_grant", outcome: audit.Error})
	// Failing closed costs the live session's older token too; a new login works.
	f.expectRefusal(t, refusal{form: b(live), code: "invalid_grant", outcome: audit.Error})
	time.Sleep(time.Second) // iat has whole seconds: the new token's must be after the floor
	fresh := newBrowser(f.testIdP).codeTokens(t)["id_token"].(string)
	f.expectIDJAG(t, grantCase{form: b(fresh), header: basicS1, sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read"})
}

// TestCodeGrant_CodeVerifierForm: code_verifier must be 43 to 128
// characters of the unreserved set (RFC 7636 section 4.1), even when its
// S256 hash matches the challenge: a shorter one is guessable, and a client
// sending it is broken. A malformed verifier is invalid_request, and the
// code is left for the right one.
func TestCodeGrant_CodeVerifierForm(t *testing.T) {
	p := startConformanceIdP(t)
	for _, c := range []struct {
		name, verifier string
		ok             bool
	}{
		{"43 characters", strings.Repeat("a", 43), true},
		{"128 unreserved characters", strings.Repeat("aZ9-._~", 18) + "ab", true},
		{"1 character", "a", false},
		{"42 characters", strings.Repeat("a", 42), false},
		{"129 characters", strings.Repeat("a", 129), false},
		{"a space", strings.Repeat("a", 42) + " ", false},
		{"a reserved character", strings.Repeat("a", 42) + "+", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			sum := sha256.Sum256([]byte(c.verifier))
			br := newBrowser(p)
			res := br.authorize(t, authParams(callback, base64.RawURLEncoding.EncodeToString(sum[:])), "alice", "alice-pw")
			code := res.location.Query().Get("code")
			resp, body := p.postToken(t, url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {callback}, "code_verifier": {c.verifier}}, basicS1)
			if c.ok {
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("%d %v, want 200", resp.StatusCode, body)
				}
				return
			}
			checkOAuthError(t, resp, body, http.StatusBadRequest, "invalid_request")
		})
	}
}

// TestHealthz_SaysWhenTheAuditLogTakesNoMore: with its audit log unable to take events (here
// closed; a failed fsync does the same, see audit.Log.Err), every login and token would fail, and
// /healthz says so with 503, so that a container's health check restarts the IdP.
func TestHealthz_SaysWhenTheAuditLogTakesNoMore(t *testing.T) {
	p := startConformanceIdP(t)
	get := func() (int, string) {
		resp, err := http.Get(p.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get(); code != http.StatusOK || body != "ok\n" {
		t.Fatalf("a healthy IdP: %d %q", code, body)
	}
	if err := p.Audit.Close(); err != nil {
		t.Fatal(err)
	}
	if code, body := get(); code != http.StatusServiceUnavailable || !strings.Contains(body, "audit log") {
		t.Errorf("with its audit log closed: %d %q, want 503 naming the audit log", code, body)
	}
}

// TestOPEndpoints_QueryOfAPostIsNotActedOn: the revocation endpoint and
// the code and refresh grants check the body's parameters (RFC 6749
// section 3.2, RFC 7009 section 2.1: the parameters are in the body) and
// hand the request to zitadel, which reads the query too, and takes its
// value when a parameter is in both. A token in the query of a POST must
// not be what is revoked or redeemed.
func TestOPEndpoints_QueryOfAPostIsNotActedOn(t *testing.T) {
	p := startConformanceIdP(t)
	refreshToken := func(t *testing.T) string {
		t.Helper()
		tok := p.login(t, "pub-client", "", "alice", "alice-pw", "openid", "offline_access")
		refresh, _ := tok["refresh_token"].(string)
		if refresh == "" {
			t.Fatalf("no refresh token: %v", tok)
		}
		return refresh
	}
	post := func(t *testing.T, path string, query, form url.Values) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, p.URL+path+"?"+query.Encode(), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil && resp.StatusCode != http.StatusOK {
			t.Fatalf("%s answered %d with a non-JSON body: %v", path, resp.StatusCode, err)
		}
		return resp.StatusCode, body
	}
	// stillWorks: the request neither spent nor revoked refresh.
	stillWorks := func(t *testing.T, refresh string) {
		t.Helper()
		resp, body := p.postToken(t, url.Values{"grant_type": {"refresh_token"}, "client_id": {"pub-client"}, "refresh_token": {refresh}}, nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("refresh after the request with a query: %d %v", resp.StatusCode, body)
		}
	}

	t.Run("refresh_token in the query", func(t *testing.T) {
		refresh := refreshToken(t)
		status, body := post(t, "/oauth/token", url.Values{"refresh_token": {refresh}},
			url.Values{"grant_type": {"refresh_token"}, "client_id": {"pub-client"}, "refresh_token": {"not-a-refresh-token"}})
		if status != http.StatusBadRequest || body["error"] != "invalid_grant" || body["access_token"] != nil {
			t.Errorf("%d %v, want 400 invalid_grant for the body's refresh token", status, body)
		}
		stillWorks(t, refresh)
	})
	t.Run("token in the query of /revoke", func(t *testing.T) {
		for _, header := range []http.Header{noAuth, basic("pub-client", "")} {
			refresh := refreshToken(t)
			form := url.Values{"token": {"not-a-token"}}
			if len(header) == 0 {
				form.Set("client_id", "pub-client")
			}
			req, _ := http.NewRequest(http.MethodPost, p.URL+"/revoke?"+url.Values{"token": {refresh}}.Encode(), strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range header {
				req.Header[k] = v
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("Basic %v: %d, want 200 for the body's unknown token", len(header) > 0, resp.StatusCode)
			}
			stillWorks(t, refresh)
		}
	})
}

// TestAuthorizeCallback_UnknownRequest: a callback for a sign-in request
// the IdP does not know (expired, or made up) gets the login page's
// answer, not op's, which logged an error for each request.
func TestAuthorizeCallback_UnknownRequest(t *testing.T) {
	p := startConformanceIdP(t)
	resp, err := newBrowser(p).hc.Get(p.URL + "/authorize/callback?id=no-such-request")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(body), "unknown or has expired") || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("%d %s %q, want the login page's 400", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

// TestLoggedOut_IsNoDeadEnd: the page a sign-out lands on leads back: to
// signing in again (My MCP servers) and to the IdP's landing page.
func TestLoggedOut_IsNoDeadEnd(t *testing.T) {
	p := startConformanceIdP(t)
	resp, err := http.Get(p.URL + "/logged-out")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, link := range []string{`href="` + p.URL + `/apps"`, `href="` + p.URL + `/"`} {
		if !strings.Contains(string(body), link) {
			t.Errorf("/logged-out lacks %s:\n%s", link, body)
		}
	}
}

// TestAuthorize_ParametersBounded: an authorization request's parameters
// are kept while it waits for its login (up to security.max_pending_logins
// of them, 10 minutes each), so their size is bounded before they are
// stored: over idp.MaxAuthorizeParamBytes is 400 invalid_request JSON
// with no redirect (the oversized state is not sent back) and takes no
// pending slot; a request at the bound is served as usual.
func TestAuthorize_ParametersBounded(t *testing.T) {
	cfg := conformanceConfig(t)
	cfg.Security.MaxPendingLogins = 2
	p := startIdP(t, cfg)
	_, challenge := pkce()
	sized := func(total int) url.Values {
		q := authParams(callback, challenge)
		q.Del("state")
		n := len("state")
		for k, vs := range q {
			for _, v := range vs {
				n += len(k) + len(v)
			}
		}
		q.Set("state", strings.Repeat("s", total-n))
		return q
	}
	get := func(q url.Values) (*http.Response, map[string]any) {
		t.Helper()
		resp, err := newBrowser(p).hc.Get(p.URL + "/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp, body
	}
	for _, total := range []int{idp.MaxAuthorizeParamBytes + 1, 60 << 10} {
		for range 3 {
			resp, body := get(sized(total))
			if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_request" || resp.Header.Get("Location") != "" {
				t.Fatalf("parameters of %d bytes: %d %v Location %q, want 400 invalid_request and no redirect", total, resp.StatusCode, body, resp.Header.Get("Location"))
			}
			if desc, _ := body["error_description"].(string); strings.Contains(desc, "sss") {
				t.Errorf("the description echoes the parameters: %q", desc)
			}
		}
	}
	for i, q := range []url.Values{sized(idp.MaxAuthorizeParamBytes), authParams(callback, challenge)} {
		if resp, body := get(q); resp.StatusCode != http.StatusFound {
			t.Errorf("request %d within the bound: %d %v, want 302 (the refused ones took no pending slot)", i+1, resp.StatusCode, body)
		}
	}
}

// TestStores_ReplayCachesReturnToIdle: the client assertions and DPoP
// proofs remembered against replay leave memory when they expire, swept
// as every store is, and /metrics shows them. They were purged only by
// the next assertion or proof, so an IdP whose private_key_jwt or DPoP
// clients went quiet kept the memory of their busiest hour (up to 100,000
// assertions), unseen.
func TestStores_ReplayCachesReturnToIdle(t *testing.T) {
	clock := idp.NewClock(nil)
	p := startJWTClientIdP(t, func(o *idp.Options) { o.Clock, o.SweepInterval = clock, 5*time.Millisecond })
	p.loginAlice(t)
	f := &fixture{testIdP: p.testIdP}
	alice := newBrowser(p.testIdP).codeTokens(t)["id_token"].(string)
	f.expectIDJAG(t, grantCase{form: b(alice), header: f.dpopHeader(t, proof{key: newP256(t)}),
		sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read"})
	series := []string{`xaa_idp_store_entries{store="used_assertions"}`, `xaa_idp_store_entries{store="used_dpop_proofs"}`}
	got := scrape(t, p.URL)
	for _, s := range series {
		if n, ok := got[s]; !ok || n != 1 {
			t.Errorf("%s = %v (published: %v) after one use, want 1", s, n, ok)
		}
	}
	clock.Advance(25 * time.Hour)
	deadline := time.Now().Add(60 * time.Second)
	for _, s := range series {
		for scrape(t, p.URL)[s] != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%s = %v after expiry and sweeps, want 0", s, scrape(t, p.URL)[s])
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// TestStores_CIMDCachesArePublished: the metadata documents cached and
// the failing client_id URLs remembered are counted on /metrics, and the
// sweeper forgets them once expired (cimd.Resolver.Sweep, on the wall
// clock their Cache-Control counts on).
func TestStores_CIMDCachesArePublished(t *testing.T) {
	f := startCIMD(t, func(o *idp.Options) { o.SweepInterval = 5 * time.Millisecond })
	for _, id := range []string{f.public, f.docs.URL + "/missing.json"} {
		q := url.Values{"response_type": {"code"}, "client_id": {id}, "redirect_uri": {"http://127.0.0.1/callback"},
			"code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}
		resp, err := noRedirects.Get(f.URL + "/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	got := scrape(t, f.URL)
	for _, s := range []string{"cimd_documents", "cimd_failures"} {
		k := `xaa_idp_store_entries{store="` + s + `"}`
		if n, ok := got[k]; !ok || n != 1 {
			t.Errorf("%s = %v (published: %v), want 1", k, n, ok)
		}
	}
}

// TestStores_LoginThrottleReturnsToIdle: the usernames the login
// throttle tracks leave it once forgotten (throttle.Forget after their
// last failure), swept as every store is, and /metrics counts them; a
// flood of made-up usernames was kept until the next login attempt.
func TestStores_LoginThrottleReturnsToIdle(t *testing.T) {
	var ahead atomic.Int64 // the throttle's wall clock, moved by the test
	th := throttle.New(throttle.Options{Now: func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }})
	p := startIdP(t, conformanceConfig(t), func(o *idp.Options) { o.LoginThrottle, o.SweepInterval = th, 5*time.Millisecond })
	br := newBrowser(p)
	for _, u := range []string{"ghost-1", "ghost-2", "ghost-3"} {
		id, _ := br.pendingLogin(t)
		if resp, _ := br.postLogin(t, loginForm(id, u, "nope")); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a login as %s: %d, want 401", u, resp.StatusCode)
		}
	}
	const series = `xaa_idp_store_entries{store="login_throttle"}`
	if n, ok := scrape(t, p.URL)[series]; !ok || n != 3 {
		t.Fatalf("%s = %v (published: %v) after three failed usernames, want 3", series, n, ok)
	}
	ahead.Store(int64(throttle.Forget + time.Second))
	deadline := time.Now().Add(60 * time.Second)
	for scrape(t, p.URL)[series] != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v once forgotten and swept, want 0", series, scrape(t, p.URL)[series])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
