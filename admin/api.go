// Package admin is the admin JSON API (docs/http.md) that scripts and the
// web console share: audit queries, explain, the running configuration,
// faults, the clock and the signing keys. It reads and changes the IdP only
// through the IdP interface it declares.
package admin

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/xaa-idp/xaa-idp/access"
	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/internal/bodyheader"
	"github.com/xaa-idp/xaa-idp/internal/httpjson"
	"github.com/xaa-idp/xaa-idp/internal/redact"
	"github.com/xaa-idp/xaa-idp/internal/throttle"
	"github.com/xaa-idp/xaa-idp/policy"
)

// IdP is what the API needs of the identity provider it administers:
// *idp.Server implements it. Faults, keys and the clock are the IdP's own,
// so their types are too.
type IdP interface {
	Config() *policy.Config
	// Issuer is the IdP's issuer URL: SCIM's resource locations are
	// under it.
	Issuer() string
	// OtherTenants are the tenants served beside this one, whose issuers
	// explain refuses as the token exchange does.
	OtherTenants() []policy.TenantIssuer
	// Path is the path the IdP is mounted under: "" at the root, a
	// tenant's path (docs/configuration.md, "Tenants"). The API is at
	// Path()+"/admin/api/", which its messages name.
	Path() string
	// Tenant is the tenant's id: "" for a file without tenants.
	Tenant() string
	Audit() *audit.Log
	Clock() *idp.Clock
	Faults() []idp.FaultStatus
	AddFaults(faults ...policy.Fault) ([]idp.FaultStatus, error)
	RemoveFault(id string) bool
	ClearFaults() int
	Keys() []idp.KeyInfo
	KeyOverlap() time.Duration
	RotateKeys(admin string) ([]idp.KeyRotation, error)
	// AccessRequests are the users' requests for access, which the API
	// lists, approves and denies (access_requests.go).
	AccessRequests() *access.Store
}

// AuditClientID is the client_id of the audit events of the admin API's
// own logins (HTTP Basic).
const AuditClientID = "admin-api"

// Throttle slows down password guessing per username: *throttle.Throttle
// implements it. Wait comes before the password is checked; a refused
// attempt reports neither Failure nor Success.
type Throttle interface {
	Wait(ctx context.Context, username string) (wait time.Duration, ok bool)
	Failure(username string)
	Success(username string)
	// Unchecked reports an attempt Wait let through whose password was not
	// checked after all (the IdP was busy): neither failure nor success.
	Unchecked(username string)
}

// API serves /admin/api/ to admin users only.
type API struct {
	idp      IdP
	now      func() time.Time
	mux      *http.ServeMux
	store    Store
	session  func(*http.Request) (string, bool)
	throttle Throttle
	// clockShared is Options.ClockShared.
	clockShared []*audit.Log
	// decisions serializes the decisions of access requests.
	decisions sync.Mutex
	// patches serializes the PATCHes of users, each a read of the user
	// and a write of it patched (patchUser): run at once, all but one
	// would find the version they read gone.
	patches sync.Mutex
	// unsettled holds the not_written errors of changes that the audit
	// log could not take when they failed (a full disk): appended before
	// the next change is, which is refused while they cannot be
	// (settleUnwritten).
	unsettledMu sync.Mutex
	unsettled   []audit.Event
	// configBody is the answer of GET /admin/api/config for the
	// configuration it was made of: made once per version, since at a
	// company's size it takes a YAML encoding and decoding of the whole.
	configBody atomic.Pointer[configAnswer]
	// refusalsUnrecorded counts the refused logins whose events the audit
	// log could not take since one it took: the first is logged, not
	// each (anyone can send wrong passwords, while the disk is full).
	refusalsUnrecorded audit.FailOnce
}

type configAnswer struct {
	cfg  *policy.Config
	body []byte
}

// Options configure the API.
type Options struct {
	IdP IdP
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Store, when set, makes the configuration editable through the API
	// (users, groups, clients, MCP servers and their access and deny
	// lists). It must be the store the IdP's configuration comes from
	// (app.New connects them). Without it those changes answer 501.
	Store Store
	// Session, when set, authenticates requests that carry no HTTP Basic
	// credentials: the web console's hook. It returns the username of the
	// console user signed in on the request ("" when none), and whether the
	// request carries the session's CSRF token. The user must still be an
	// enabled admin of the running configuration (else 401 or 403), and a
	// state-changing request (not GET, HEAD or OPTIONS) authenticated by a
	// session without the CSRF token is refused with 403 "csrf". HTTP Basic
	// requests need no CSRF token (scripts send them); a browser that has
	// remembered Basic credentials could be made to send a change from
	// another site, so a change whose Sec-Fetch-Site or Origin header shows
	// another site is refused with 403 "csrf" too.
	Session func(r *http.Request) (user string, csrfOK bool)
	// Throttle counts the failed HTTP Basic logins per username and
	// refuses a username's attempts with 429 and Retry-After while it
	// backs off. It should be the one the IdP's login page uses (app.New
	// shares one), so that a password is not guessed faster by trying
	// both. nil means one of the API's own, with the default rules.
	Throttle Throttle
	// ClockShared are the audit logs of the tenants served beside this
	// one, which run on its IdP's clock (app.Tenants): a change of the
	// clock is recorded in each of them too, naming this tenant and the
	// admin who made it.
	ClockShared []*audit.Log
}

