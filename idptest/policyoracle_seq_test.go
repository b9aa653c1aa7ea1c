package idptest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"math/rand"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/app"
	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/idptest"
	"github.com/xaa-idp/xaa-idp/policy"
	"github.com/xaa-idp/xaa-idp/push"
)

// seqStack is the IdP as serve runs it with a configuration file: the
// admin API edits the file (access requests are approved through it), and
// a file changed on disk is reloaded (README "Configuration"; docs/http.md,
// "Changing the configuration"), which idptest's in-memory server has not.
type seqStack struct {
	t     *testing.T
	file  string
	store *policy.Store
	idp   *idp.Server
	clock *idp.Clock
	log   *audit.Log // the tenant's view of the log, under tenants
	http  *httptest.Server
	// tenant is the tenant's id and path its issuer's path, under tenants
	// (README "Several issuers"); "" without.
	tenant, path string
	// whole is the whole file as the sequences' configurations make it,
	// which a reload writes.
	whole func() string
}

func startSeqStack(t *testing.T, clock *idp.Clock, yaml string) *seqStack {
	t.Helper()
	file := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := policy.OpenStore(file)
	if err != nil {
		t.Fatalf("the configuration has problems: %v\n%s", err, yaml)
	}
	log, err := audit.Open(audit.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	srv, err := idp.New(idp.Options{Config: store.Config(), Issuer: "http://" + ts.Listener.Addr().String(), Audit: log, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	pusher, err := push.New(push.Options{Issuer: srv.Issuer(), Signer: srv, Audit: srv.Audit(), Config: store.Config(), Now: srv.Now})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = app.New(app.Options{IdP: srv, Push: pusher, Store: store})
	ts.Start()
	t.Cleanup(func() {
		ts.Close()
		pusher.Close()
		srv.Close()
		log.Close()
	})
	return &seqStack{t: t, file: file, store: store, idp: srv, clock: clock, log: log, http: ts}
}

func (s *seqStack) Issuer() string { return s.idp.Issuer() }

func (s *seqStack) Audit(f audit.Filter) []audit.Event { return s.log.Query(f) }

// reload replaces the file (write, rename) and has the store look at it
// until it runs the new version, as its watcher would.
func (s *seqStack) reload() {
	s.t.Helper()
	yaml := s.whole()
	tmp := s.file + ".new"
	if err := os.WriteFile(tmp, []byte(yaml), 0o600); err != nil {
		s.t.Fatal(err)
	}
	if err := os.Rename(tmp, s.file); err != nil {
		s.t.Fatal(err)
	}
	want := policy.Version([]byte(yaml))
	for range 100 {
		if s.store.Version() == want {
			return
		}
		s.store.CheckFile()
	}
	s.t.Fatalf("the file was not reloaded: %+v\n%s", s.store.Status(), yaml)
}

func (s *seqStack) login(c ocClient, user string) idptest.Tokens {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := idpclient.Login(ctx, idpclient.LoginOptions{Issuer: s.Issuer(), ClientID: c.id, ClientSecret: c.secret, Username: user, Password: user})
	if err != nil {
		s.t.Fatalf("login as %s through %s: %v", user, c.id, err)
	}
	at, _ := tok["access_token"].(string)
	return idptest.Tokens{ClientID: c.id, IDToken: tok.IDToken(), AccessToken: at, RefreshToken: tok.RefreshToken()}
}

// The contract oracle over time: TestPolicyOracle_Sequences runs random
// sequences of steps on one random configuration each, and after every
// token exchange holds the real IdP to the oracle's decision (decide, as
// in TestPolicyOracle_TokenExchange) on the configuration the steps made.
// The steps, each done as a user or an admin does it, and what the
// oracle takes from the documents alone:
//
//   - a login, and a refresh of one (docs/http.md, "Refresh": a new ID
//     token of the same login, whose auth_time stays the login's;
//     docs/configuration.md, "Decision rules": step-up counts from it);
//   - an access request (docs/http.md, "Access requests": POST
//     /me/access-requests; 403 when a deny entry names the user, 409 while
//     one of the user for that server is pending), its approval for a while
//     or for good (docs/http.md, "Access requests (approver)": the entry
//     {users: [user], scopes, expires}, the replacing and pruning rules) or
//     its denial; the access-request and admin_change events (docs/audit.md);
//     (an approval adding a scope not requested is 400 invalid_scope, one
//     of a request already decided 409);
//   - an access request made by the user on "My MCP servers" (docs/http.md,
//     "/apps": signed in through the login page, the page's form with its
//     CSRF token; a form only for a server that does not deny the user and
//     has no request of theirs pending; refused as the API refuses, every
//     scope unchecked 400; a request made a 303 to /apps?requested=), and
//     a request decided with the console's forms on its overview (README
//     "Request, approve, revoke": signed in as an admin, the page's CSRF
//     token and version; 1h, 8h, 24h, 7 days or never, scopes narrowed,
//     every scope unchecked deciding nothing), held to the same rules;
//   - a revocation: an admin removes an access entry (PUT
//     /admin/api/servers/{id}/access);
//   - a login's grant revoked (docs/http.md, "refresh_token",
//     "Revocation"): a rotated refresh token that comes back, at the
//     refresh grant or as a subject, or a refresh token revoked at /revoke;
//     every token of that login is then invalid_grant;
//   - /me/mcp-servers read with a login's access token (docs/http.md): the
//     decision without scope, for each server that lists the client;
//   - the clock moving on (docs/configuration.md, "Time-bound access");
//   - a change of the configuration, through the admin API (PATCH of a
//     user, SCIM's active, PUT of a server's deny list) or a reload (the whole file): a
//     deny entry added or removed, a user disabled or enabled, a user's
//     groups changed, each decided by the next request; a user disabled
//     ends every login of theirs before it for good (docs/configuration.md,
//     users[].disabled: invalid_grant once enabled again);
//   - exchanges with the scope parameter as clients send it (docs/http.md,
//     "Token exchange": repeats, order, white space, empty, unknown, long
//     and malformed scopes);
//   - a group changed through SCIM (docs/http.md, "SCIM provisioning",
//     "Groups"): a member added or removed by PATCH (one who is not a
//     member: 200, nothing removed), the group deleted (out of its
//     members and of every access and deny entry, an entry left naming no
//     user and no group removed), a group created with a member;
//   - under exchange.single_use_subject (docs/configuration.md, "exchange"),
//     an ID token exchanged twice for one server: the second allowed by the
//     policy is invalid_grant; a refused one spends nothing (docs/http.md:
//     the single-use check comes after the policy decision), a refresh
//     token as the subject stays reusable.
//
// XAA_POLICY_ORACLE_SEQUENCES=N runs N sequences instead of the CI's few;
// XAA_POLICY_ORACLE_SEED picks another seed.
func TestPolicyOracle_Sequences(t *testing.T) {
	sequences, seed := oracleRuns(t, "XAA_POLICY_ORACLE_SEQUENCES", 24, 20261207)
	const steps = 90
	whys := map[string]int{}
	fails := 0
	seeds := rand.New(rand.NewSource(seed))
	for range sequences {
		sq := newSequence(t, seeds.Int63(), whys)
		for i := range steps {
			sq.step(i)
		}
		fails += sq.fails
	}
	if fails > 0 {
		t.Errorf("%d steps of %d disagree with the contract oracle (seed %d)", fails, sequences*steps, seed)
	}
	t.Logf("the sequences' steps and decisions: %v", whys)
	for _, why := range []string{"allowed", "approved", "request denied", "revoked", "refreshed", "reloaded",
		"disabled", "ended login refused", "single-use second exchange", "malformed scope", "found an expired entry",
		"an approved entry granted", "an approved entry expired", "revoked a login", "revoked login refused", "assigned servers read",
		"SCIM member added", "SCIM member removed", "SCIM group deleted", "apps request made", "console decided"} {
		if whys[why] == 0 && sequences >= 16 {
			t.Errorf("no step of seed %d was %q: the random sequences miss a rule", seed, why)
		}
	}
}

// seqLogin is one login (or the refresh of one) the sequence holds.
type seqLogin struct {
	user      int
	client    string
	tok       idptest.Tokens
	at        time.Time // the login's time: auth_time, also after a refresh
	atIssued  time.Time // when its access token was issued
	ended     bool      // its user was disabled since (docs/configuration.md, users[].disabled)
	refreshed bool      // its ID token came from a refresh grant
	used      map[string]bool
	grant     *seqGrant // shared by a login and its refreshes
}

// seqGrant is one login's grant, through every rotation of its refresh
// token (docs/http.md, "refresh_token").
type seqGrant struct {
	rotated []string // refresh tokens rotated away
	// revoked: a rotated refresh token came back, or one was revoked at
	// /revoke; every token of the login is then refused (invalid_grant).
	revoked bool
}

type seqPending struct {
	id, user, server string
	scopes           []string
}

type sequence struct {
	t        *testing.T
	seed     int64
	r        *rand.Rand
	srv      *seqStack
	cfg      *ocConfig
	start    time.Time
	now      time.Time
	endpoint string
	keys     jose.JSONWebKeySet
	logins   []*seqLogin
	pending  []seqPending
	decided  []string // the ids of requests approved or denied
	// ever holds every access entry each server had, for the count of
	// expired events (one per entry).
	ever  map[string][]ocAccess
	whys  map[string]int
	fails int
	log   []string // the steps so far, for failure messages
}

func newSequence(t *testing.T, seed int64, whys map[string]int) *sequence {
	t.Helper()
	clock := idp.NewClock(nil)
	clock.Freeze()
	r := rand.New(rand.NewSource(seed))
	cfg := seqConfig(r, clock)
	srv := startSeqStack(t, clock, cfg.yaml(false))
	sq := sequenceOn(t, seed, r, srv, cfg, whys)
	srv.whole = func() string { return sq.cfg.yaml(false) }
	return sq
}

// seqConfig draws a sequence's configuration, its clock frozen at a whole
// second.
func seqConfig(r *rand.Rand, clock *idp.Clock) *ocConfig {
	now := clock.Now().Truncate(time.Second)
	clock.Set(now)
	cfg := randomConfig(r, now, "")
	cfg.singleUse = r.Intn(2) == 0
	cfg.clients[0].tokenExchange = true // a sequence of unauthorized_client alone decides nothing
	return cfg
}

// sequenceOn starts a sequence on cfg, which srv runs.
func sequenceOn(t *testing.T, seed int64, r *rand.Rand, srv *seqStack, cfg *ocConfig, whys map[string]int) *sequence {
	t.Helper()
	now := srv.clock.Now()
	sq := &sequence{t: t, seed: seed, r: r, srv: srv, cfg: cfg, start: now, now: now, whys: whys, ever: map[string][]ocAccess{}}
	md := discoverForOracle(t, srv.Issuer())
	sq.endpoint, sq.keys = md.TokenEndpoint, fetchJWKS(t, md)
	for _, s := range cfg.servers {
		sq.ever[s.id] = append(sq.ever[s.id], s.access...)
	}
	return sq
}

func (sq *sequence) fail(format string, args ...any) {
	sq.t.Helper()
	sq.fails++
	if sq.fails <= 3 {
		last := sq.log
		if len(last) > 12 {
			last = last[len(last)-12:]
		}
		sq.t.Errorf("seed %d step %d (clock %s): %s\nlast steps:\n  %s\nconfig:\n%s", sq.seed, len(sq.log)-1,
			sq.now.Format(time.RFC3339), fmt.Sprintf(format, args...), strings.Join(last, "\n  "), sq.cfg.yaml(false))
	}
}

func (sq *sequence) note(format string, args ...any) {
	sq.log = append(sq.log, fmt.Sprintf(format, args...))
}

func (sq *sequence) step(i int) {
	sq.t.Helper()
	if i < 3 || len(sq.logins) == 0 {
		sq.login()
		return
	}
	switch n := sq.r.Intn(100); {
	case n < 40:
		sq.exchange()
	case n < 48:
		sq.login()
	case n < 55:
		sq.refresh()
	case n < 62:
		sq.advance()
	case n < 68:
		sq.request()
	case n < 72:
		sq.appsRequest()
	case n < 80:
		sq.decide()
	case n < 85:
		sq.revoke()
	case n < 89:
		sq.revokeGrant()
	case n < 93:
		sq.assigned()
	case n < 96:
		sq.scim()
	default:
		sq.reconfigure()
	}
}

func (sq *sequence) login() {
	sq.t.Helper()
	var enabled []int
	for i, u := range sq.cfg.users {
		if !u.disabled {
			enabled = append(enabled, i)
		}
	}
	if len(enabled) == 0 {
		return
	}
	u := enabled[sq.r.Intn(len(enabled))]
	cl := sq.cfg.clients[sq.r.Intn(len(sq.cfg.clients))]
	sq.note("login %s via %s", sq.cfg.users[u].name, cl.id)
	tok := sq.srv.login(cl, sq.cfg.users[u].name)
	sq.logins = append(sq.logins, &seqLogin{user: u, client: cl.id, tok: tok, at: sq.now, atIssued: sq.now, used: map[string]bool{}, grant: &seqGrant{}})
}

// refresh: docs/http.md "Refresh": a new ID token and refresh token (the
// old one rotated out); a login ended since is invalid_grant.
func (sq *sequence) refresh() {
	sq.t.Helper()
	l := sq.logins[sq.r.Intn(len(sq.logins))]
	if l.tok.RefreshToken == "" {
		return
	}
	cl := sq.cfg.client(l.client)
	sq.note("refresh the login of %s via %s (ended %t)", sq.cfg.users[l.user].name, l.client, l.ended)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := idpclient.Refresh(ctx, idpclient.RefreshOptions{TokenEndpoint: sq.endpoint, ClientID: l.client, ClientSecret: cl.secret, RefreshToken: l.tok.RefreshToken})
	ended := l.ended || sq.cfg.users[l.user].disabled || l.grant.revoked
	var oe *idpclient.Error
	switch {
	case ended && errors.As(err, &oe) && oe.Code == "invalid_grant":
		l.tok.RefreshToken = ""
		sq.whys["ended login refused"]++
		return
	case ended:
		sq.fail("the refresh of a login whose user was disabled since, or whose grant was revoked: %v, want invalid_grant", err)
		return
	case err != nil:
		sq.fail("refresh: %v", err)
		return
	}
	sq.whys["refreshed"]++
	at, _ := res["access_token"].(string)
	l.grant.rotated = append(l.grant.rotated, l.tok.RefreshToken)
	nl := &seqLogin{user: l.user, client: l.client, at: l.at, atIssued: sq.now, refreshed: true, used: map[string]bool{}, grant: l.grant,
		tok: idptest.Tokens{ClientID: l.client, IDToken: res.IDToken(), AccessToken: at, RefreshToken: res.RefreshToken()}}
	if nl.tok.IDToken == "" || nl.tok.RefreshToken == "" {
		sq.fail("the refresh answered no id_token or refresh_token: %v", res)
		return
	}
	l.tok.RefreshToken = "" // rotated out
	sq.logins = append(sq.logins, nl)
}

func (sq *sequence) advance() {
	if sq.now.Sub(sq.start) > 4*time.Hour {
		return
	}
	d := []time.Duration{time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, 40 * time.Minute}[sq.r.Intn(5)]
	sq.note("advance %s", d)
	sq.now = sq.now.Add(d)
	sq.srv.clock.Set(sq.now)
}

// rawScopes: the scope parameter as clients send it.
func (sq *sequence) rawScope(s *ocServer) string {
	r := sq.r
	pick := func() string { return s.scopes[r.Intn(len(s.scopes))] }
	switch r.Intn(12) {
	case 0:
		return ""
	case 1:
		return "   "
	case 2:
		return pick() + " " + pick() + " " + pick()
	case 3:
		return "  " + pick() + "\t\t" + pick() + "\n"
	case 4:
		rev := slices.Clone(s.scopes)
		slices.Reverse(rev)
		return strings.Join(rev, " ")
	case 5:
		return strings.ToUpper(pick())
	case 6:
		return pick() + " " + strings.Repeat("x", 600+r.Intn(3000))
	case 7:
		return strings.Repeat("y", 600+r.Intn(3000))
	case 8:
		return strconv.Quote(pick()) + " " + pick()
	case 9:
		return pick() + "\u00a0" + pick()
	case 10:
		return pick() + " sc\u00e9"
	default:
		return pick() + ` a\b`
	}
}

func (sq *sequence) exchange() {
	sq.t.Helper()
	l := sq.pickLogin()
	q := sq.cfg.randomRequest(sq.r)
	q.user, q.client = l.user, l.client
	if sq.r.Intn(20) == 0 {
		q.client = ocUnknownClient
	}
	if q.refresh && l.tok.RefreshToken == "" {
		q.refresh = false
	}
	if sq.r.Intn(3) == 0 {
		s := sq.cfg.serverFor(q.audience)
		if s == nil {
			s = &sq.cfg.servers[0]
		}
		q.raw, q.rawSet = sq.rawScope(s), true
		q.scopes, q.scopeSent = nil, false
	}
	authAge := sq.now.Sub(l.at)
	want := sq.cfg.decide(q, sq.now, authAge)
	if want.malformed != "" {
		sq.whys["malformed scope"]++
	}
	if want.err == "" {
		for _, i := range want.rules {
			if strings.Contains(i, "access[") && sq.approvedRule(want.server, i) {
				sq.whys["an approved entry granted"]++
				break
			}
		}
	}
	// A login ended by its user's disabling: while the user is disabled
	// the policy refuses it (access_denied); once enabled again it is
	// invalid_grant (docs/configuration.md, users[].disabled). The
	// client's authentication and permission come first (docs/http.md,
	// "Token exchange": processing order).
	checkExplain := true
	pre := want.err == "invalid_client" || want.err == "unauthorized_client" || want.malformed != ""
	if l.ended && !l.grant.revoked && !sq.cfg.users[q.user].disabled && !pre {
		// The subject token is refused before the policy resolves the
		// audience: the event names no server (docs/audit.md).
		want = ocWant{err: "invalid_grant", status: http.StatusBadRequest, outcome: "error", why: "ended login"}
		checkExplain = false
		sq.whys["ended login refused"]++
	}
	// A revoked login's tokens, ID tokens too, are invalid_grant
	// (docs/http.md, "refresh_token"), the subject token checked before
	// the policy: a disabled user's too.
	if l.grant.revoked && !pre {
		want = ocWant{err: "invalid_grant", status: http.StatusBadRequest, outcome: "error", why: "revoked login"}
		checkExplain = false
		sq.whys["revoked login refused"]++
	}
	// Single use: after the policy, for an ID token (docs/http.md).
	usedKey := ""
	if sq.cfg.singleUse && want.err == "" && !q.refresh {
		usedKey = want.server
		if l.used[usedKey] {
			want = ocWant{err: "invalid_grant", status: http.StatusBadRequest, outcome: "error", server: want.server, why: "single use"}
			checkExplain = false
			sq.whys["single-use second exchange"]++
		}
	}
	sq.whys[want.why]++
	if len(want.expired) > 0 {
		sq.whys["found an expired entry"]++
		if s := sq.server(want.server); slices.ContainsFunc(want.expired, func(i int) bool { return s.access[i].approved }) {
			sq.whys["an approved entry expired"]++
		}
	}
	if sq.cfg.users[q.user].disabled {
		sq.whys["disabled"]++
	}
	sq.note("exchange: user %s client %s audience %s resource %q scope %q (raw %t) refresh %t, login %s old (ended %t, refreshed %t): oracle %s %s",
		sq.cfg.users[q.user].name, q.client, q.audience, q.resource, cmpOr(q.raw, strings.Join(q.scopes, " ")), q.rawSet, q.refresh,
		authAge, l.ended, l.refreshed, want.err, want.why)
	got := exchangeForOracle(sq.t, sq.endpoint, sq.cfg, q, l.tok)
	if usedKey != "" && got.err == "" {
		l.used[usedKey] = true
	}
	ev := sq.srv.Audit(audit.Filter{Type: "token_exchange", Limit: 1})
	problems := want.compare(got, ev, sq.keys, q, sq.cfg, sq.now)
	problems = append(problems, sq.checkExpired(want, got, ev)...)
	if checkExplain {
		problems = append(problems, want.checkExplain(sq.t, sq.srv.Issuer(), sq.cfg, q, authAge.Truncate(time.Second))...)
	}
	if len(problems) > 0 {
		sq.fail("%s\ngot: %+v", strings.Join(problems, "; "), got)
	}
}

// pickLogin picks one of the newest logins more often than an older one,
// which a change may have ended.
func (sq *sequence) pickLogin() *seqLogin {
	if n := len(sq.logins); n > 3 && sq.r.Intn(3) != 0 {
		return sq.logins[n-1-sq.r.Intn(3)]
	}
	return sq.logins[sq.r.Intn(len(sq.logins))]
}

// approvedRule: whether the rule names an entry an approval wrote.
func (sq *sequence) approvedRule(server, rule string) bool {
	for i := range sq.cfg.servers {
		s := &sq.cfg.servers[i]
		if s.id != server {
			continue
		}
		for j, a := range s.access {
			if fmt.Sprintf("%s access[%d]", s.id, j) == rule {
				return a.approved
			}
		}
	}
	return false
}

// checkExpired: as want.checkExpired, but an entry is found by what it
// is (its expires and scopes), not its place, which revocations and
// approvals move: one event at least, and no more than the entries of
// that server that were ever so.
func (sq *sequence) checkExpired(w ocWant, g ocGot, evs []audit.Event) []string {
	if len(w.expired) == 0 || len(evs) != 1 {
		return nil
	}
	var p []string
	if !strings.Contains(evs[0].Reason, "expired") {
		p = append(p, fmt.Sprintf("reason %q does not say the access expired", evs[0].Reason))
	}
	s := sq.server(w.server)
	var latest time.Time
	for _, i := range w.expired {
		if e := s.access[i].expires; e.After(latest) {
			latest = e
		}
	}
	if !strings.Contains(g.desc, latest.Format(time.RFC3339)) {
		p = append(p, fmt.Sprintf("description %q does not say the access ended at %s", g.desc, latest.Format(time.RFC3339)))
	}
	events := sq.srv.Audit(audit.Filter{Type: "access_request", Outcome: "expired", Server: s.id, Limit: 1000})
	for _, i := range w.expired {
		a := s.access[i]
		same := func(b ocAccess) bool {
			return b.expires.Equal(a.expires) && strings.Join(b.scopes, " ") == strings.Join(a.scopes, " ")
		}
		n := 0
		for _, ev := range events {
			e, _ := ev.Details["expires"].(string)
			sc, _ := ev.Details["scopes"].(string)
			if e == a.expires.Format(time.RFC3339) && sc == strings.Join(a.scopes, " ") {
				n++
			}
		}
		if max := len(slices.DeleteFunc(slices.Clone(sq.ever[s.id]), func(b ocAccess) bool { return !same(b) })); n == 0 || n > max {
			p = append(p, fmt.Sprintf("%d access_request expired events for %s access[%d] (scopes %q, expires %s), of %d such entries",
				n, s.id, i, a.scopes, a.expires.Format(time.RFC3339), max))
		}
	}
	return p
}

func (sq *sequence) server(id string) *ocServer {
	for i := range sq.cfg.servers {
		if sq.cfg.servers[i].id == id {
			return &sq.cfg.servers[i]
		}
	}
	return nil
}

// deniedAll: docs/http.md "Access requests": a deny entry names the user
// (by name or through a group) for every client (it names no client).
func (sq *sequence) deniedAll(s *ocServer, u ocUser) bool {
	for _, d := range s.deny {
		if len(d.clients) == 0 && u.in(d.users, d.groups) {
			return true
		}
	}
	return false
}

// call sends a JSON request with a bearer token, or as the admin root
// when bearer is "".
func (sq *sequence) call(method, path, bearer string, body any) (int, map[string]any) {
	sq.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			sq.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, sq.srv.Issuer()+path, rd)
	if err != nil {
		sq.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	} else {
		req.SetBasicAuth("root", "root")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		sq.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(data, &out)
	if out == nil {
		out = map[string]any{"body": string(data)}
	}
	return resp.StatusCode, out
}

// request: docs/http.md "Access requests".
func (sq *sequence) request() {
	sq.t.Helper()
	l := sq.logins[sq.r.Intn(len(sq.logins))]
	s := &sq.cfg.servers[sq.r.Intn(len(sq.cfg.servers))]
	u := sq.cfg.users[l.user]
	scopes := subset(sq.r, s.scopes, 0.5)
	// docs/http.md: a scope the server does not list, or an element that
	// is no scope-token ("", two scopes in one string), is invalid_scope.
	unknown := sq.r.Intn(8) == 0
	if unknown {
		scopes = append(scopes, []string{"nope.scope", "", s.scopes[0] + " " + s.scopes[0]}[sq.r.Intn(3)])
	}
	if scopes == nil {
		scopes = []string{}
	}
	sq.note("request: %s asks for %s %q", u.name, s.id, scopes)
	st, body := sq.call(http.MethodPost, "/me/access-requests", l.tok.AccessToken, map[string]any{"server": s.id, "scopes": scopes, "reason": "oracle"})
	pendingFor := slices.ContainsFunc(sq.pending, func(p seqPending) bool { return p.user == u.name && p.server == s.id })
	want := []int{http.StatusCreated}
	switch {
	case l.ended || l.grant.revoked || u.disabled || !sq.now.Before(l.atIssued.Add(time.Hour)):
		// An access token of an ended or revoked login, of a disabled
		// user, or expired (lifetimes.access_token, 1h by default).
		want = []int{http.StatusUnauthorized}
	case unknown && sq.deniedAll(s, u):
		want = []int{http.StatusBadRequest, http.StatusForbidden}
	case unknown:
		want = []int{http.StatusBadRequest}
	case sq.deniedAll(s, u):
		want = []int{http.StatusForbidden}
	case pendingFor:
		want = []int{http.StatusConflict}
	}
	if !slices.Contains(want, st) {
		sq.fail("POST /me/access-requests: %d %v, oracle %v", st, body, want)
		return
	}
	if st == http.StatusForbidden {
		sq.lastRequestEvent("a request a deny entry refused", "denied", u.name, s.id)
	}
	if st != http.StatusCreated {
		return
	}
	id, _ := body["id"].(string)
	rec := slices.Clone(scopes)
	if len(rec) == 0 {
		rec = slices.Clone(s.scopes) // docs/http.md: none asks for every scope the server defines
	}
	slices.Sort(rec)
	rec = slices.Compact(rec)
	var gotScopes []string
	for _, x := range body["scopes"].([]any) {
		gotScopes = append(gotScopes, x.(string))
	}
	slices.Sort(gotScopes)
	if !slices.Equal(gotScopes, rec) || body["status"] != "pending" {
		sq.fail("the request recorded scopes %q status %v, oracle %q pending", gotScopes, body["status"], rec)
	}
	sq.lastRequestEvent("a request made", "requested", u.name, s.id)
	sq.pending = append(sq.pending, seqPending{id: id, user: u.name, server: s.id, scopes: rec})
}

// decide approves or denies a pending request (docs/http.md, "Access
// requests (approver)").
func (sq *sequence) decide() {
	sq.t.Helper()
	if len(sq.pending) == 0 {
		return
	}
	if len(sq.decided) > 0 && sq.r.Intn(8) == 0 {
		// docs/http.md: 409 for a request already decided; nothing changes.
		id := sq.decided[sq.r.Intn(len(sq.decided))]
		action := []string{"approve", "deny"}[sq.r.Intn(2)]
		sq.note("%s request %s again", action, id)
		if st, ans := sq.call(http.MethodPost, "/admin/api/access-requests/"+id+"/"+action, "", map[string]any{}); st != http.StatusConflict {
			sq.fail("%s of a request already decided: %d %v, oracle 409", action, st, ans)
		}
		sq.whys["decided again"]++
		return
	}
	k := sq.r.Intn(len(sq.pending))
	p := sq.pending[k]
	s := sq.server(p.server)
	ui := slices.IndexFunc(sq.cfg.users, func(u ocUser) bool { return u.name == p.user })
	u := sq.cfg.users[ui]
	if sq.r.Intn(2) == 0 {
		sq.consoleDecide(k)
		return
	}
	if sq.r.Intn(4) == 0 {
		sq.note("deny request %s of %s for %s", p.id, p.user, p.server)
		st, body := sq.call(http.MethodPost, "/admin/api/access-requests/"+p.id+"/deny", "", map[string]any{"reason": "no"})
		if st != http.StatusOK || body["status"] != "denied" {
			sq.fail("deny: %d %v, oracle 200 denied", st, body)
			return
		}
		sq.denied(k)
		return
	}
	body := map[string]any{}
	var expires time.Time
	if d := []time.Duration{0, 90 * time.Second, 90 * time.Second, 30 * time.Minute, 2 * time.Hour}[sq.r.Intn(5)]; d > 0 {
		body["expires_in"] = d.String()
		expires = sq.now.Add(d)
	}
	scopes := p.scopes
	if sq.r.Intn(3) == 0 && len(p.scopes) > 1 {
		scopes = subset(sq.r, p.scopes, 0.5)
		if scopes == nil {
			scopes = []string{}
		}
		body["scopes"] = scopes
	}
	// docs/http.md: scopes may narrow what was requested, never add.
	if extra := slices.DeleteFunc(slices.Clone(s.scopes), func(sc string) bool { return slices.Contains(p.scopes, sc) }); len(extra) > 0 && sq.r.Intn(8) == 0 {
		bad := map[string]any{"scopes": append(slices.Clone(scopes), extra[0])}
		sq.note("approve request %s of %s for %s with a scope not requested: %v", p.id, p.user, p.server, bad)
		st, ans := sq.call(http.MethodPost, "/admin/api/access-requests/"+p.id+"/approve", "", bad)
		// Through a deny entry it is also a 409; the documents order
		// neither before the other.
		if (st != http.StatusBadRequest || ans["error"] != "invalid_scope") && (st != http.StatusConflict || !sq.deniedAll(s, u)) {
			sq.fail("an approval adding scope %s the request did not ask for: %d %v, oracle 400 invalid_scope", extra[0], st, ans)
		}
		sq.whys["approval refused"]++
		return
	}
	sq.note("approve request %s of %s for %s: %v", p.id, p.user, p.server, body)
	st, ans := sq.call(http.MethodPost, "/admin/api/access-requests/"+p.id+"/approve", "", body)
	if sq.deniedAll(s, u) {
		if st != http.StatusConflict {
			sq.fail("approve through a deny entry: %d %v, oracle 409", st, ans)
		}
		return
	}
	if st != http.StatusOK || ans["status"] != "approved" {
		sq.fail("approve: %d %v, oracle 200 approved", st, ans)
		return
	}
	sq.approved(k, scopes, expires)
}

// lastRequestEvent holds the audit log's last access_request event to
// outcome for user at server, failing the sequence with what as the
// request's name when it is not; it reports whether it is.
func (sq *sequence) lastRequestEvent(what, outcome, user, server string) bool {
	sq.t.Helper()
	ev := sq.srv.Audit(audit.Filter{Type: "access_request", Limit: 1})
	if len(ev) != 1 || ev[0].Outcome != outcome || ev[0].User != user || ev[0].Server != server {
		sq.fail("%s: access_request event %+v, want %s for %s at %s", what, ev, outcome, user, server)
		return false
	}
	return true
}

// denied holds the model and the audit to the denial of pending[k].
func (sq *sequence) denied(k int) {
	sq.t.Helper()
	p := sq.pending[k]
	ev := sq.srv.Audit(audit.Filter{Type: "access_request", Limit: 1})
	if len(ev) != 1 || ev[0].Outcome != "denied" || ev[0].Admin != "root" || ev[0].User != p.user {
		sq.fail("access_request event %+v, want denied by root", ev)
	}
	sq.whys["request denied"]++
	sq.pending = slices.Delete(sq.pending, k, k+1)
	sq.decided = append(sq.decided, p.id)
}

// approved holds the model and the audit to the approval of pending[k]
// with scopes until expires (zero: for good).
func (sq *sequence) approved(k int, scopes []string, expires time.Time) {
	sq.t.Helper()
	p := sq.pending[k]
	s := sq.server(p.server)
	sq.whys["approved"]++
	sq.pending = slices.Delete(sq.pending, k, k+1)
	sq.decided = append(sq.decided, p.id)
	ev := sq.srv.Audit(audit.Filter{Type: "access_request", Limit: 1})
	sorted := slices.Clone(scopes)
	slices.Sort(sorted)
	if len(ev) != 1 || ev[0].Outcome != "approved" || ev[0].Admin != "root" || ev[0].User != p.user || ev[0].Server != p.server {
		sq.fail("access_request event %+v, want approved by root for %s at %s", ev, p.user, p.server)
	} else {
		gs := strings.Fields(ev[0].ScopeGranted)
		slices.Sort(gs)
		e, _ := ev[0].Details["expires"].(string)
		wantE := ""
		if !expires.IsZero() {
			wantE = expires.Format(time.RFC3339)
		}
		if !slices.Equal(gs, sorted) || !sameInstant(e, wantE) {
			sq.fail("approved event scope_granted %q details.expires %q, oracle %q %q", ev[0].ScopeGranted, e, sorted, wantE)
		}
	}
	added, written := sq.approve(s, p.user, scopes, expires)
	if added {
		sq.ever[s.id] = append(sq.ever[s.id], s.access[len(s.access)-1])
	}
	// docs/http.md: the approval's admin_change (object "access
	// approval", details.request), when it wrote the file.
	ch := sq.srv.Audit(audit.Filter{Type: "admin_change", Limit: 1})
	ours := len(ch) == 1 && ch[0].Details["request"] == p.id
	switch {
	case written && (!ours || ch[0].Details["object"] != "access approval" || ch[0].Server != p.server || ch[0].User != p.user):
		sq.fail("the approval's admin_change: %+v, want object \"access approval\" for request %s", ch, p.id)
	case !written && ours:
		sq.fail("an approval that wrote nothing has an admin_change: %+v", ch[0])
	}
}

func sameInstant(a, b string) bool {
	if a == "" || b == "" {
		return a == b
	}
	ta, err1 := time.Parse(time.RFC3339Nano, a)
	tb, err2 := time.Parse(time.RFC3339Nano, b)
	return err1 == nil && err2 == nil && ta.Equal(tb)
}

// approve changes the model as docs/http.md ("Access requests
// (approver)") says an approval changes the server's access list; it
// reports whether an entry was added, and whether the list changed.
func (sq *sequence) approve(s *ocServer, user string, scopes []string, expires time.Time) (added, written bool) {
	now := sq.now
	sole := func(a ocAccess) bool {
		return slices.Equal(a.users, []string{user}) && len(a.groups) == 0 && len(a.clients) == 0 && a.maxAuthAge == 0
	}
	live := func(a ocAccess) bool { return a.expires.IsZero() || now.Before(a.expires) }
	covers := func(a ocAccess) bool {
		for _, sc := range scopes {
			if !slices.Contains(a.scopes, sc) {
				return false
			}
		}
		return true
	}
	covered := slices.ContainsFunc(s.access, func(a ocAccess) bool {
		return sole(a) && live(a) && covers(a) && (a.expires.IsZero() || !expires.IsZero() && !a.expires.Before(expires))
	})
	var out []ocAccess
	for _, a := range s.access {
		if !live(a) {
			continue // expired entries are removed, in any approval
		}
		replaced := !covered && sole(a) && !a.expires.IsZero() && !slices.ContainsFunc(a.scopes, func(sc string) bool { return !slices.Contains(scopes, sc) }) &&
			(expires.IsZero() || !a.expires.After(expires))
		if !replaced {
			out = append(out, a)
		}
	}
	if !covered {
		// The new entry goes at the end of the list.
		out = append(out, ocAccess{users: []string{user}, scopes: slices.Clone(scopes), expires: expires, approved: true})
	}
	written = !covered || len(out) < len(s.access)
	s.access = out
	return !covered, written
}

// revoke: an admin removes one access entry (PUT .../access).
func (sq *sequence) revoke() {
	sq.t.Helper()
	s := &sq.cfg.servers[sq.r.Intn(len(sq.cfg.servers))]
	if len(s.access) == 0 {
		return
	}
	k := sq.r.Intn(len(s.access))
	sq.note("revoke %s access[%d]", s.id, k)
	next := slices.Delete(slices.Clone(s.access), k, k+1)
	list := []map[string]any{}
	for _, a := range next {
		m := map[string]any{"scopes": orEmpty(a.scopes)}
		if len(a.users) > 0 {
			m["users"] = a.users
		}
		if len(a.groups) > 0 {
			m["groups"] = a.groups
		}
		if len(a.clients) > 0 {
			m["clients"] = a.clients
		}
		if a.maxAuthAge > 0 {
			m["max_auth_age"] = a.maxAuthAge.String()
		}
		if !a.expires.IsZero() {
			m["expires"] = a.expires.Format(time.RFC3339)
		}
		list = append(list, m)
	}
	st, body := sq.call(http.MethodPut, "/admin/api/servers/"+s.id+"/access", "", list)
	if st != http.StatusOK {
		sq.fail("PUT access: %d %v", st, body)
		return
	}
	s.access = next
	sq.whys["revoked"]++
	ev := sq.srv.Audit(audit.Filter{Type: "admin_change", Limit: 1})
	if len(ev) != 1 || ev[0].Outcome != "allowed" || ev[0].Server != s.id || ev[0].Admin != "root" {
		sq.fail("admin_change event %+v, want allowed for %s by root", ev, s.id)
	}
}

func orEmpty(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// reconfigure changes who is denied, disabled or in which group, through
// the admin API or a reload of the whole configuration.
func (sq *sequence) reconfigure() {
	sq.t.Helper()
	r := sq.r
	ui := r.Intn(len(sq.cfg.users))
	u := &sq.cfg.users[ui]
	s := &sq.cfg.servers[r.Intn(len(sq.cfg.servers))]
	reload := r.Intn(2) == 0
	switch r.Intn(4) {
	case 0:
		// Enabled back more often than disabled, so that a sequence
		// does not end with every user disabled.
		u.disabled = !u.disabled && r.Intn(2) == 0
		scim := !reload && r.Intn(2) == 0
		sq.note("%s: %s disabled %t", cond(reload, "reload", cond(scim, "SCIM PATCH active", "PATCH")), u.name, u.disabled)
		switch {
		case scim:
			// docs/http.md, "SCIM provisioning": active false is
			// disabling the user as the admin API does.
			patch := map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
				"Operations": []map[string]any{{"op": "replace", "path": "active", "value": !u.disabled}}}
			if st, body := sq.call(http.MethodPatch, "/admin/api/scim/v2/Users/"+url.PathEscape(sq.scimUserID(u.name)), "", patch); st != http.StatusOK {
				sq.t.Fatalf("SCIM PATCH active of %s: %d %v", u.name, st, body)
			}
			sq.whys["SCIM active changed"]++
		case !reload:
			sq.patchUser(u.name, map[string]any{"disabled": u.disabled})
		}
	case 1:
		u.groups = subset(r, sq.cfg.groups, 0.5)
		sq.note("%s: %s groups %q", cond(reload, "reload", "PATCH"), u.name, u.groups)
		if !reload {
			sq.patchUser(u.name, map[string]any{"groups": orEmpty(u.groups)})
		}
	case 2:
		d := ocDeny{users: []string{u.name}}
		if r.Intn(3) == 0 {
			d = ocDeny{groups: []string{sq.cfg.groups[r.Intn(len(sq.cfg.groups))]}}
		}
		if r.Intn(4) == 0 && len(s.clients) > 0 {
			d.clients = []string{s.clients[r.Intn(len(s.clients))]}
		}
		s.deny = append(s.deny, d)
		sq.note("%s: %s deny += %+v", cond(reload, "reload", "PUT deny"), s.id, d)
		if !reload {
			sq.putDeny(s)
		}
	default:
		if len(s.deny) == 0 {
			return
		}
		k := r.Intn(len(s.deny))
		s.deny = slices.Delete(s.deny, k, k+1)
		sq.note("%s: %s deny[%d] removed", cond(reload, "reload", "PUT deny"), s.id, k)
		if !reload {
			sq.putDeny(s)
		}
	}
	if reload {
		sq.srv.reload()
		sq.whys["reloaded"]++
	}
	if u.disabled {
		for _, l := range sq.logins {
			if l.user == ui {
				l.ended = true
			}
		}
	}
}

func cond(c bool, a, b string) string {
	if c {
		return a
	}
	return b
}

func (sq *sequence) patchUser(name string, patch map[string]any) {
	sq.t.Helper()
	if st, body := sq.call(http.MethodPatch, "/admin/api/users/"+name, "", patch); st != http.StatusOK {
		sq.t.Fatalf("PATCH user %s: %d %v", name, st, body)
	}
}

func (sq *sequence) putDeny(s *ocServer) {
	sq.t.Helper()
	list := []map[string]any{}
	for _, d := range s.deny {
		m := map[string]any{}
		if len(d.users) > 0 {
			m["users"] = d.users
		}
		if len(d.groups) > 0 {
			m["groups"] = d.groups
		}
		if len(d.clients) > 0 {
			m["clients"] = d.clients
		}
		list = append(list, m)
	}
	if st, body := sq.call(http.MethodPut, "/admin/api/servers/"+s.id+"/deny", "", list); st != http.StatusOK {
		sq.t.Fatalf("PUT deny of %s: %d %v", s.id, st, body)
	}
}

// revokeGrant revokes a login's grant as docs/http.md ("refresh_token",
// "Revocation") says it is: a refresh token rotated away that comes back,
// at the refresh grant or as a token exchange's subject, or a refresh
// token revoked at /revoke.
func (sq *sequence) revokeGrant() {
	sq.t.Helper()
	l := sq.logins[sq.r.Intn(len(sq.logins))]
	u := sq.cfg.users[l.user]
	cl := sq.cfg.client(l.client)
	if l.ended || u.disabled || l.grant.revoked {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var oe *idpclient.Error
	switch n := sq.r.Intn(3); {
	case n < 2 && len(l.grant.rotated) > 0:
		old := l.grant.rotated[sq.r.Intn(len(l.grant.rotated))]
		var err error
		if n == 0 {
			sq.note("a rotated refresh token of %s via %s comes back at the refresh grant", u.name, l.client)
			_, err = idpclient.Refresh(ctx, idpclient.RefreshOptions{TokenEndpoint: sq.endpoint, ClientID: l.client, ClientSecret: cl.secret, RefreshToken: old})
		} else {
			if !cl.tokenExchange {
				return
			}
			sq.note("a rotated refresh token of %s via %s comes back as a token exchange's subject", u.name, l.client)
			s := sq.cfg.servers[sq.r.Intn(len(sq.cfg.servers))]
			_, err = idpclient.Exchange(ctx, idpclient.ExchangeOptions{TokenEndpoint: sq.endpoint, ClientID: l.client, ClientSecret: cl.secret,
				SubjectToken: old, SubjectTokenType: idpclient.TokenTypeRefresh, Audience: s.issuer})
		}
		if !errors.As(err, &oe) || oe.Code != "invalid_grant" {
			sq.fail("a rotated refresh token came back: %v, want invalid_grant", err)
		}
	case l.tok.RefreshToken != "":
		sq.note("revoke the refresh token of %s via %s at /revoke", u.name, l.client)
		form := url.Values{"token": {l.tok.RefreshToken}, "client_id": {l.client}}
		if cl.secret != "" {
			form.Set("client_secret", cl.secret)
		}
		resp, err := http.PostForm(sq.srv.Issuer()+"/revoke", form)
		if err != nil {
			sq.t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			sq.fail("/revoke of a live refresh token: %s, want 200", resp.Status)
		}
	default:
		return
	}
	l.grant.revoked = true
	sq.whys["revoked a login"]++
}

// assigned: docs/http.md "/me/mcp-servers": for every MCP server that
// lists the token's client and has a resource, the decision a token
// exchange without scope, for the server's first resource, would get now;
// assigned also when only a newer login is missing.
func (sq *sequence) assigned() {
	sq.t.Helper()
	l := sq.pickLogin()
	u := sq.cfg.users[l.user]
	if l.ended || l.grant.revoked || u.disabled || !sq.now.Before(l.atIssued.Add(time.Hour)) {
		return
	}
	sq.note("GET /me/mcp-servers as %s via %s", u.name, l.client)
	req, err := http.NewRequest(http.MethodGet, sq.srv.Issuer()+"/me/mcp-servers", nil)
	if err != nil {
		sq.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+l.tok.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		sq.t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Servers []idpclient.AssignedServer `json:"mcp_servers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != http.StatusOK {
		sq.fail("GET /me/mcp-servers: %s %v", resp.Status, err)
		return
	}
	var listed []string
	for _, s := range sq.cfg.servers {
		if !slices.Contains(s.clients, l.client) {
			continue
		}
		listed = append(listed, s.id)
		want := sq.cfg.decide(ocRequest{user: l.user, client: l.client, audience: s.issuer, resource: s.resource}, sq.now, sq.now.Sub(l.at))
		i := slices.IndexFunc(got.Servers, func(a idpclient.AssignedServer) bool { return a.ID == s.id })
		if i < 0 {
			sq.fail("/me/mcp-servers does not list %s, which lists client %s", s.id, l.client)
			continue
		}
		a := got.Servers[i]
		assigned := want.err == "" || want.err == "insufficient_user_authentication"
		switch {
		case a.Assigned != assigned:
			sq.fail("/me/mcp-servers: %s assigned %t (%s %s), oracle %q (%s)", s.id, a.Assigned, a.Error, a.Description, want.err, want.why)
		case want.err == "" && strings.Join(a.Scopes, " ") != strings.Join(want.granted, " "):
			sq.fail("/me/mcp-servers: %s scopes %q, oracle %q", s.id, a.Scopes, want.granted)
		case !assigned && a.Error != want.err:
			sq.fail("/me/mcp-servers: %s error %q, oracle %q (%s)", s.id, a.Error, want.err, want.why)
		}
	}
	if len(got.Servers) != len(listed) {
		sq.fail("/me/mcp-servers lists %d servers, oracle %q", len(got.Servers), listed)
	}
	sq.whys["assigned servers read"]++
}

// scim changes a group through SCIM (docs/http.md, "SCIM provisioning",
// "Groups"): members added or removed by PATCH, the group deleted (taken
// out of its members and of every access and deny entry that names it,
// an entry left naming no user and no group removed), or a group created
// with members when only one is left. The next exchange decides by the
// groups so changed.
func (sq *sequence) scim() {
	sq.t.Helper()
	r := sq.r
	base := "/admin/api/scim/v2"
	patch := func(ops ...map[string]any) map[string]any {
		return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": ops}
	}
	ui := r.Intn(len(sq.cfg.users))
	u := &sq.cfg.users[ui]
	id := sq.scimUserID(u.name)
	if len(sq.cfg.groups) == 1 {
		g := "g" + strconv.Itoa(3+len(sq.log))
		sq.note("SCIM POST group %s with member %s", g, u.name)
		st, body := sq.call(http.MethodPost, base+"/Groups", "", map[string]any{
			"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": g,
			"members": []map[string]any{{"value": id}}})
		if st != http.StatusCreated {
			sq.fail("SCIM POST of group %s: %d %v, oracle 201", g, st, body)
			return
		}
		sq.cfg.groups = append(sq.cfg.groups, g)
		u.groups = append(u.groups, g)
		sq.whys["SCIM group created"]++
		return
	}
	g := sq.cfg.groups[r.Intn(len(sq.cfg.groups))]
	member := slices.Contains(u.groups, g)
	var st int
	var body map[string]any
	switch n := r.Intn(6); {
	case n < 2 && !member:
		sq.note("SCIM PATCH group %s: add member %s", g, u.name)
		st, body = sq.call(http.MethodPatch, base+"/Groups/"+g, "", patch(map[string]any{"op": "add", "path": "members", "value": []map[string]any{{"value": id}}}))
		u.groups = append(u.groups, g)
		sq.whys["SCIM member added"]++
	case n < 4:
		// A user who is not a member is not there to remove: 200,
		// nothing removed.
		sq.note("SCIM PATCH group %s: remove member %s (a member %t)", g, u.name, member)
		op := map[string]any{"op": "remove", "path": `members[value eq "` + id + `"]`}
		if r.Intn(2) == 0 {
			op = map[string]any{"op": "remove", "path": "members", "value": []map[string]any{{"value": id}}}
		}
		st, body = sq.call(http.MethodPatch, base+"/Groups/"+g, "", patch(op))
		u.groups = slices.DeleteFunc(u.groups, func(x string) bool { return x == g })
		sq.whys["SCIM member removed"]++
	default:
		sq.note("SCIM DELETE group %s", g)
		st, body = sq.call(http.MethodDelete, base+"/Groups/"+g, "", nil)
		if st != http.StatusNoContent {
			sq.fail("SCIM DELETE of group %s: %d %v, oracle 204", g, st, body)
			return
		}
		sq.deleteGroup(g)
		sq.whys["SCIM group deleted"]++
		return
	}
	if st != http.StatusOK && st != http.StatusNoContent {
		sq.fail("SCIM PATCH of group %s: %d %v, oracle 200", g, st, body)
		return
	}
	// docs/audit.md, admin_change: a change of a group's members through
	// SCIM is object "group members", via scim, naming the user it added
	// or removed.
	if member != slices.Contains(u.groups, g) {
		ev := sq.srv.Audit(audit.Filter{Type: "admin_change", Limit: 1})
		if len(ev) != 1 || ev[0].Details["object"] != "group members" || ev[0].Details["via"] != "scim" || ev[0].User != u.name || ev[0].Admin != "root" {
			sq.fail("the admin_change of %s's membership of %s through SCIM: %+v, want object \"group members\" via scim naming %s, by root", u.name, g, ev, u.name)
		}
	}
}

// deleteGroup changes the model as a group's SCIM DELETE does.
func (sq *sequence) deleteGroup(g string) {
	sq.cfg.groups = slices.DeleteFunc(sq.cfg.groups, func(x string) bool { return x == g })
	for i := range sq.cfg.users {
		u := &sq.cfg.users[i]
		u.groups = slices.DeleteFunc(u.groups, func(x string) bool { return x == g })
	}
	for i := range sq.cfg.servers {
		s := &sq.cfg.servers[i]
		var access []ocAccess
		for _, a := range s.access {
			if slices.Contains(a.groups, g) {
				a.groups = slices.DeleteFunc(slices.Clone(a.groups), func(x string) bool { return x == g })
				if len(a.users)+len(a.groups) == 0 {
					continue
				}
				// docs/configuration.md, "Time-bound access": an
				// entry whose names an edit changes is another
				// entry, and has an expired event of its own.
				sq.ever[s.id] = append(sq.ever[s.id], a)
			}
			access = append(access, a)
		}
		s.access = access
		var deny []ocDeny
		for _, d := range s.deny {
			if slices.Contains(d.groups, g) {
				d.groups = slices.DeleteFunc(slices.Clone(d.groups), func(x string) bool { return x == g })
				if len(d.users)+len(d.groups) == 0 {
					continue
				}
			}
			deny = append(deny, d)
		}
		s.deny = deny
	}
}

// scimUserID is the user's SCIM id, found by a filter on userName.
func (sq *sequence) scimUserID(name string) string {
	sq.t.Helper()
	st, body := sq.call(http.MethodGet, "/admin/api/scim/v2/Users?filter="+url.QueryEscape(`userName eq "`+name+`"`), "", nil)
	res, _ := body["Resources"].([]any)
	for _, x := range res {
		m, _ := x.(map[string]any)
		if m["userName"] == name {
			id, _ := m["id"].(string)
			return id
		}
	}
	sq.t.Fatalf("SCIM: no user %s: %d %v", name, st, body)
	return ""
}

// seqBrowser is a person's browser: a cookie jar, redirects followed.
type seqBrowser struct {
	sq *sequence
	hc *http.Client
}

var (
	seqAuthRequestID = regexp.MustCompile(`name="authRequestID" value="([^"]+)"`)
	seqCSRF          = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	seqETag          = regexp.MustCompile(`name="etag" value="([^"]*)"`)
	seqAppsCSRF      = regexp.MustCompile(`name="csrf" value="([^"]+)"><input type="hidden" name="server"`)
)

func (b *seqBrowser) do(method, path string, form url.Values) (*http.Response, string) {
	b.sq.t.Helper()
	var rd io.Reader
	if form != nil {
		rd = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.sq.srv.Issuer()+path, rd)
	if err != nil {
		b.sq.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		b.sq.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, string(data)
}

// signIn opens page, is sent to the IdP's login page, and signs in there
// as user (whose password is the name); it returns the page it led back to.
func (sq *sequence) signIn(page, user string) (*seqBrowser, *http.Response, string) {
	sq.t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &seqBrowser{sq: sq, hc: &http.Client{Jar: jar}}
	resp, body := b.do(http.MethodGet, page, nil)
	m := seqAuthRequestID.FindStringSubmatch(body)
	if !strings.HasSuffix(resp.Request.URL.Path, "/login") || m == nil {
		sq.t.Fatalf("%s led to %s (%d), not the IdP's login page:\n%s", page, resp.Request.URL, resp.StatusCode, body)
	}
	resp, body = b.do(http.MethodPost, "/login", url.Values{"authRequestID": {m[1]}, "username": {user}, "password": {user}})
	return b, resp, body
}

// appsRequest: a user asks for access on "My MCP servers" (docs/http.md,
// "/apps"; README "Request, approve, revoke"): the page offers a form for
// every MCP server that does not deny the user, but not while a request of
// the user for it is pending; the form is refused as the API refuses (403
// through a deny entry, 409 while one is pending), and a request made is a
// 303 to /apps?requested=<server>, pending with the scopes checked.
func (sq *sequence) appsRequest() {
	sq.t.Helper()
	ui := sq.r.Intn(len(sq.cfg.users))
	u := sq.cfg.users[ui]
	if u.disabled {
		return
	}
	s := &sq.cfg.servers[sq.r.Intn(len(sq.cfg.servers))]
	b, resp, page := sq.signIn("/apps", u.name)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != sq.srv.path+"/apps" {
		sq.fail("signing in at /apps as %s led to %s (%d)", u.name, resp.Request.URL, resp.StatusCode)
		return
	}
	pendingFor := func(id string) bool {
		return slices.ContainsFunc(sq.pending, func(p seqPending) bool { return p.user == u.name && p.server == id })
	}
	for _, o := range sq.cfg.servers {
		offered := strings.Contains(page, `name="server" value="`+o.id+`"`)
		if offered && (sq.deniedAll(&o, u) || pendingFor(o.id)) {
			sq.fail("/apps of %s offers a request form for %s, which denies the user (%t) or has the user's request pending (%t)", u.name, o.id, sq.deniedAll(&o, u), pendingFor(o.id))
		}
		// Every server is in one of the page's two lists, assigned or
		// to request (a pending request shown instead of its form),
		// but one whose deny entry names the user is in neither.
		assigned, requestable := strings.Contains(page, `data-server="`+o.id+`"`), strings.Contains(page, `id="request-`+o.id+`"`)
		named := slices.ContainsFunc(o.deny, func(d ocDeny) bool { return u.in(d.users, d.groups) })
		switch {
		case sq.deniedAll(&o, u) && (assigned || requestable):
			sq.fail("/apps of %s lists %s (assigned %t, to request %t), whose deny entry names the user", u.name, o.id, assigned, requestable)
		case !named && assigned == requestable:
			sq.fail("/apps of %s: %s assigned %t and to request %t, oracle one of the two", u.name, o.id, assigned, requestable)
		case !named && requestable && pendingFor(o.id) && !strings.Contains(appsSection(page, o.id), "Request pending"):
			sq.fail("/apps of %s does not show the request pending for %s", u.name, o.id)
		}
	}
	scopes := subset(sq.r, s.scopes, 0.6)
	form := url.Values{"server": {s.id}, "scopes": scopes, "reason": {"from the apps page"}}
	// The page's token is in each request form; a page without one (every
	// server assigned, denied or pending) offers nothing to post.
	m := seqAppsCSRF.FindStringSubmatch(page)
	if m == nil {
		return
	}
	form.Set("csrf", m[1])
	sq.note("/apps: %s asks for %s %q", u.name, s.id, scopes)
	nb := *b.hc
	nb.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, body := (&seqBrowser{sq: sq, hc: &nb}).do(http.MethodPost, "/apps", form)
	want := http.StatusSeeOther
	switch {
	case len(scopes) == 0:
		// Every scope unchecked: refused on the page, nothing requested.
		want = http.StatusBadRequest
	case sq.deniedAll(s, u):
		want = http.StatusForbidden
	case pendingFor(s.id):
		want = http.StatusConflict
	}
	if resp.StatusCode != want {
		sq.fail("POST /apps as %s for %s %q: %d, oracle %d\n%s", u.name, s.id, scopes, resp.StatusCode, want, body)
		return
	}
	if want == http.StatusForbidden {
		sq.lastRequestEvent("a request a deny entry refused at /apps", "denied", u.name, s.id)
	}
	if want != http.StatusSeeOther {
		sq.whys["apps request refused"]++
		return
	}
	if loc := resp.Header.Get("Location"); !strings.HasSuffix(loc, "/apps?requested="+url.QueryEscape(s.id)) {
		sq.fail("POST /apps: Location %q, want /apps?requested=%s", loc, s.id)
	}
	if !sq.lastRequestEvent("a request made at /apps", "requested", u.name, s.id) {
		return
	}
	// The request's id, from the approver's list.
	var list []struct {
		ID, User, Server, Status string
		Scopes                   []string
	}
	req, _ := http.NewRequest(http.MethodGet, sq.srv.Issuer()+"/admin/api/access-requests?status=pending", nil)
	req.SetBasicAuth("root", "root")
	lr, err := http.DefaultClient.Do(req)
	if err != nil {
		sq.t.Fatal(err)
	}
	defer lr.Body.Close()
	if err := json.NewDecoder(lr.Body).Decode(&list); err != nil {
		sq.t.Fatalf("the pending requests: %v", err)
	}
	rec := slices.Clone(scopes)
	slices.Sort(rec)
	for _, q := range list {
		if q.User == u.name && q.Server == s.id {
			got := slices.Clone(q.Scopes)
			slices.Sort(got)
			if !slices.Equal(got, rec) {
				sq.fail("the request made at /apps recorded scopes %q, oracle %q", got, rec)
			}
			sq.pending = append(sq.pending, seqPending{id: q.ID, user: u.name, server: s.id, scopes: rec})
			sq.whys["apps request made"]++
			return
		}
	}
	sq.fail("the request made at /apps is not pending: %+v", list)
}

// consoleDecide approves or denies pending[k] with the console's own forms
// (README "Request, approve, revoke": on Overview, for 1h, 8h, 24h, 7 days
// or never, scopes narrowed with the checkboxes), signed in as root: the
// page's CSRF token and version posted with it. A decision made returns to
// the overview (303); an approval with every scope unchecked decides
// nothing (400); one through a deny entry is refused as the API refuses it
// (409).
func (sq *sequence) consoleDecide(k int) {
	sq.t.Helper()
	p := sq.pending[k]
	s := sq.server(p.server)
	u := sq.cfg.users[slices.IndexFunc(sq.cfg.users, func(u ocUser) bool { return u.name == p.user })]
	b, resp, page := sq.signIn("/admin/", "root")
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != sq.srv.path+"/admin/" {
		sq.fail("signing in at the console as root led to %s (%d)", resp.Request.URL, resp.StatusCode)
		return
	}
	i := strings.Index(page, `action="`+sq.srv.path+`/admin/access-requests/`+p.id+`/approve"`)
	if i < 0 {
		sq.fail("the console's overview has no approve form for pending request %s of %s for %s", p.id, p.user, p.server)
		return
	}
	row := page[i:]
	csrf, etag := seqCSRF.FindStringSubmatch(row), seqETag.FindStringSubmatch(row)
	if csrf == nil || etag == nil {
		sq.fail("the approve form of request %s has no CSRF token or version", p.id)
		return
	}
	nb := *b.hc
	nb.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	post := &seqBrowser{sq: sq, hc: &nb}
	form := url.Values{"csrf": {csrf[1]}, "back": {"/admin/"}}
	if sq.r.Intn(4) == 0 {
		form.Set("reason", "not this quarter")
		sq.note("console: deny request %s of %s for %s", p.id, p.user, p.server)
		resp, body := post.do(http.MethodPost, "/admin/access-requests/"+p.id+"/deny", form)
		if resp.StatusCode != http.StatusSeeOther {
			sq.fail("the console's deny: %d, oracle 303\n%s", resp.StatusCode, body)
			return
		}
		sq.denied(k)
		sq.whys["console decided"]++
		return
	}
	choices := []struct {
		value string
		d     time.Duration
	}{{"1h", time.Hour}, {"8h", 8 * time.Hour}, {"24h", 24 * time.Hour}, {"7d", 7 * 24 * time.Hour}, {"", 0}}
	c := choices[sq.r.Intn(len(choices))]
	scopes := p.scopes
	if sq.r.Intn(3) == 0 {
		scopes = subset(sq.r, p.scopes, 0.5)
	}
	form.Set("etag", html.UnescapeString(etag[1])) // as a browser reads the attribute
	form.Set("expires_in", c.value)
	form["scopes"] = scopes
	sq.note("console: approve request %s of %s for %s: scopes %q for %q", p.id, p.user, p.server, scopes, c.value)
	resp, body := post.do(http.MethodPost, "/admin/access-requests/"+p.id+"/approve", form)
	switch {
	case len(scopes) == 0 && len(p.scopes) > 0:
		if resp.StatusCode != http.StatusBadRequest {
			sq.fail("the console's approval with every scope unchecked: %d, oracle 400 (nothing decided)\n%s", resp.StatusCode, body)
		}
		sq.whys["console decided nothing"]++
		return
	case sq.deniedAll(s, u):
		if resp.StatusCode != http.StatusConflict {
			sq.fail("the console's approval through a deny entry: %d, oracle 409\n%s", resp.StatusCode, body)
		}
		return
	case resp.StatusCode != http.StatusSeeOther:
		sq.fail("the console's approval: %d, oracle 303\n%s", resp.StatusCode, body)
		return
	}
	var expires time.Time
	if c.d > 0 {
		expires = sq.now.Add(c.d)
	}
	sq.approved(k, slices.Clone(scopes), expires)
	sq.whys["console decided"]++
}

// appsSection is the part of the /apps page about requesting server id.
func appsSection(page, id string) string {
	i := strings.Index(page, `<div id="request-`+id+`"`)
	if i < 0 {
		return ""
	}
	sec := page[i:]
	if j := strings.Index(sec, "</div>"); j >= 0 {
		sec = sec[:j]
	}
	return sec
}
