package web

import (
	"crypto/subtle"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/sessions"

	"github.com/xaa-idp/xaa-idp/admin"
	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/internal/bodyheader"
	"github.com/xaa-idp/xaa-idp/policy"
)

// sessionName is the console's cookie. It holds the signed-in admin and the
// CSRF token, encrypted and authenticated with the process's random keys.
const sessionName = "xaa_idp_console"

// Session values.
const (
	keyID       = "id"       // the session's id in the console's registry
	keyUser     = "user"     // the admin's username
	keySub      = "sub"      // the admin's subject, to notice a user replaced under the same name
	keySID      = "sid"      // the IdP's SSO session the admin signed in with
	keyAuthTime = "auth"     // the time of that login (auth_time), Unix seconds
	keyIDToken  = "idtoken"  // the ID token of that login: sign-out's id_token_hint
	keyCSRF     = "csrf"     // the synchronizer token for state-changing requests
	keyState    = "state"    // sign-in in progress: OAuth state
	keyVerifier = "verifier" // sign-in in progress: PKCE code_verifier
	keyNonce    = "nonce"    // sign-in in progress: OpenID nonce
	keyNext     = "next"     // sign-in in progress: the page to return to
	csrfField   = "csrf"     // the form field carrying the CSRF token
	csrfHeader  = "X-CSRF-Token"
)

// viewer is the signed-in admin a page is rendered for.
type viewer struct {
	User *policy.User
	CSRF string
	// session is the session's id in the registry, which holds its
	// one-time messages (Console.flash); "" outside console.admin.
	session string
}

func (c *Console) session(r *http.Request) *sessions.Session {
	// A cookie that does not decode (keys of an earlier process, tampering,
	// expiry) yields a new, empty session: the admin signs in again.
	s, _ := c.store.Get(r, sessionName)
	return s
}

func sessionString(s *sessions.Session, key string) string {
	v, _ := s.Values[key].(string)
	return v
}

// signedIn returns the user of the request's session, checked against the
// registry (a session signed out has ended, whatever its cookie says) and
// the running configuration: a user removed, replaced or disabled since the
// sign-in has no session any more. The user may not be an admin (any
// longer); callers check.
func (c *Console) signedIn(r *http.Request) (*sessions.Session, *policy.User) {
	s := c.session(r)
	name := sessionString(s, keyUser)
	if name == "" || !c.sessions.valid(sessionString(s, keyID)) {
		return s, nil
	}
	u := c.adminAPI.Config().User(name)
	if !u.Active() || u.Sub != sessionString(s, keySub) {
		return s, nil
	}
	// A user disabled or removed since, and active again, signs in again;
	// so does one whose SSO session ended (signed out at /apps, or by an
	// application), which ends the console's login with the others.
	sid := sessionString(s, keySID)
	at, err := strconv.ParseInt(sessionString(s, keyAuthTime), 10, 64)
	if err != nil || c.idp.LoginEnded(u.Sub, sid, time.Unix(at, 0)) || c.idp.SessionEnded(sid) {
		return s, nil
	}
	return s, u
}

// Session authenticates an admin API request by the console's session:
// the admin's username when the request carries the session cookie of a
// signed-in admin, and whether its X-CSRF-Token header matches the
// session's token (required for state-changing calls). It is the hook for
// admin.Options.Session.
func (c *Console) Session(r *http.Request) (user string, csrfOK bool) {
	s, u := c.signedIn(r)
	if !u.MayAdminister() {
		return "", false
	}
	return u.Username, tokenMatches(sessionString(s, keyCSRF), r.Header.Get(csrfHeader))
}