// New returns the admin API for an IdP. With a Store that has a file, it
// first settles what a process which died left half done: a change that
// the audit log recorded but the process did not write (the admin_change
// with outcome error follows), and an access request whose approval's
// entry was written but which was not marked approved (it is marked now).
func New(o Options) *API {
	a := &API{idp: o.IdP, now: o.Now, mux: http.NewServeMux(), store: o.Store, session: o.Session, throttle: o.Throttle, clockShared: o.ClockShared}
	if a.now == nil {
		a.now = time.Now
	}
	if a.throttle == nil {
		a.throttle = throttle.New(throttle.Options{})
	}
	a.reconcile()
	a.settleApprovals()
	a.mux.HandleFunc("GET /admin/api/audit", a.audit)
	a.mux.HandleFunc("GET /admin/api/explain", a.explain)
	a.mux.HandleFunc("GET /admin/api/config", a.config)
	a.configRoutes()
	a.accessRequestRoutes()
	a.faultRoutes()
	a.scimRoutes()
	a.mux.HandleFunc("GET /admin/api/clock", a.getClock)
	a.mux.HandleFunc("PUT /admin/api/clock", a.putClock)
	a.mux.HandleFunc("GET /admin/api/keys", a.listKeys)
	a.mux.HandleFunc("POST /admin/api/keys/rotate", a.rotateKeys)
	return a
}

// Config returns the IdP's running configuration, by which the API admits
// admins. (The configuration routes show the Store's, which the IdP follows.)
func (a *API) Config() *policy.Config { return a.idp.Config() }

// Now returns the time on the API's clock (Options.Now).
func (a *API) Now() time.Time { return a.now() }

// Audit returns the audit log's events that match f: what GET
// /admin/api/audit answers.
func (a *API) Audit(f audit.Filter) []audit.Event { return a.idp.Audit().Query(f) }

// AuditPage is Audit that also reports whether more events match beyond those returned: then the
// next page is f with Before set to the ID of the last event returned (audit.Log.QueryPage).
func (a *API) AuditPage(f audit.Filter) ([]audit.Event, bool) { return a.idp.Audit().QueryPage(f) }

// AuditOlder reports whether an event older than the one with ID id
// matches f's filters (its cursors and limit aside): whether a page that
// ends with id has an older page.
func (a *API) AuditOlder(f audit.Filter, id string) bool {
	f.Before, f.After, f.Limit = id, "", 1
	return len(a.idp.Audit().Query(f)) > 0
}

// AuditNewer reports whether an event newer than the one with ID id
// matches f's filters (its cursors and limit aside): whether a page that
// begins with id has a newer page.
func (a *API) AuditNewer(f audit.Filter, id string) bool {
	f.Before, f.After, f.Limit = "", id, 1
	return len(a.idp.Audit().Query(f)) > 0
}

// SubscribeAudit returns the audit log's events as they are appended, for
// a live view, until cancel is called; buffer bounds the events held for a
// slow reader (see audit.Log.Subscribe).
func (a *API) SubscribeAudit(buffer int) (events <-chan *audit.Event, cancel func()) {
	return a.idp.Audit().Subscribe(buffer)
}

// ServeHTTP lets admins through: HTTP Basic with an admin's username and
// password, or the console's session (Options.Session). 401 without valid
// credentials, 403 for a valid user who is not an admin, and 403 "csrf"
// for a change by session without the CSRF token.
//
// A bearer token of the scim: section (policy.SCIM) admits a provisioning
// client to the SCIM endpoints alone (requireSCIMToken).
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if token, ok := bearer(r); ok {
		actor := a.requireSCIMToken(w, r, token)
		if actor == "" {
			return
		}
		r = withToken(withAdmin(r, actor))
	} else {
		u := a.requireAdmin(w, r)
		if u == nil {
			return
		}
		r = withAdmin(r, u.Username)
	}
	h, pattern := a.mux.Handler(r)
	if pattern == "" {
		noRoute(w, r, h)
		return
	}
	if !IsSCIM(r.URL.Path) && !readableQuery(w, r, slices.Contains(takesQuery, pattern)) {
		return
	}
	if r.ContentLength != 0 && !plainBody(w, r) {
		return
	}
	if r.Method == http.MethodDelete && !a.noBody(w, r, "nothing was removed") {
		return
	}
	a.mux.ServeHTTP(w, r) // which sets the request's path values; Handler does not
}

// takesQuery are the routes whose handlers read query parameters, and
// refuse those they do not take (knownOnly, sentOnce); SCIM's read their
// own. Every other route takes none (readableQuery).
var takesQuery = []string{
	"GET /admin/api/audit",
	"GET /admin/api/explain",
	"GET /admin/api/users",
	"GET /admin/api/access-requests",
	"DELETE /admin/api/users/{username}",
	"DELETE /admin/api/groups/{name}",
}

