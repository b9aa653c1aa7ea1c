// Package idp is the OpenID provider: login, SSO sessions, the zitadel/oidc
// storage adapter, and the RFC 8693 token exchange that issues ID-JAGs
// (draft-ietf-oauth-identity-assertion-authz-grant). zitadel types stay
// inside this package.
//
// A token exchange enters at the token endpoint (token.go), which runs
// the steps every grant shares and dispatches to the ID-JAG grant
// (grant_idjag.go, with the subject token check in
// grant_idjag_subject.go); policy.Decide decides it; the keys in package
// idp/signer sign it, through the fault hook (faults.go); audit.go records
// it. The code and refresh grants are zitadel's (grant_code_refresh.go).
package idp

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/xaa-idp/xaa-idp/access"
	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp/signer"
	"github.com/xaa-idp/xaa-idp/internal/bodyheader"
	"github.com/xaa-idp/xaa-idp/internal/cors"
	"github.com/xaa-idp/xaa-idp/internal/replay"
	"github.com/xaa-idp/xaa-idp/internal/throttle"
	"github.com/xaa-idp/xaa-idp/policy"
)

// Options configure a Server.
type Options struct {
	// Config is the validated policy. Required. In a file with tenants it
	// is one tenant's Config (policy.Config.IdPs).
	Config *policy.Config
	// Tenant is the tenant's id when the file has tenants: the Server is
	// then mounted under Config.Path (its issuer must end with it), stamps
	// its audit events with Tenant when Audit serves several tenants, and
	// adds the "tenant" claim its knobs ask for (docs/configuration.md,
	// "Tenants"). "" for a file without tenants.
	Tenant string
	// SharedAudit tells that Audit is shared by several tenants, whose
	// events then carry the tenant.
	SharedAudit bool
	// OtherTenants are the tenants served beside this one (id and
	// issuer): the token exchange refuses an MCP server whose issuer is
	// one of theirs, as it refuses its own (policy.Request.OtherTenants).
	OtherTenants []policy.TenantIssuer
	// Issuer is the issuer URL, byte for byte what discovery and every token
	// carry. A trailing slash is removed. Required.
	Issuer string
	// StateDir, when set, keeps the generated signing keys and the access
	// requests (access-requests.json) across restarts.
	StateDir string
	// KeyCacheDir, when set and StateDir is not, keeps a generated RS256
	// key across restarts (signer.Options.CacheDir), so that the JWKS
	// answers within milliseconds of a start.
	KeyCacheDir string
	// SecEventKey says that the IdP signs Security Event Tokens
	// (EnsureSecEventKey): its ES256 key is then one of the keys the start
	// reads from StateDir, so that a restart takes back the key it kept
	// rather than retiring it as unused and making another.
	SecEventKey bool
	// Audit receives every event; nil keeps an in-memory log. The IdP
	// stamps its events with Clock; open the log with Now: Clock.Now so
	// that the events others append follow the clock too.
	Audit *audit.Log
	// Clock is the IdP's time, which tests and the admin API control; nil
	// means a new clock running from Now.
	Clock *Clock
	// Now is the time source of the clock made when Clock is nil; nil
	// means time.Now.
	Now func() time.Time
	// LoginThrottle slows down password guessing at the login page while
	// the configuration's security.login_throttle is on; nil means a new
	// throttle with the default rules (internal/throttle). The admin API
	// shares it (Server.LoginThrottle), so that both count one username's
	// failures together.
	LoginThrottle LoginThrottle
	// SweepInterval is how often expired entries leave the in-memory
	// stores (auth requests, codes, sessions, tokens, ended sessions,
	// verified subject tokens); 0 means every minute. Close stops it.
	SweepInterval time.Duration
}