func tokenMatches(want, got string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// admin wraps a page for signed-in admins. A browser without a session is
// sent to sign in (and brought back); a signed-in user who is not an admin
// gets a refusal; a state-changing request must carry the session's CSRF
// token, in the form or in the X-CSRF-Token header.
func (c *Console) admin(h func(http.ResponseWriter, *http.Request, *viewer)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, u := c.signedIn(r)
		if !c.bodyReadable(w, r, s, u) {
			return
		}
		if u == nil {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, c.url("/admin/signin?next="+url.QueryEscape(pageOf(r))), http.StatusSeeOther)
				return
			}
			// Signing in again returns to the page the form was on.
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			c.errorPageTo(w, r, nil, http.StatusUnauthorized, "Sign in first",
				"Your console session has ended (you signed out, perhaps in another tab; it expired; or the server restarted), so this change was not made. Sign in again, then make the change again.",
				"Sign in again", "/admin/signin?next="+url.QueryEscape(formPage(r)))
			return
		}
		if !u.MayAdminister() {
			c.refuse(w, r, u)
			return
		}
		v := &viewer{User: u, CSRF: sessionString(s, keyCSRF), session: sessionString(s, keyID)}
		if !safeMethod(r.Method) && !c.csrfOK(w, r, v.CSRF) {
			c.auditDenied(r, u, csrfRefused)
			// Reloading this answer would send the same stale token
			// again: the way on is the page the form was on, opened anew.
			c.errorPageTo(w, r, v, http.StatusForbidden, "Request refused",
				"This change did not carry the security token of your console session (CSRF), so it was not made: the page was opened in an earlier session (perhaps before you signed in again in another tab). Open the page again, then make the change again.",
				"Open the page again", formPage(r))
			return
		}
		h(w, r, v)
	})
}