// readableQuery reports whether r's query can be read, and, for a route
// that takes no query parameters (takes false), is empty; otherwise it
// answers 400 saying why. Ignored, a parameter would be answered as if it
// had been applied: /servers?id=files read as a filter, a change made as
// if ?dry_run=true had been honoured; and a pair that does not decode
// (user=al%zzice) is dropped by url.Values, which would answer every
// event as if filtered by it.
func readableQuery(w http.ResponseWriter, r *http.Request, takes bool) bool {
	if r.URL.RawQuery == "" {
		return true
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	switch {
	case err != nil:
		refuseAPI(w, r, http.StatusBadRequest, "invalid_request", "the query cannot be read ("+err.Error()+"); percent-encode its names and values (RFC 3986) and separate them with &")
	case !takes && len(q) > 0:
		refuseAPI(w, r, http.StatusBadRequest, "invalid_request", r.Method+" "+requestPath(r)+" takes no query parameters, and parameter "+
			strconv.Quote(audit.Truncate(slices.Sorted(maps.Keys(q))[0]))+" was sent; nothing was done")
	default:
		return true
	}
	return false
}

// plainBody reports whether r's body can be read as its one Content-Type
// says; otherwise it answers. Two Content-Type headers are 400, as two
// Authorization headers are: Go reads the first, and the body would be
// decoded as one of two things it says it is. A content coding is 415,
// as a body that is not JSON (RFC 9110 section 15.5.16): none is decoded,
// and the compressed bytes were refused as "not JSON".
func plainBody(w http.ResponseWriter, r *http.Request) bool {
	msg, coding := bodyheader.Refusal(w, r.Header)
	switch {
	case msg == "":
		return true
	case coding:
		refuseAPI(w, r, http.StatusUnsupportedMediaType, "unsupported_media_type", msg)
	default:
		refuseAPI(w, r, http.StatusBadRequest, "invalid_request", msg)
	}
	return false
}

// noBody reports whether r, a call that takes no body, came without one
// (white space aside); otherwise it answers 400 saying so, and that done
// says what did not happen. A body where none is defined is not the
// documented shape, and like every other is refused (docs/http.md). Sent
// with a form's Content-Type, even none is refused 403 csrf (formType).
func (a *API) noBody(w http.ResponseWriter, r *http.Request, done string) bool {
	// A declared length over 1 KiB (of white space, taken as none) is
	// refused before a byte is read (readLimited).
	body, err := readLimited(w, r, 1<<10)
	if err != nil || len(bytes.TrimSpace(body)) > 0 {
		refuseAPI(w, r, http.StatusBadRequest, "invalid_request", r.Method+" "+r.URL.Path+" takes no body; send none ("+done+")")
		return false
	}
	if mt := formType(r); mt != "" {
		// White space, or a body of unknown length that held nothing,
		// sent as a form: requireAdmin refuses one declared empty.
		a.refuseForm(w, r, a.idp.Config().User(adminName(r)), mt)
		return false
	}
	return true
}

// noRoute answers a request that no route of the API takes as the API answers, in JSON: 404
// not_found, or 405 method_not_allowed with the Allow header the mux computed (h is the mux's
// own plain-text answer, run only for its status and headers); under the SCIM endpoints, SCIM
// errors (refuseAPI).
func noRoute(w http.ResponseWriter, r *http.Request, h http.Handler) {
	probe := &headerProbe{header: http.Header{}}
	h.ServeHTTP(probe, r)
	if probe.status == http.StatusMethodNotAllowed {
		allow := probe.header.Get("Allow")
		w.Header().Set("Allow", allow)
		refuseAPI(w, r, http.StatusMethodNotAllowed, "method_not_allowed",
			r.Method+" is not allowed on "+r.URL.Path+"; it allows "+allow)
		return
	}
	if IsSCIM(r.URL.Path) {
		scimError(w, http.StatusNotFound, "", "no SCIM endpoint at "+r.Method+" "+r.URL.Path+" (docs/http.md, \"SCIM provisioning\")")
		return
	}
	writeAPIError(w, http.StatusNotFound, "not_found",
		"no admin API endpoint at "+r.Method+" "+r.URL.Path+" (docs/http.md, \"Admin API\")")
}

// headerProbe is a ResponseWriter that keeps the status and headers written to it and drops the
// body.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header { return p.header }

func (p *headerProbe) WriteHeader(status int) {
	if p.status == 0 {
		p.status = status
	}
}

func (p *headerProbe) Write(b []byte) (int, error) {
	p.WriteHeader(http.StatusOK)
	return len(b), nil
}

// requireAdmin answers 401 or 403 itself and returns nil when the caller
// is not an admin.
func (a *API) requireAdmin(w http.ResponseWriter, r *http.Request) *policy.User {
	if len(r.Header.Values("Authorization")) > 1 {
		// BasicAuth reads the first: "bob, then alice" would be bob's
		// request and "alice, then bob" alice's. Neither is checked.
		refuseAPI(w, r, http.StatusBadRequest, "invalid_request", "the request has more than one Authorization header; send one")
		return nil
	}
	name, pw, ok := r.BasicAuth()
	if !ok && a.session != nil {
		if user, csrfOK := a.session(r); user != "" {
			return a.sessionAdmin(w, r, user, csrfOK)
		}
	}
	if !ok {
		askSignIn(w, r)
		return nil
	}
	// Credentials beyond the login form's bounds are nobody's: refused
	// unchecked and kept out of the throttle, whose entries are keyed by
	// the username and would otherwise hold whatever a header can carry.
	if len(name) > idp.MaxUsernameBytes || len(pw) > idp.MaxPasswordBytes {
		// As at the login form, an over-long username (a pasted token or
		// password, more likely than a name) is neither audited nor logged.
		if len(name) > idp.MaxUsernameBytes {
			name = ""
		}
		a.loginDenied(r, name, fmt.Sprintf("the username is longer than %d bytes or the password longer than %d bytes", idp.MaxUsernameBytes, idp.MaxPasswordBytes))
		askSignIn(w, r)
		return nil
	}
	// The password is not even checked during a back-off: guessing
	// cannot go on, and refused attempts do not count (throttle.Allow).
	if wait, ok := a.throttle.Wait(r.Context(), name); !ok {
		a.loginDenied(r, name, "too many failed logins for this username; refused without checking the password")
		w.Header().Set("Retry-After", throttle.RetryAfter(wait))
		refuseAPI(w, r, http.StatusTooManyRequests, "too_many_requests",
			"too many failed logins for this username: try again in "+throttle.RetryAfter(wait)+" s (Retry-After)")
		return nil
	}
	cfg := a.idp.Config()
	u := cfg.User(name)
	var denied string
	var checkErr error
	switch {
	case u == nil:
		checkErr = cfg.CheckNoUserPassword(r.Context(), pw) // as long as a wrong password takes
		denied = "unknown username"
	default:
		var ok bool
		ok, checkErr = cfg.CheckPassword(r.Context(), u, pw)
		denied = passwordRefusal(ok, checkErr)
		if denied == "" && !u.Active() {
			denied = "user is disabled"
		}
	}
	if errors.Is(checkErr, policy.ErrBusy) {
		// The queue of password checks is full (policy.BcryptPlace): not
		// checked, not a failure, and alike for every username.
		a.throttle.Unchecked(name)
		a.loginDenied(r, name, "password not checked: "+policy.ErrBusy.Error()+" (the IdP is busy)")
		secs := throttle.RetryAfter(policy.BcryptRetryAfter)
		w.Header().Set("Retry-After", secs)
		refuseAPI(w, r, http.StatusServiceUnavailable, "temporarily_unavailable",
			"the IdP is busy checking other passwords: try again in "+secs+" s (Retry-After)")
		return nil
	}
	if denied != "" {
		a.throttle.Failure(name)
		a.loginDenied(r, name, denied)
		askSignIn(w, r)
		return nil
	}
	a.throttle.Success(name)
	if !u.MayAdminister() {
		a.userDenied(r, u, NotAdmin)
		refuseAPI(w, r, http.StatusForbidden, "forbidden", "user "+u.Username+" is not an admin (admin: true in the configuration)")
		return nil
	}
	if changes(r) && crossSite(r) {
		a.userDenied(r, u, "a change sent by a browser from another site is refused")
		refuseAPI(w, r, http.StatusForbidden, "csrf", "a change sent by a browser from another site is refused")
		return nil
	}
	if r.ContentLength == 0 && changes(r) {
		if mt := formType(r); mt != "" {
			a.refuseForm(w, r, u, mt)
			return nil
		}
	}
	return u
}

// refuseForm answers 403 csrf, and audits, a change without a body (or
// with white space alone, which a call taking no body reads as none:
// noBody) sent with mt, a form's Content-Type (formType).
func (a *API) refuseForm(w http.ResponseWriter, r *http.Request, u *policy.User, mt string) {
	if u != nil {
		a.userDenied(r, u, "a change without a body sent as a form ("+mt+") is refused, as a page of another site can send one")
	}
	refuseAPI(w, r, http.StatusForbidden, "csrf", "a change without a body sent as a form (Content-Type "+mt+
		") is refused: a page of another site can make a browser that remembers your password send one. Send no Content-Type, or application/json")
}

// formType returns the media type of r's Content-Type when it is one an
// HTML form sends (the three a page of another site can post without
// asking, Fetch standard's CORS-safelisted request-header). Sent without
// a body (the empty POST of a form without fields), or with white space
// alone (a fetch of another site's page needs no permission for either),
// it is refused (requireAdmin, noBody): the checks of a JSON body never
// see it. crossSite catches such a post by its Origin or Sec-Fetch-Site,
// which a browser or an extension may leave out; a script never needs a
// form's type to send nothing. Any other body of a form's type is refused
// as not JSON (checkedBody).
func formType(r *http.Request) string {
	// The type's essence, parameters aside, as the Fetch standard reads
	// it: a browser sends a value Go's parser refuses ("text/plain; =").
	mt, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	switch mt {
	case "application/x-www-form-urlencoded", "multipart/form-data", "text/plain":
		return mt
	}
	return ""
}

// askSignIn answers 401 asking for what the path takes: an admin's HTTP
// Basic, and under SCIM a bearer token of scim.tokens too.
func askSignIn(w http.ResponseWriter, r *http.Request) {
	msg := "sign in with an admin user's username and password (HTTP Basic)"
	if IsSCIM(r.URL.Path) {
		msg += ", or send a SCIM bearer token of the configuration's scim.tokens (Authorization: Bearer)"
	}
	unauthorized(w, r, msg)
}

func unauthorized(w http.ResponseWriter, r *http.Request, msg string) {
	w.Header().Set("WWW-Authenticate", `Basic realm="xaa-idp admin", charset="UTF-8"`)
	if IsSCIM(r.URL.Path) {
		// SCIM takes a bearer token too (Entra, Okta's HTTP Header).
		w.Header().Add("WWW-Authenticate", scimChallenge)
	}
	refuseAPI(w, r, http.StatusUnauthorized, "unauthorized", msg)
}

// refuseAPI answers a refusal that every endpoint of the API makes (the
// authentication, the throttle, the header and body checks): the admin
// API's error, or under scimPrefix a SCIM error (RFC 7644 section 3.12),
// which is what a SCIM client parses. Headers already set (Retry-After,
// WWW-Authenticate) are kept.
func refuseAPI(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	if IsSCIM(r.URL.Path) {
		scimRefuse(w, status, msg)
		return
	}
	writeAPIError(w, status, code, msg)
}

// NotAdmin is the audited reason of a user refused for not being an admin
// (an authorization refusal, audited as a refused login since 2026-12-06),
// by the admin API, SCIM and the console.
const NotAdmin = "user is not an admin (admin: true in the configuration)"

// loginDenied audits a refused HTTP Basic authentication, or a user it
// authenticated who is not an admin: the username (cut, since the request
// chose it), never the password.
func (a *API) loginDenied(r *http.Request, name, reason string) {
	a.loginDeniedSub(r, name, "", reason)
}

// userDenied is loginDenied of a user the IdP knows (the right password,
// but no admin, or a cross-site change): the event names the user's sub
// too, as the console's refusal does.
func (a *API) userDenied(r *http.Request, u *policy.User, reason string) {
	a.loginDeniedSub(r, u.Username, u.Sub, reason)
}

func (a *API) loginDeniedSub(r *http.Request, name, sub, reason string) {
	ev := audit.Event{
		Type:     audit.TypeLogin,
		Outcome:  audit.Denied,
		Error:    "access_denied",
		ClientID: AuditClientID,
		User:     audit.Truncate(name),
		Sub:      sub,
		Reason:   reason,
		Details:  map[string]any{"method": r.Method, "path": audit.Truncate(r.URL.Path)},
	}
	if _, err := a.idp.Audit().Append(ev); err != nil {
		a.refusalsUnrecorded.Failed("audit log: a refused admin API login was not recorded; said once until one is", "err", err)
		return
	}
	a.refusalsUnrecorded.Succeeded("audit log: refused admin API logins are recorded again", "unrecorded")
}

// changes reports whether a request may change state: not GET, HEAD or
// OPTIONS.
func changes(r *http.Request) bool {
	return r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions
}

// crossSite reports whether a browser says the request comes from another
// site (Fetch Metadata, or the Origin of a form or fetch); scripts send
// neither header.
func crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return true
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		return err != nil || u.Host != r.Host
	}
	return false
}