// Server is the IdP as one http.Handler.
type Server struct {
	issuer   string
	tenant   string                // Options.Tenant
	others   []policy.TenantIssuer // Options.OtherTenants
	path     string                // the path the Server is mounted under: "" or a tenant's path
	cfg      atomic.Pointer[policy.Config]
	keys     *signer.Ring  // the keys, for zitadel, subject tokens and the admin API
	signer   signer.Signer // keys wrapped in the fault hook: everything the IdP signs
	audit    *auditRecorder
	clock    *Clock
	now      func() time.Time // clock.Now
	metrics  *metrics
	store    *storage
	provider *op.Provider
	mux      *http.ServeMux
	// grantTypes are the grants the token endpoint serves (token.go).
	grantTypes map[string]grant
	// ownClients are clients the product registers for itself
	// (RegisterClient): client_id → *policy.Client.
	ownClients sync.Map
	// ownStarts are where the sign-ins of some of them start:
	// client_id → URL (RegisterClient, startOf).
	ownStarts sync.Map

	sessions *ttlMap[string, *ssoSession]
	subjects *ttlMap[string, *verifiedIDToken] // verified subject ID tokens, by hash
	// endedSIDs are the sids of SSO sessions ended by end_session, kept as
	// long as an ID token of theirs may live (endSSO); endedFloor, once
	// they overflowed, when one was last forgotten (idTokenOfEndedSession).
	endedSIDs  *ttlMap[string, struct{}]
	endedFloor atomic.Pointer[time.Time]
	// goneSubs are the subs of users disabled or removed by a change of
	// the configuration, with when, and goneSIDs the SSO sessions they
	// had then (noteGoneUsers), kept as long as a token of such a login
	// may live: it stays ended when the user is enabled or added again
	// (LoginEnded).
	goneSubs *ttlMap[string, time.Time]
	goneSIDs *ttlMap[string, struct{}]
	// started is the clock's reading at New: no user absent then can
	// have logged in between it and their addition (noteGoneUsers).
	started time.Time
	// revokedLogins are the logins revoked for theft (a replayed code, a
	// reused or revoked refresh token): when each was last revoked, kept
	// as long as an ID token of theirs may live (revokeLogin). They share
	// the bound and the floor of the ended sessions.
	revokedLogins *ttlMap[revokedLogin, time.Time]
	// ended keeps the four stores above and endedFloor in the state
	// directory (endedlogins.go), so that a restart does not give an
	// ended login's ID tokens back; nil without one.
	ended    *endedLog
	throttle LoginThrottle

	stopSweep chan struct{}
	// swept are the stores of other parts of the product that the
	// sweeper sweeps too (SweepStore).
	swept struct {
		mu     sync.Mutex
		others []sweptStore
	}
	closeOnce sync.Once

	// Replay guards, which refuse rather than forget a live entry when
	// full (replayRefusal).
	usedJTIs     *replay.Cache // client assertion jti of configured clients (clientauth.go)
	cimdJTIs     *replay.Cache // and of metadata-document clients, whom anyone can be
	usedSubjects *replay.Cache // single_use_subject (grant_idjag.go)
	usedProofs   *replay.Cache // DPoP proof jti (dpop.go)

	faults faultSet // injected faults (faults.go)

	cimd cimdClients // metadata document clients (cimd.go)

	sessionEnd    hooks[func(sub string)]                        // OnSessionEnd (secevent.go)
	ssoEnd        hooks[func(sid string)]                        // OnSSOEnd (secevent.go)
	accessExpired hooks[func(cfg *policy.Config, now time.Time)] // OnAccessExpired (secevent.go)
	revocations   revocationSeconds                              // NoteRevocation (secevent.go)
	stepUps       stepUps                                        // noteStepUp (stepup.go)

	requests *access.Store // access requests (access_requests.go)

	// unsettled holds the key_rotation errors of rotations not made that
	// the audit log could not take (a full disk), appended before the next
	// rotation is recorded (recordRotations, keys.go).
	unsettledMu sync.Mutex
	unsettled   []audit.Event
}