// csrf guards sign-out, which is not a page: a signed-in session's
// sign-out must carry its CSRF token. A request without one (signed out in
// another tab, expired) goes ahead without: it ends nothing of the
// console's, and the IdP's end_session, where sign-out continues, asks the
// user first, since it carries no id_token_hint.
func (c *Console) csrf(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, u := c.signedIn(r)
		if !c.bodyReadable(w, r, s, u) {
			return
		}
		if u != nil && !c.csrfOK(w, r, sessionString(s, keyCSRF)) {
			c.auditDenied(r, u, csrfRefused)
			c.errorPage(w, r, nil, http.StatusForbidden, "Request refused",
				"This request did not carry the console's security token (CSRF). Reload the page and try again.")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// bodyReadable refuses a form whose body the console would misread, as
// the IdP's endpoints and login page do (internal/bodyheader): one with
// more than one Content-Type (400), or compressed (415 with
// Accept-Encoding: identity, RFC 9110 section 15.5.16); and one that
// declares more than maxFormBytes (413). No browser sends
// either, so this is a script, which a status tells best. It comes before
// the session's checks, which read the form: a compressed form would
// otherwise be refused as lacking its CSRF token, and a form with two
// types be taken.
func (c *Console) bodyReadable(w http.ResponseWriter, r *http.Request, s *sessions.Session, u *policy.User) bool {
	if safeMethod(r.Method) || r.ContentLength == 0 {
		return true
	}
	twoTypes, coding := bodyheader.TwoTypes(r.Header), bodyheader.Coding(r.Header)
	tooLarge := r.ContentLength > maxFormBytes
	if !twoTypes && coding == "" && !tooLarge {
		return true
	}
	var v *viewer // a signed-in admin gets the navigation bar to go on from
	if u.MayAdminister() {
		v = &viewer{User: u, CSRF: sessionString(s, keyCSRF)}
	}
	// The form's page, without reading the form for it (an access
	// request's decision names it in the form).
	next, label := "/admin/", "Back to the console"
	if !strings.HasPrefix(r.URL.Path, "/admin/access-requests/") && r.URL.Path != "/admin/signout" {
		next, label = formPage(r), "Open the form's page"
	}
	if tooLarge {
		// Refused before a byte is read: the CSRF check, which reads
		// the form, would otherwise take it for a form without its token.
		c.errorPageTo(w, r, v, http.StatusRequestEntityTooLarge, "Form not read",
			"This form is too large (over 1 MiB), so it was not read and nothing was changed. Send a smaller one: fewer rows, or the change in parts.",
			label, next)
		return false
	}
	if twoTypes {
		c.errorPageTo(w, r, v, http.StatusBadRequest, "Form not read",
			"This form came with more than one Content-Type header, so it was not read and nothing was changed. Send one (application/x-www-form-urlencoded), as a browser does.",
			label, next)
		return false
	}
	bodyheader.AcceptIdentity(w)
	c.errorPageTo(w, r, v, http.StatusUnsupportedMediaType, "Form not read",
		"This form came compressed (Content-Encoding: "+coding+"), which the console does not read, so nothing was changed. Send it uncompressed, as a browser does.",
		label, next)
	return false
}

func (c *Console) csrfOK(w http.ResponseWriter, r *http.Request, want string) bool {
	got := r.Header.Get(csrfHeader)
	if got == "" {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		got = r.PostFormValue(csrfField)
	}
	return tokenMatches(want, got)
}

// maxFormBytes bounds a console form: the largest is an access list.
const maxFormBytes = 1 << 20

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// refuse answers a signed-in user who is not an admin, and audits the
// refusal as the admin API does its own (a denied login, since
// 2026-12-06): the IdP's login event alone read as a console sign-in.
func (c *Console) refuse(w http.ResponseWriter, r *http.Request, u *policy.User) {
	c.auditDenied(r, u, admin.NotAdmin)
	c.render(w, http.StatusForbidden, "refused.html", page{Title: "Not an administrator", Data: map[string]string{"User": u.Username}})
}

// csrfRefused is the audited reason of a signed-in user's console change
// refused for lacking the session's CSRF token (since 2026-12-06).
const csrfRefused = "a console change without the session's CSRF token is refused (a page of an earlier session, or a post from another site)"

// auditDenied records a refusal of the signed-in user u as the admin
// API records its own: a denied login, with the method and path.
func (c *Console) auditDenied(r *http.Request, u *policy.User, reason string) {
	ev := audit.Event{Type: audit.TypeLogin, Outcome: audit.Denied, Error: "access_denied", User: u.Username, Sub: u.Sub, ClientID: ClientID,
		Reason: reason, Details: map[string]any{"method": r.Method, "path": audit.Truncate(r.URL.Path)}}
	if _, err := c.idp.Audit().Append(ev); err != nil {
		slog.Error("audit log: a console refusal was not recorded", "err", err)
	}
}

func randomString(n int) string {
	return base64.RawURLEncoding.EncodeToString(randomBytes(n))
}

// maxNextBytes bounds the page to return to after sign-in: it travels in
// the session cookie, which securecookie refuses beyond 4 KiB encoded
// (about 2 KiB of values), and a longer one is dropped for /admin/ rather
// than failing the sign-in.
const maxNextBytes = 1 << 10

// consolePath returns next, a console page to return to after sign-in,
// with its dot segments resolved, when it is one: not longer than
// maxNextBytes, a path under /admin/ once resolved, and not a way to send
// the browser elsewhere ("//evil.example"). Else it returns the console's
// start page, /admin/.
// It is without the tenant's path, as the console sees requests: the
// redirect adds it (Console.url). A browser resolves dot segments after
// that (RFC 3986 section 5.2.4, and percent-encoded dots as well, as the
// URL Standard does), so they are resolved here first: unresolved,
// /admin/../../../t/other/admin/ led to another tenant's console on the
// same origin.
func consolePath(next string) string {
	const start = "/admin/"
	if len(next) > maxNextBytes || strings.ContainsAny(next, "\\\r\n") || strings.HasPrefix(next, "//") {
		return start
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
		return start
	}
	p := path.Clean(u.Path) // u.Path is decoded: %2e%2e is .. here
	if strings.HasSuffix(u.Path, "/") && p != "/" {
		p += "/"
	}
	if !strings.HasPrefix(p, start) || strings.HasPrefix(p, "/admin/signin") {
		return start
	}
	return (&url.URL{Path: p, RawQuery: u.RawQuery}).String()
}

// pageOf is the console page to return to after the sign-in that a GET
// without a session is sent to: the address itself, but for a download,
// the page that links it (the audit log's export, with the log's
// filters; the configuration's YAML, on the overview). The browser shows
// a download's answer only when it is not one, such as the IdP's login
// page: signed in again, the admin is back on a page, and downloads from
// there, rather than at a login form the browser still shows. (The links
// had the download attribute until 2026-12-06, which saved the login page
// as the download, as login.html.)
func pageOf(r *http.Request) string {
	switch r.URL.Path {
	case "/admin/audit/export":
		return (&url.URL{Path: "/admin/audit", RawQuery: r.URL.RawQuery}).String()
	case "/admin/config.yaml":
		return "/admin/"
	}
	return r.URL.RequestURI()
}

// formPage is the console page that the form of a state-changing request
// is on, without the tenant's path: where an admin whose change was
// refused makes it again. A server's editors are on the server's page; an
// access request's decision returns to the page it was made on.
func formPage(r *http.Request) string {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/admin/servers/") && r.PathValue("id") != "":
		return "/admin/servers/" + url.PathEscape(r.PathValue("id"))
	case strings.HasPrefix(p, "/admin/access-requests/"):
		back, _ := backTo(r)
		return back
	case p == "/admin/onboarding":
		return p
	}
	return "/admin/"
}