// sessionAdmin admits a request authenticated by the console's session.
func (a *API) sessionAdmin(w http.ResponseWriter, r *http.Request, user string, csrfOK bool) *policy.User {
	u := a.idp.Config().User(user)
	switch {
	case !u.Active():
		refuseAPI(w, r, http.StatusUnauthorized, "unauthorized", "the console session's user "+user+" no longer exists or is disabled; sign in again")
		return nil
	case !u.MayAdminister():
		a.userDenied(r, u, NotAdmin)
		refuseAPI(w, r, http.StatusForbidden, "forbidden", "user "+u.Username+" is not an admin (admin: true in the configuration)")
		return nil
	case !csrfOK && changes(r):
		a.userDenied(r, u, "a change through the console session without the session's CSRF token (X-CSRF-Token) is refused")
		refuseAPI(w, r, http.StatusForbidden, "csrf", "a change through the console session needs the session's CSRF token (X-CSRF-Token); reload the page and try again")
		return nil
	}
	return u
}

func writeAPIError(w http.ResponseWriter, status int, code, msg string) {
	writeAPI(w, status, map[string]string{"error": code, "error_description": msg})
}

// writeAPI writes an answer of the API. It is not httpjson.Write because
// the API's answers are indented: people read them as they come, from curl
// and from `xaa-idp keys list`, which prints the body. The headers are the
// same but for Pragma, which only HTTP/1.0 caches read.
func writeAPI(w http.ResponseWriter, status int, v any) {
	apiHeaders(w, status)
	_ = encodeAPI(w, v)
}