// New builds the IdP from a validated configuration. A start that fails
// closes what it opened.
func New(opts Options) (_ *Server, err error) {
	if opts.Config == nil {
		return nil, errors.New("idp: Options.Config is required")
	}
	issuer := strings.TrimSuffix(opts.Issuer, "/")
	if issuer == "" {
		return nil, errors.New("idp: Options.Issuer is required")
	}
	s := &Server{issuer: issuer, tenant: opts.Tenant, others: opts.OtherTenants, clock: opts.Clock, metrics: newMetrics(opts.Tenant)}
	// Served under the issuer's path, as discovery announces it: a
	// tenant's, after the base URL's path if that has one, or the path of
	// a single issuer such as https://host/idp (app mounts it there).
	u, err := url.Parse(issuer)
	if err != nil {
		return nil, fmt.Errorf("idp: issuer %q: %w", issuer, err)
	}
	s.path = u.EscapedPath()
	if opts.Tenant != "" && !strings.HasSuffix(s.path, opts.Config.Path) {
		return nil, fmt.Errorf("idp: the issuer %s of tenant %s does not end with its path %s", issuer, opts.Tenant, opts.Config.Path)
	}
	if s.clock == nil {
		s.clock = NewClock(opts.Now)
	}
	s.now = s.clock.Now
	log := opts.Audit
	if log == nil {
		var err error
		if log, err = audit.Open(audit.Options{Now: s.now}); err != nil {
			return nil, err
		}
	}
	if opts.SharedAudit {
		log = log.Tenant(opts.Tenant)
	}
	s.audit = &auditRecorder{Log: log, now: s.now, metrics: s.metrics}
	s.metrics.auditSyncs(log)
	s.cfg.Store(opts.Config)
	s.faults.loadConfig(opts.Config.Faults, nil)
	s.cimd.self = s.ownIssuers
	s.cimd.load(opts.Config.CIMD)
	keys, err := signer.Load(signer.Options{
		IDTokenAlg: opts.Config.Signing.IDTokenAlg,
		IDJAGAlg:   opts.Config.Signing.IDJAGAlg,
		KeyFiles:   opts.Config.Signing.KeyFiles,
		StateDir:   opts.StateDir,
		CacheDir:   opts.KeyCacheDir,
		Now:        s.now,
		Overlap:    keyOverlap(opts.Config),
		ServerAlgs: startAlgs(opts),
	})
	if err != nil {
		// Each names its file, and says what to do: no package's prefix
		// before it (until 2026-12-07, "idp: signing keys: ").
		return nil, err
	}
	s.keys = keys
	s.signer = &faultSigner{Signer: keys, ring: keys, faults: &s.faults}
	// Grouped by sid, for endSSO: a scan of the full store was some
	// 120 µs under its lock for each sign-out (BenchmarkServer_EndSSO).
	s.sessions = newTTLMap[string, *ssoSession](maxSessions, s.now).groupedBy(
		func(sess *ssoSession) string { return sess.SID }, func(sess *ssoSession) string { return sess.Subject })
	s.subjects = newTTLMap[string, *verifiedIDToken](maxVerifiedSubjects, s.now)
	s.endedSIDs = newTTLMap[string, struct{}](maxEndedSessions, s.now)
	s.goneSubs = newTTLMap[string, time.Time](maxTokens, s.now)
	s.goneSIDs = newTTLMap[string, struct{}](maxEndedSessions, s.now)
	s.revokedLogins = newTTLMap[revokedLogin, time.Time](maxEndedSessions, s.now)
	s.throttle = opts.LoginThrottle
	if s.throttle == nil {
		// The wall clock, not the IdP's: a clock frozen by a test would
		// never end a back-off.
		s.throttle = throttle.New(throttle.Options{})
	}
	s.usedJTIs = replay.New(maxTokens)
	s.cimdJTIs = replay.New(maxCIMDAssertions)
	s.usedSubjects = replay.New(maxUsedSubjects)
	s.usedProofs = replay.New(maxUsedProofs)
	s.store = newStorage(s)
	s.grantTypes = s.grants()
	if opts.StateDir != "" {
		// The key store makes it only for a key it writes: a tenant
		// whose key_files hold every key it signs with has none.
		if err := os.MkdirAll(opts.StateDir, 0o700); err != nil {
			return nil, fmt.Errorf("idp: %w", err)
		}
	}
	if s.ended, err = s.openEndedLog(opts.StateDir); err != nil {
		return nil, err
	}
	// From here a failed start closes the state directory's logs: until
	// 2026-12-07 a step after them that failed (an access requests file
	// it cannot read) left their files open, three descriptors and their
	// writers each time.
	defer func() {
		if err != nil {
			s.closeLogs()
		}
	}()
	if err := s.store.openRefreshLog(opts.StateDir); err != nil {
		return nil, err
	}
	if err := s.store.openCompletedLog(opts.StateDir); err != nil {
		return nil, err
	}
	s.started = s.now()
	s.noteDisabledUsers(opts.Config)
	if s.requests, err = openAccessRequests(opts.StateDir, s.now); err != nil {
		return nil, err
	}
	s.denyOrphanedRequests(nil, opts.Config)
	// Keys of signing.key_files win over the state directory's at every
	// start, so a rotation on top of them lasts until a restart: their
	// current key says nothing of whether a rotation was written.
	if opts.StateDir != "" && len(opts.Config.Signing.KeyFiles) == 0 {
		s.reconcileKeys()
		s.warnMissingPreviousKeys(opts.StateDir)
	}
	if opts.StateDir != "" {
		s.labelPreviousKeys()
	}

	opConfig := &op.Config{
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		AuthMethodPrivateKeyJWT:  true,
		GrantTypeRefreshToken:    true,
		DefaultLogoutRedirectURI: s.path + pathLoggedOut,
	}
	// The key that encrypts codes and opaque access tokens; both live only
	// in memory, so a fresh key per process is right.
	if _, err := rand.Read(opConfig.CryptoKey[:]); err != nil {
		return nil, err
	}
	// No CORS from zitadel: its default echoes any Origin with
	// Access-Control-Allow-Credentials, which would let any site read
	// /authorize, /end_session and the token endpoint's answers made with
	// the browser's cookies. The endpoints browser clients call answer the
	// wildcard without credentials (routes, internal/cors).
	popts := []op.Option{
		op.WithCORSOptions(nil),
		// An id_token_hint (/authorize, end_session) is one of our own ID
		// tokens, signed with whichever signing.id_token_alg names, then
		// or before a change; op's verifier takes RS256, ES256 and PS256
		// alone unless told, and refused an EdDSA one as "signature
		// algorithm not supported".
		op.WithIDTokenHintVerifierOpts(op.WithSupportedIDTokenHintSigningAlgorithms(policy.AlgRS256, policy.AlgES256, policy.AlgEdDSA)),
	}
	if strings.HasPrefix(issuer, "http://") {
		popts = append(popts, op.WithAllowInsecure())
	}
	s.provider, err = op.NewProvider(opConfig, s.store, op.StaticIssuer(issuer), popts...)
	if err != nil {
		return nil, fmt.Errorf("idp: %w", err)
	}
	s.registerAppsClient()
	s.routes()
	s.startSweeper(opts.SweepInterval)
	return s, nil
}