// apiHeaders writes the status and headers of an answer of the API.
func apiHeaders(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
}

// encodeAPI writes v to out as the API's answers are encoded: indented,
// without HTML escapes (httpjson.NewEncoder).
func encodeAPI(out io.Writer, v any) error {
	enc := httpjson.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// encodeAPIList writes the JSON array of n elements, element(i) each, as
// encodeAPI writes a slice of them, byte for byte; but one element at a
// time, made only when it is written, so that a long answer's size does
// not reach memory.
func encodeAPIList(out io.Writer, n int, element func(i int) any) error {
	if n == 0 {
		_, err := io.WriteString(out, "[]\n")
		return err
	}
	bw := bufio.NewWriterSize(out, 32<<10)
	var b bytes.Buffer
	enc := httpjson.NewEncoder(&b)
	enc.SetIndent("  ", "  ")
	sep := "[\n  "
	for i := range n {
		b.Reset()
		if err := enc.Encode(element(i)); err != nil {
			return err
		}
		bw.WriteString(sep)
		if _, err := bw.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n"))); err != nil {
			return err // the client has gone: don't make the rest
		}
		sep = ",\n  "
	}
	bw.WriteString("\n]\n")
	return bw.Flush()
}

// sentOnce reports whether each of params is in q at most once, and
// otherwise answers 400 naming the first that is not.
func sentOnce(w http.ResponseWriter, q url.Values, params []string) bool {
	for _, p := range params {
		if len(q[p]) > 1 {
			writeAPIError(w, http.StatusBadRequest, "invalid_request", "parameter "+strconv.Quote(p)+" was sent more than once; give it once")
			return false
		}
	}
	return true
}

// knownOnly reports whether every parameter of q is one of known;
// otherwise it answers 400 naming the first other one and listing known.
// Ignored, a misspelt name (users= for user=) would be answered as if it
// had been applied: every event read as alice's.
func knownOnly(w http.ResponseWriter, q url.Values, known []string) bool {
	for _, p := range slices.Sorted(maps.Keys(q)) {
		if !slices.Contains(known, p) {
			writeAPIError(w, http.StatusBadRequest, "invalid_request", "parameter "+strconv.Quote(audit.Truncate(p))+" is not one of "+strings.Join(known, ", "))
			return false
		}
	}
	return true
}

// The parameters GET /admin/api/audit and GET /admin/api/explain take.
var (
	auditParams   = []string{"type", "user", "client", "server", "outcome", "since", "until", "before", "after", "limit"}
	explainParams = []string{"user", "client", "audience", "resource", "scope", "auth_age"}
)

// The page sizes of GET /admin/api/audit: a page is large enough to read
// at once and small enough to answer quickly; more is paged with before=
// and the Link header.
const (
	DefaultAuditLimit = 100
	MaxAuditLimit     = 1000
)

// audit answers a page of the audit log, newest first, and a Link to the
// next (older) page when there is one (RFC 8288).
func (a *API) audit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	// A filter that can match nothing, misspelt or given twice (one value
	// only could count), would answer an empty page that reads as
	// "nothing happened"; one of a name the API does not know, a page of
	// everything that reads as the filter's.
	if !knownOnly(w, q, auditParams) || !sentOnce(w, q, auditParams) {
		return
	}
	for _, c := range []struct {
		param string
		known []string
	}{{"type", audit.Types}, {"outcome", audit.Outcomes}} {
		if v := q.Get(c.param); v != "" && !slices.Contains(c.known, v) {
			writeAPIError(w, http.StatusBadRequest, "invalid_request", c.param+" "+strconv.Quote(v)+" is not one of "+strings.Join(c.known, ", "))
			return
		}
	}
	f := audit.Filter{
		Type:    q.Get("type"),
		User:    q.Get("user"),
		Client:  q.Get("client"),
		Server:  q.Get("server"),
		Outcome: q.Get("outcome"),
		Before:  q.Get("before"),
		After:   q.Get("after"),
	}
	if v := q.Get("since"); v != "" {
		t, err := parseSince("since", v, a.now())
		if err != nil {
			writeAPIError(w, http.StatusBadRequest, "invalid_request", "since must be an RFC 3339 time or a duration such as 15m: "+err.Error())
			return
		}
		f.Since = t
	}
	if v := q.Get("until"); v != "" {
		// Exclusive, as the console's To: since=1h&until=30m is the half hour before the last.
		t, err := parseSince("until", v, a.now())
		if err != nil {
			writeAPIError(w, http.StatusBadRequest, "invalid_request", "until must be an RFC 3339 time or a duration back from now such as 15m: "+err.Error())
			return
		}
		if !f.Since.IsZero() && !t.After(f.Since) {
			// No event can be in the range: said, not answered with an empty page.
			writeAPIError(w, http.StatusBadRequest, "invalid_request", "until "+strconv.Quote(v)+" is not later than since "+strconv.Quote(q.Get("since"))+
				", so no event can be between them (a duration counts back from now: since=2h&until=1h is the hour before the last)")
			return
		}
		f.Until = t
	}
	limit := DefaultAuditLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeAPIError(w, http.StatusBadRequest, "invalid_request", "limit must be a non-negative integer")
			return
		}
		if n > 0 {
			limit = min(n, MaxAuditLimit)
		}
	}
	// The log says whether older events match too (asking for one more
	// than the limit would not: a query answers at most
	// audit.MaxQueryLimit, the API's own cap).
	f.Limit = limit
	events, more := a.idp.Audit().QueryPage(f)
	if f.After != "" {
		// more says that newer events match; next is the older page.
		more = len(events) > 0 && a.AuditOlder(f, events[len(events)-1].ID)
	}
	if more && len(events) > 0 {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Del("after")
		// The window by its times: a duration counts back from this
		// page's now, and the next page's would cut the window's
		// oldest events off.
		if !f.Since.IsZero() {
			next.Set("since", f.Since.UTC().Format(time.RFC3339Nano))
		}
		if !f.Until.IsZero() {
			next.Set("until", f.Until.UTC().Format(time.RFC3339Nano))
		}
		next.Set("before", events[len(events)-1].ID)
		next.Set("limit", strconv.Itoa(limit))
		// RFC 8288: a relative reference, resolved against the request's.
		// Its path is the request's as sent: under a tenant's path,
		// r.URL.Path has lost that prefix (app strips it).
		w.Header().Set("Link", "<"+requestPath(r)+"?"+next.Encode()+`>; rel="next"`)
	}
	if events == nil {
		events = []audit.Event{}
	}
	writeAPI(w, http.StatusOK, events)
}