// startSweeper removes expired entries from every store periodically:
// expired entries are otherwise only dropped when looked up or when a store
// is full, so a long-running IdP would keep the memory of its busiest hour.
// The sizes are published on /metrics (xaa_idp_store_entries).
func (s *Server) startSweeper(every time.Duration) {
	if every <= 0 {
		every = time.Minute
	}
	type store = sweptStore
	stores := []store{
		{"auth_requests", s.store.authRequests.Sweep, s.store.authRequests.Len},
		{"codes", s.store.codes.Sweep, s.store.codes.Len},
		{"used_codes", s.store.usedCodes.Sweep, s.store.usedCodes.Len},
		{"access_tokens", s.store.accessTokens.Sweep, s.store.accessTokens.Len},
		{"refresh_tokens", s.store.refreshTokens.Sweep, s.store.refreshTokens.Len},
		{"rotated_refresh_tokens", s.store.rotatedRefresh.Sweep, s.store.rotatedRefresh.Len},
		{"sessions", s.sessions.Sweep, s.sessions.Len},
		{"ended_sessions", s.endedSIDs.Sweep, s.endedSIDs.Len},
		{"gone_users", s.goneSubs.Sweep, s.goneSubs.Len},
		{"gone_sessions", s.goneSIDs.Sweep, s.goneSIDs.Len},
		{"revoked_logins", s.revokedLogins.Sweep, s.revokedLogins.Len},
		{"verified_subjects", s.subjects.Sweep, s.subjects.Len},
		// The replay caches, else purged only as they are used:
		// exchange.single_use_subject's memory, the client assertions of
		// configured and of metadata document clients, and DPoP proofs.
		{"used_subjects", func() { s.usedSubjects.Purge(s.now()) }, s.usedSubjects.Len},
		{"used_assertions", func() { s.usedJTIs.Purge(s.now()) }, s.usedJTIs.Len},
		{"used_cimd_assertions", func() { s.cimdJTIs.Purge(s.now()) }, s.cimdJTIs.Len},
		{"used_dpop_proofs", func() { s.usedProofs.Purge(s.now()) }, s.usedProofs.Len},
		// The metadata documents cached and the failing client_id URLs
		// remembered, on the wall clock their Cache-Control counts on.
		{"cimd_documents", func() { s.cimd.resolver.Load().Sweep() }, func() int { n, _ := s.cimd.resolver.Load().Len(); return n }},
		{"cimd_failures", func() {}, func() int { _, n := s.cimd.resolver.Load().Len(); return n }},
		// Forgotten otherwise only when full: the step-up refusals of
		// logins ended, and the revocations of seconds past.
		{"step_ups", func() { s.stepUps.Sweep(s.now()) }, s.stepUps.Len},
		{"revocation_seconds", func() { s.revocations.Sweep(s.now()) }, s.revocations.Len},
	}
	// The usernames the login throttle tracks, else forgotten only when
	// another login attempt comes (a throttle of Options may lack it).
	if th, ok := s.throttle.(interface {
		Sweep()
		Len() int
	}); ok {
		stores = append(stores, store{"login_throttle", th.Sweep, th.Len})
	}
	for _, st := range stores {
		s.metrics.storeSize(st.name, st.size)
	}
	s.stopSweep = make(chan struct{})
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-s.stopSweep:
				return
			case <-t.C:
				for _, st := range stores {
					st.sweep()
				}
				s.swept.mu.Lock()
				others := s.swept.others
				s.swept.mu.Unlock()
				for _, st := range others {
					st.sweep()
				}
			}
		}
	}()
}

// sweptStore is one in-memory store the sweeper sweeps, and its size
// published on /metrics.
type sweptStore struct {
	name  string
	sweep func()
	size  func() int
}

// SweepStore has the sweeper sweep a store of another part of the product
// (the console's sessions) with the IdP's own, and publishes its size on
// /metrics as xaa_idp_store_entries{store=name}. A second store of the
// same name (a second product over the same IdP) replaces the first.
func (s *Server) SweepStore(name string, sweep func(), size func() int) {
	s.swept.mu.Lock()
	defer s.swept.mu.Unlock()
	others := slices.Clone(s.swept.others)
	for i, st := range others {
		if st.name == name {
			others[i] = sweptStore{name, sweep, size}
			s.swept.others = others
			return
		}
	}
	s.swept.others = append(others, sweptStore{name, sweep, size})
	s.metrics.storeSize(name, func() int {
		s.swept.mu.Lock()
		i := slices.IndexFunc(s.swept.others, func(st sweptStore) bool { return st.name == name })
		size := s.swept.others[i].size
		s.swept.mu.Unlock()
		return size()
	})
}

// Close stops the IdP's background work (the store sweeper). The handler
// keeps answering; the audit log is the caller's to close.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.stopSweep)
		s.closeLogs()
	})
	return nil
}

// closeLogs closes the state directory's logs that New opened: of ended
// logins, of refresh tokens and of completed logins.
func (s *Server) closeLogs() {
	s.ended.close()
	s.store.journal.close()
	if s.store.completed != nil {
		_ = s.store.completed.Close()
	}
}

// Endpoint paths, as discovery publishes them (zitadel's defaults).
const (
	pathAuthorize  = "/authorize"
	pathToken      = "/oauth/token"
	pathUserinfo   = "/userinfo"
	pathKeys       = "/keys"
	pathRevoke     = "/revoke"
	pathIntrospect = "/oauth/introspect"
	pathEndSession = "/end_session"
	pathLogin      = "/login"
	pathAssigned   = "/me/mcp-servers"
	pathRequests   = "/me/access-requests"
	pathApps       = "/apps"
	pathLoggedOut  = "/logged-out"
)

// oktaPaths are the endpoints of Okta's org authorization server, under
// the issuer, and the paths that serve them here: the okta persona also
// answers at these (policy.Config.OktaPaths, docs/personas.md), which a
// client written for Okta builds from the issuer without reading
// discovery. Discovery keeps naming the paths above.
var oktaPaths = map[string]string{
	"/oauth2/v1/authorize":  pathAuthorize,
	oktaTokenPath:           pathToken,
	"/oauth2/v1/keys":       pathKeys,
	"/oauth2/v1/userinfo":   pathUserinfo,
	"/oauth2/v1/revoke":     pathRevoke,
	"/oauth2/v1/introspect": pathIntrospect,
	"/oauth2/v1/logout":     pathEndSession,
}

// oktaTokenPath is Okta's token endpoint, which Okta's documents also give
// as a client assertion's aud.
const oktaTokenPath = "/oauth2/v1/token"

// calledPathKey holds, in a request served at one of oktaPaths, the path
// it was sent to: a DPoP proof's htu names that URL (RFC 9449 section
// 4.3).
type calledPathKey struct{}

// calledTokenURL is the URL of the token endpoint the request was sent
// to: the one discovery names, or Okta's.
func (s *Server) calledTokenURL(r *http.Request) string {
	if p, ok := r.Context().Value(calledPathKey{}).(string); ok {
		return s.issuer + p
	}
	return s.issuer + pathToken
}