// parseSince accepts an absolute time or a duration back from now (not
// negative), the value of the query parameter param (since or until). A time whose offset's "+" was sent unencoded arrives with a
// space in its place (the query's form encoding): that is said, not that
// the value is no duration.
func parseSince(param, v string, now time.Time) (time.Time, error) {
	t, terr := time.Parse(time.RFC3339Nano, v)
	if terr == nil {
		return t, nil
	}
	if back, ok := strings.CutPrefix(v, "-"); ok {
		if _, err := ParseDuration(back); err == nil {
			// journalctl's --since -5m is five minutes ago; here it would
			// be five minutes ahead, an empty page.
			return time.Time{}, fmt.Errorf("%q: a duration counts back from now, write %s=%s", v, param, back)
		}
	}
	d, err := ParseDuration(v) // 15m, 24h, 7d
	switch {
	case err == nil:
		return now.Add(-d), nil
	case strings.Contains(v, "T") && strings.Contains(v, " "):
		return time.Time{}, fmt.Errorf("%q holds a space, which is how a query reads an unencoded \"+\": percent-encode the offset's + as %%2B (2026-12-06T10:00:00%%2B01:00), or give the time in UTC (2026-12-06T09:00:00Z)", v)
	}
	// As the console's audit page says it (web/audit.go, parseWhen),
	// rather than Go's parser's text for whichever reading failed.
	return time.Time{}, fmt.Errorf("%q is neither a time (2026-11-25T18:00:00Z) nor a duration back from now (15m, 24h, 7d)", v)
}

// explain answers what a token exchange would get now. auth_age
// (a duration) stands for how long ago the user logged in; default: just now.
func (a *API) explain(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	// One value each, as at the token endpoint, except scope: every scope
	// parameter counts, as `xaa-idp explain --scope` repeats.
	if !knownOnly(w, q, explainParams) || !sentOnce(w, q, []string{"user", "client", "audience", "resource", "auth_age"}) {
		return
	}
	var missing []string
	for _, p := range []string{"user", "client", "audience"} {
		if q.Get(p) == "" {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		writeAPIError(w, http.StatusBadRequest, "invalid_request",
			"explain needs "+strings.Join(missing, ", ")+": ?user=alice&client=mcp-client&audience=<authorization server issuer, alias or MCP server id>[&resource=&scope=&auth_age=]")
		return
	}
	now := a.now()
	authTime := now
	if v := q.Get("auth_age"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			writeAPIError(w, http.StatusBadRequest, "invalid_request", "auth_age must be a duration such as 30m, how long ago the user logged in (not negative)")
			return
		}
		authTime = now.Add(-d)
	}
	var scopes []string
	for _, v := range q["scope"] {
		scopes = append(scopes, policy.ScopeFields(v)...) // as the token endpoint splits it
	}
	cfg := a.idp.Config()
	// An id that is not also an audience names the server, as
	// `xaa-idp explain --audience` and the console's form take it.
	aud, _, _ := cfg.ExplainAudience(q.Get("audience"))
	e := cfg.Explain(policy.Request{
		Username:     q.Get("user"),
		ClientID:     q.Get("client"),
		Audience:     aud,
		Resource:     q.Get("resource"),
		Scopes:       scopes,
		AuthTime:     authTime,
		Now:          now,
		IdPIssuer:    a.idp.Issuer(),
		OtherTenants: a.idp.OtherTenants(),
	})
	writeAPI(w, http.StatusOK, e)
}