// MethodNotAllowed answers 405 with the methods a route takes (RFC 9110
// section 15.5.6), for the routes registered per method: other methods
// would fall through to op, which answers 404 or, at some, anything.
func MethodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (s *Server) routes() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		if err := s.audit.Log.Err(); err != nil {
			// Every login and token would fail with server_error: a health check must see it.
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "audit log failed, restart needed:", err)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	// Without this, other methods would fall through to op's own health
	// handler, which answers anything.
	mux.HandleFunc("/healthz", MethodNotAllowed("GET, HEAD"))
	// op's readiness probe, likewise, answers every method.
	mux.Handle("GET /ready", s.provider)
	mux.HandleFunc("/ready", MethodNotAllowed("GET, HEAD"))
	// Browser-based clients reach these across origins (internal/cors).
	// MCP clients send MCP-Protocol-Version with their metadata requests
	// (discovery, keys); a preflight that did not allow it would fail.
	// A preflight names the methods the endpoint takes.
	public := func(methods string, h http.HandlerFunc) http.Handler {
		return cors.Public(h, methods, []string{"DPoP", "Mcp-Protocol-Version"}, nil)
	}
	mux.Handle("/.well-known/openid-configuration", public("GET, HEAD", s.discovery))
	mux.Handle("/.well-known/oauth-authorization-server", public("GET, HEAD", s.discovery))
	// The Go SDK, given the issuer with a trailing "/", inserts the
	// well-known segment before the path "/" without removing it first, as
	// RFC 8414 section 3.1 asks, and asks for these spellings
	// (auth.GetAuthServerMetadata); its issuer comparison ignores the "/".
	mux.Handle("/.well-known/openid-configuration/{$}", public("GET, HEAD", s.discovery))
	mux.Handle("/.well-known/oauth-authorization-server/{$}", public("GET, HEAD", s.discovery))
	mux.Handle(pathToken, cors.Public(s.metrics.timeTokenEndpoint(http.HandlerFunc(s.tokenEndpoint)), http.MethodPost, []string{"DPoP"}, nil))
	mux.Handle(pathKeys, public("GET, HEAD", s.jwks))
	mux.Handle("GET /metrics", s.metrics.handler())
	mux.HandleFunc(pathLogin, s.login)
	mux.HandleFunc("GET "+pathLoggedOut, s.loggedOut)
	mux.HandleFunc(pathEndSession, s.endSession)
	mux.HandleFunc(pathAuthorize, s.authorize)
	mux.HandleFunc(pathAuthorize+"/callback", s.authorizeCallback)
	mux.HandleFunc(pathIntrospect, s.introspect)
	mux.Handle(pathUserinfo, public("GET, HEAD, POST", s.userinfo))
	mux.Handle(pathRevoke, public(http.MethodPost, s.revoke))
	mux.Handle(pathAssigned, public("GET, HEAD", s.assignedServers))
	mux.Handle(pathRequests, public("GET, HEAD, POST", s.accessRequests))
	mux.HandleFunc("GET "+pathApps, s.appsPage)
	mux.HandleFunc("POST "+pathApps, s.appsRequest)
	// As for /healthz: other methods would reach op, which answers 404.
	mux.HandleFunc(pathApps, MethodNotAllowed("GET, HEAD, POST"))
	mux.HandleFunc(pathLoggedOut, MethodNotAllowed("GET, HEAD"))
	mux.HandleFunc("/metrics", MethodNotAllowed("GET, HEAD"))
	// Every endpoint of op the IdP serves is routed above. What is left of
	// op's router is its device authorization endpoint (RFC 8628), which
	// discovery does not announce and whose grant the token endpoint
	// refuses, and a 405 without Allow for an unknown method: 404 instead.
	mux.Handle("/", http.NotFoundHandler())
	s.mux = mux
}

// ServeHTTP implements http.Handler. The query and a form body are parsed
// here, bounded, for every endpoint but the login page (which bounds its
// own form tighter): zitadel answers a request it cannot parse with a 500,
// and nothing a client sends may yield one (docs/http.md, "Error codes").
// The usual token request's form is parsed into a tokenForm, which the
// request returned carries (parseForm).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p, ok := oktaPaths[r.URL.Path]; ok && s.Config().OktaPaths() {
		r = r.WithContext(context.WithValue(r.Context(), calledPathKey{}, r.URL.Path))
		u := *r.URL
		u.Path, u.RawPath = p, ""
		r.URL = &u
	}
	if len(r.Header.Values("Authorization")) > 1 {
		// Two clients, users or tokens: Go's readers take the first and
		// ignore the other, so a request that says two things about who
		// it is would be answered for one of them (RFC 6749 section 2.3,
		// RFC 6750 section 2: one method per request).
		if r.URL.Path == pathUserinfo || strings.HasPrefix(r.URL.Path, "/me/") {
			w.Header().Set("WWW-Authenticate", `Bearer realm="xaa-idp", error="invalid_request"`)
		}
		writeOAuthError(w, r, invalidRequest("the request has more than one Authorization header; send one"))
		return
	}
	if r.URL.Path != pathLogin {
		if e := bodyHeadersError(w, r); e != nil {
			s.refuseUnreadable(w, r, e)
			return
		}
		var err error
		if r, err = parseForm(w, r); err != nil {
			s.refuseUnreadable(w, r, formError(err))
			return
		}
		ignoreFoldedNames(r.Form)
		ignoreFoldedNames(r.PostForm)
	}
	s.mux.ServeHTTP(w, r)
}

// refuseUnreadable answers a request ServeHTTP cannot read: at a page for
// people (/apps, /logged-out) with an HTML page of the error's status, as
// the login page answers its own (until 2026-12-06 the JSON below, which a
// browser shows raw); elsewhere with the OAuth error's JSON.
func (s *Server) refuseUnreadable(w http.ResponseWriter, r *http.Request, e *oauthError) {
	if r.URL.Path != pathApps && r.URL.Path != pathLoggedOut {
		writeOAuthError(w, r, e)
		return
	}
	title := html.EscapeString(http.StatusText(e.Status))
	pageHeaders(w)
	w.WriteHeader(e.Status)
	_, _ = w.Write([]byte(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>` + title + ` · xaa-idp</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head><body><main><h1>` + title + `</h1><p>This request cannot be read: ` +
		html.EscapeString(e.Description) + `.</p><p><a href="` + html.EscapeString(s.issuer+pathApps) + `">My MCP servers</a></p></main></body></html>`))
}

// ignoreFoldedNames drops from a parsed form each parameter whose name is
// not lower-case ASCII. No OAuth or OpenID Connect parameter's is, names
// are case-sensitive and an unknown one is ignored (RFC 6749 section 3.1);
// but op's decoder (zitadel/schema) matches names with strings.EqualFold:
// Max_age, Response_mode, Redirect_uri (or max_age with the Kelvin sign's
// K) reached op as max_age, response_mode, redirect_uri, unseen by the
// IdP's checks, and beside the real one it won in the map's order.
func ignoreFoldedNames(form url.Values) {
	for name := range form {
		for i := 0; i < len(name); i++ {
			if c := name[i]; c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
				delete(form, name)
				break
			}
		}
	}
}

// bodyHeadersError refuses a body the IdP would misread: one with a
// content coding, which it does not decode (RFC 9110 section 8.4.1), and
// one with two Content-Type headers, of which Go reads the first. Without
// this, such a body was refused for what the misread form lacked
// ("grant_type is missing"), or read as one of the two types. Both are
// invalid_request (RFC 6749 section 5.2), the one status its errors have,
// rather than RFC 9110's 415; the coding's answer says Accept-Encoding:
// identity. nil for a request without a body.
func bodyHeadersError(w http.ResponseWriter, r *http.Request) *oauthError {
	if r.ContentLength == 0 {
		return nil
	}
	if msg, _ := bodyheader.Refusal(w, r.Header); msg != "" {
		return invalidRequest("%s", msg)
	}
	return nil
}

// formError is the answer to a query or form that cannot be parsed: 413
// for a body over the limit, else 400 (RFC 6749 section 5.2,
// invalid_request), saying what was wrong (bodyheader.FormRefusal).
func formError(err error) *oauthError {
	if tooLarge, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return errorf("invalid_request", http.StatusRequestEntityTooLarge, "the request body is larger than %d bytes", tooLarge.Limit)
	}
	return invalidRequest("%s", bodyheader.FormRefusal(err))
}

// Issuer returns the issuer URL.
func (s *Server) Issuer() string { return s.issuer }

// ownIssuers are this tenant's issuer and the other tenants': a metadata
// document URL on one of their hosts and ports is the IdP itself.
func (s *Server) ownIssuers() []string {
	own := []string{s.issuer}
	for _, o := range s.others {
		own = append(own, o.Issuer)
	}
	return own
}

// OtherTenants returns the tenants served beside this one (Options.OtherTenants).
func (s *Server) OtherTenants() []policy.TenantIssuer { return s.others }

// Tenant returns the tenant's id, "" for a file without tenants.
func (s *Server) Tenant() string { return s.tenant }

// Path returns the path the Server is mounted under, its issuer's: a
// tenant's path (after the base URL's, if any), "" at the root. Its links
// and redirects start with it.
func (s *Server) Path() string { return s.path }

// Config returns the running policy.
func (s *Server) Config() *policy.Config { return s.cfg.Load() }

// SetConfig swaps the running policy atomically; requests in flight finish
// with the policy they started with.
func (s *Server) SetConfig(c *policy.Config) {
	s.useKeys(c)
	old := s.cfg.Swap(c)
	var moves map[string]string
	if old != nil {
		s.noteGoneUsers(old, c)
		moves = userMoves(old, c)
	}
	s.denyOrphanedRequests(old, c)
	s.faults.loadConfig(c.Faults, moves)
	s.cimd.load(c.CIMD)
}

// startAlgs are the algorithms whose keys a start reads besides those of
// signing: the servers', and ES256 when the IdP signs Security Event
// Tokens (Options.SecEventKey).
func startAlgs(opts Options) []string {
	algs := serverAlgs(opts.Config)
	if opts.SecEventKey && !slices.Contains(algs, policy.AlgES256) {
		algs = append(algs, policy.AlgES256)
	}
	return algs
}

// serverAlgs are the algorithms of the MCP servers' own signing_alg.
func serverAlgs(c *policy.Config) []string {
	var algs []string
	for i := range c.MCPServers {
		if alg := c.MCPServers[i].SigningAlg; alg != "" && !slices.Contains(algs, alg) {
			algs = append(algs, alg)
		}
	}
	return algs
}

// useKeys makes the keys of a new configuration current before it is
// used: those of signing.id_token_alg, signing.id_jag_alg and the servers'
// signing_alg, each published before the first token it signs (an
// authorization server that fetched the JWKS once would refuse an ID-JAG
// signed with a key it did not hold). A key that signs none of them any
// more stays published, and kept in the state directory, until the tokens
// it signed under either configuration have expired (signer.Ring.Use).
// New has the ring make those of the first configuration
// (signer.Options.ServerAlgs).
func (s *Server) useKeys(c *policy.Config) {
	overlap := keyOverlap(c)
	if old := s.Config(); old != nil {
		overlap = max(overlap, keyOverlap(old))
	}
	if err := s.keys.Use(c.Signing.IDTokenAlg, c.Signing.IDJAGAlg, serverAlgs(c), overlap); err != nil {
		slog.Error("cannot make the signing keys of the configuration", "err", err)
	}
}

// RegisterClient registers a client that the product itself uses, such as
// the web console, which signs its admins in through the login page like
// any other OpenID client. Such a client is not part of the configuration:
// it is never written back to the file nor shown by the admin API, it wins
// over a configured client with the same client_id, and it may never use
// token exchange. start, when not "", is the page where the client's
// sign-in starts (the console's URL): the login page of a sign-in request
// of the client that has expired links there.
func (s *Server) RegisterClient(c policy.Client, start string) {
	c.TokenExchange = false
	s.ownClients.Store(c.ClientID, &c)
	if start != "" {
		s.ownStarts.Store(c.ClientID, start)
	}
}

// startOf is where a sign-in of the product's own client id starts again
// (RegisterClient), "" for any other client_id.
func (s *Server) startOf(id string) string {
	start, _ := s.ownStarts.Load(id)
	u, _ := start.(string)
	return u
}

// client returns the client with this client_id for logins and the code
// and refresh grants: one the product registered, else the configuration's.
func (s *Server) client(cfg *policy.Config, id string) *policy.Client {
	if c, ok := s.ownClients.Load(id); ok {
		return c.(*policy.Client)
	}
	return cfg.Client(id)
}

// Now returns the IdP's clock reading.
func (s *Server) Now() time.Time { return s.now() }

// Clock returns the IdP's clock, to set, advance or freeze.
func (s *Server) Clock() *Clock { return s.clock }

// Audit returns the audit log.
func (s *Server) Audit() *audit.Log { return s.audit.Log }

// authorize hands /authorize to op with the SSO session in the context, so
// that prompt=none can be answered (OIDC Core section 3.1.2.1): op hands
// the storage the request's context, not its cookies. A request without
// scope gets openid (scopes.go). Before op, it refuses a request when the pending logins are at
// security.max_pending_logins (a flood must not evict a login in progress)
// or its client address holds its share of them (pendingShare),
// and a redirect_uri that is not registered exactly (redirect.go).
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		writeAuthorizeError(w, r, errorf("invalid_request", http.StatusMethodNotAllowed, "the authorization endpoint accepts GET and POST (OpenID Connect Core section 3.1.2.1)"))
		return
	}
	if !defaultOpenIDScope(w, r) {
		return
	}
	if dup := repeatedParam(r.Form); dup != "" {
		writeAuthorizeError(w, r, duplicateParam(dup, "3.1"))
		return
	}
	if n := paramBytes(r.Form); n > MaxAuthorizeParamBytes {
		writeAuthorizeError(w, r, errorf("invalid_request", http.StatusBadRequest,
			"the authorization request's parameters are %d bytes; at most %d are accepted (state, nonce and login_hint included)", n, MaxAuthorizeParamBytes))
		return
	}
	source := sourceOf(r)
	limit := s.Config().Security.MaxPendingLogins
	if retryAt, mine, ok := s.store.authRequests.RoomForShare(limit, bySource, source, pendingShare(limit)); !ok {
		desc := "the IdP has too many sign-ins in progress (security.max_pending_logins); retry later"
		if mine {
			desc = tooManyFromSource
		}
		e := errorf("temporarily_unavailable", http.StatusServiceUnavailable, "%s", desc)
		e.RetryAfter = max(retryAt.Sub(s.now()), time.Second)
		writeAuthorizeError(w, r, e)
		return
	}
	if e := s.checkRedirectURI(r.Context(), r.Form); e != nil {
		if r.Form.Get("client_id") != "" {
			// Refused without a redirect: the audit is the one record
			// (a request naming no client reaches no client's decision).
			s.auditAuthorizeRefusal(r, e)
		}
		writeAuthorizeError(w, r, e)
		return
	}
	if rt := r.Form.Get("response_type"); rt != "" && rt != "code" {
		// RFC 6749 section 4.1.2.1: the server does not support this
		// response type at all (discovery: response_types_supported
		// ["code"]); op would answer unauthorized_client, which blames the
		// client's registration.
		s.redirectError(w, r, "unsupported_response_type",
			fmt.Sprintf("response_type %q is not supported: this IdP issues authorization codes only (response_type=code)", audit.Truncate(rt)))
		return
	}
	if mode := r.Form.Get("response_mode"); mode != "" && mode != string(oidc.ResponseModeQuery) {
		// op would answer in the fragment or with a form post, where
		// issResponse cannot add iss (RFC 9207), and discovery announces
		// the query alone (response_modes_supported).
		s.redirectError(w, r, "invalid_request",
			fmt.Sprintf("response_mode %q is not supported; this IdP answers in the query (response_modes_supported: [\"query\"]): omit response_mode or send query", audit.TruncateTo(mode, 64)))
		return
	}
	if r.Form.Has("request_uri") {
		// op ignores it (and answers request= with request_not_supported):
		// the sign-in would go on with the parameters outside the request
		// object, not the client's own (OpenID Connect Core section 6.2;
		// a PAR reference alike). Discovery says false.
		s.redirectError(w, r, "request_uri_not_supported",
			"request_uri is not supported (request_uri_parameter_supported: false): send the parameters in the authorization request itself")
		return
	}
	if e := hintTypeError(r.Form.Get("id_token_hint")); e != nil {
		s.redirectError(w, r, e.Code, e.Description)
		return
	}
	if hint := r.Form.Get("id_token_hint"); hint != "" {
		// op answers such a hint login_required, "The id_token_hint is
		// invalid. If you have any questions, you may contact the
		// administrator of the application.": said as end_session says
		// it, in its words. An expired ID token of this IdP is a hint all the same.
		ctx := op.ContextWithIssuer(r.Context(), s.issuer)
		if _, err := op.VerifyIDTokenHint[*oidc.IDTokenClaims](ctx, hint, s.provider.IDTokenHintVerifier(ctx)); err != nil && !errors.As(err, &op.IDTokenHintExpiredError{}) {
			s.redirectError(w, r, string(oidc.LoginRequired),
				"id_token_hint invalid: "+s.hintReason(hint, err)+"; send the id_token this IdP issued to the client, or leave id_token_hint out")
			return
		}
	}
	ctx := withSource(r.Context(), source)
	if sess := s.session(r); sess != nil {
		ctx = withSession(ctx, sess)
	}
	s.serveOP(s.withIssParam(w, r.Form.Get("redirect_uri")), r.WithContext(ctx))
}

// redirectError sends an authorization error back to the request's
// redirect_uri, which checkRedirectURI has accepted: error,
// error_description and state (RFC 6749 section 4.1.2.1), then iss (RFC
// 9207), as op sends its own.
func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, code, description string) {
	params := url.Values{"error": {code}, "error_description": {wireDescription(description)}}
	if state := r.Form.Get("state"); state != "" {
		params.Set("state", state)
	}
	target := r.Form.Get("redirect_uri")
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	http.Redirect(s.withIssParam(w, target), r, target+sep+params.Encode(), http.StatusFound)
}

// MaxAuthorizeParamBytes bounds an authorization request's parameters,
// names and values together: the request is kept while it waits for its
// login (security.max_pending_logins of them, 10 minutes each), and
// without a bound each could hold a 64 KiB query (the header limit), a
// gigabyte for a full store. Real requests are far smaller; the bound
// leaves room for a long state and several resource values.
const MaxAuthorizeParamBytes = 8 << 10

// paramBytes is the size of a form's names and values, decoded.
func paramBytes(form url.Values) int {
	n := 0
	for name, values := range form {
		for _, v := range values {
			n += len(name) + len(v)
		}
	}
	return n
}

// repeatedParam names a parameter of an authorization or end_session
// request sent more than once, empty or not, "" if none (RFC 6749 section
// 3.1: parameters MUST NOT be included more than once). resource may
// repeat (RFC 8707; end_session has none). checkRedirectURI reads the first
// redirect_uri and client_id, op the last: with two, op would use one the
// check never saw.
func repeatedParam(form url.Values) string {
	for name, values := range form {
		if len(values) > 1 && name != "resource" {
			return name
		}
	}
	return ""
}

// authorizeCallback hands the login page's redirect to op only for the
// browser that completed the sign-in: the one whose SSO session did
// (authRequest.SessionID). The callback answers with the code, and the
// request's ID is no secret from whoever started the request; without
// this, someone who started a sign-in and had a signed-in victim open its
// login link (which completes at once with the victim's SSO session) could
// fetch the victim's code here and redeem it with its own PKCE verifier.
// A request not completed yet is the login page's to finish: op would
// redirect to the client with interaction_required, for anyone holding the
// ID and as often as asked, logging a warning each time. The browser
// arrives by GET after the login form; another method (a HEAD included,
// which would fetch the code) is 405.
func (s *Server) authorizeCallback(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		MethodNotAllowed(http.MethodGet)(w, r)
		return
	}
	ar, ok := s.store.authRequests.Get(r.Form.Get("id"))
	if !ok {
		// Answered here, as the login page answers it: op would log an
		// error for each, which anyone could flood the log with.
		pageHeaders(w)
		s.loginRequestGone(w, r, r.Form.Get("id"))
		return
	}
	if !ar.Done() {
		pageHeaders(w)
		loginError(w, http.StatusBadRequest, loginView{}, "This sign-in is not finished: sign in on the login page first, or start again from your application.")
		return
	}
	if sess := s.session(r); sess == nil || sess.SID != ar.SessionID {
		// Audited: the code of someone's sign-in was asked for by
		// another browser (the attack above, or a browser signed out).
		ev := audit.Event{Type: audit.TypeLogin, Outcome: audit.Denied, Error: "access_denied", ClientID: ar.ClientID, Sub: ar.Subject,
			Reason: "the sign-in's code was asked for by a browser without the SSO session that completed it (another browser, or one signed out since)"}
		if u := s.Config().UserBySub(ar.Subject); u != nil {
			ev.User = u.Username
		}
		_, _ = s.audit.Append(ev)
		pageHeaders(w)
		loginError(w, http.StatusForbidden, loginView{},
			"This sign-in was completed in another browser, or that browser has signed out since. Start again from your application.")
		return
	}
	// The redirect carries the code (RFC 6749 section 10.3: a credential).
	w.Header().Set("Cache-Control", "no-store")
	s.serveOP(s.withIssParam(w, ar.RedirectURI), r)
}

type ctxKey int

const (
	sessionKey ctxKey = iota
	tokenNoteKey
	sourceKey
	// assertedKey holds the client_id a client assertion authenticated,
	// verified before op serves a code or refresh grant (checkOPClient).
	assertedKey
)

func withSession(ctx context.Context, s *ssoSession) context.Context {
	return context.WithValue(ctx, sessionKey, s)
}

func sessionFromContext(ctx context.Context) *ssoSession {
	s, _ := ctx.Value(sessionKey).(*ssoSession)
	return s
}