// config returns the running configuration under its YAML key names,
// with secrets and password hashes removed, and its ETag.
func (a *API) config(w http.ResponseWriter, _ *http.Request) {
	cfg, tag := a.view()
	ans := a.configBody.Load()
	if ans == nil || ans.cfg != cfg {
		m, err := RedactedConfig(cfg)
		if err != nil {
			writeAPIError(w, http.StatusInternalServerError, "server_error", err.Error())
			return
		}
		var b bytes.Buffer
		if err := encodeAPI(&b, m); err != nil {
			writeAPIError(w, http.StatusInternalServerError, "server_error", err.Error())
			return
		}
		// A Config is never changed once running (policy.Config), so the
		// answer stays right for as long as cfg is the one shown.
		ans = &configAnswer{cfg: cfg, body: b.Bytes()}
		a.configBody.Store(ans)
	}
	if tag != "" {
		w.Header().Set("ETag", tag)
	}
	apiHeaders(w, http.StatusOK)
	_, _ = w.Write(ans.body)
}

// RedactedConfig is the configuration as a generic document, keyed as in
// the YAML file, with its defaults filled in, without passwords, password
// hashes or client secrets.
func RedactedConfig(c *policy.Config) (map[string]any, error) {
	cp := *c
	cp.Users = append([]policy.User(nil), c.Users...)
	for i := range cp.Users {
		cp.Users[i].Password, cp.Users[i].PasswordBcrypt = "", ""
		// The claims (and the clients' jwks) go around the YAML below,
		// put back as they are (as the ID token carries them): yaml.v3
		// writes a text that starts with a line break as a block that
		// reads back without it ("\nx" as "x"), or, a key, as YAML that
		// does not read back at all, and the name "<<" as a merge key,
		// which reads back as an error.
		cp.Users[i].Claims = nil
	}
	cp.SCIM.Tokens = append([]policy.SCIMToken(nil), c.SCIM.Tokens...)
	for i := range cp.SCIM.Tokens {
		t := &cp.SCIM.Tokens[i]
		if t.Token != "" {
			t.Token = "(redacted)"
		}
		if t.TokenSHA256 != "" {
			t.TokenSHA256 = "(redacted)"
		}
	}
	cp.Clients = append([]policy.Client(nil), c.Clients...)
	for i := range cp.Clients {
		if cp.Clients[i].ClientSecret != "" {
			cp.Clients[i].ClientSecret = "(redacted)"
		}
		cp.Clients[i].JWKS = nil // as the claims
	}
	cp.MCPServers = append([]policy.MCPServer(nil), c.MCPServers...)
	for i := range cp.MCPServers {
		cp.MCPServers[i].EventsEndpoint = redact.URL(cp.MCPServers[i].EventsEndpoint)
	}
	// cimd as in effect, not as written: an unset switch is on, and an
	// unset allow list is the default one (an empty one allows nothing).
	on, exchange := c.CIMD.On(), c.CIMD.Exchange()
	cp.CIMD.Enabled, cp.CIMD.TokenExchange, cp.CIMD.Allow = &on, &exchange, c.CIMD.Patterns()
	// So are the other switches whose absence means something: the answer
	// holds no null (docs/http.md, "Changing the configuration": null is refused in a body, and an answer must
	// read as what it says), so each is shown as it acts.
	throttled := c.Security.Throttled()
	cp.Security.LoginThrottle = &throttled
	// The persona too: a file without one is generic.
	k := c.Knobs()
	cp.Persona = k.Persona
	cp.IDJAG = policy.IDJAGOptions{ResourceClaim: &k.ResourceClaim, Aud: k.Aud, Email: &k.Email, TenantClaim: &k.TenantClaim}
	raw, err := yaml.Marshal(&cp)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := yaml.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	dropNulls(m)
	users, _ := m["users"].([]any)
	for i, u := range users {
		if u, ok := u.(map[string]any); ok && i < len(c.Users) && len(c.Users[i].Claims) > 0 {
			u["claims"] = c.Users[i].Claims
		}
	}
	clients, _ := m["clients"].([]any)
	for i, cl := range clients {
		if cl, ok := cl.(map[string]any); ok && i < len(c.Clients) && len(c.Clients[i].JWKS) > 0 {
			cl["jwks"] = c.Clients[i].JWKS
		}
	}
	return m, nil
}

// dropNulls removes the members of m, at any depth, whose value is null:
// an unset optional key of the file reads as absent, as in the file.
func dropNulls(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil {
				delete(x, k)
				continue
			}
			dropNulls(e)
		}
	case []any:
		for _, e := range x {
			dropNulls(e)
		}
	}
}

// requestPath is the path of the request as the client sent it, before
// any http.StripPrefix: the one a link back to this resource must name.
func requestPath(r *http.Request) string {
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil && u.Path != "" {
		return u.EscapedPath()
	}
	return r.URL.EscapedPath()
}

// passwordRefusal is why a login with a known username is refused for its
// password, or "" when the password is right. Not checked (the client went
// away while the check waited its turn) still counts as a failure in the
// throttle: a guess that was never checked gains its sender nothing.
func passwordRefusal(ok bool, err error) string {
	switch {
	case err != nil:
		return "password not checked: the client went away while the check waited its turn"
	case !ok:
		return "wrong password"
	}
	return ""
}
