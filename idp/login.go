package idp

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"html"
	"html/template"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/internal/bodyheader"
	"github.com/xaa-idp/xaa-idp/internal/cimd"
	"github.com/xaa-idp/xaa-idp/internal/jwtreason"
	"github.com/xaa-idp/xaa-idp/internal/redirecturi"
	"github.com/xaa-idp/xaa-idp/policy"
)

const (
	sessionCookie = "xaa_idp_sso"
	// sessionTTL is how long a single sign-on lasts without a new login.
	sessionTTL = 12 * time.Hour

	// maxLoginFormBytes bounds the login form's body (docs/http.md, /login).
	maxLoginFormBytes = 8 << 10
)

// MaxUsernameBytes and MaxPasswordBytes bound the credentials of the login
// form, and of the admin API's HTTP Basic (docs/http.md): no real username
// or password comes near them, and a value beyond them is refused before it
// is checked, logged or audited. They are the configuration's bounds of a
// username and a password, so that every user it accepts can sign in.
const (
	MaxUsernameBytes = policy.MaxUsernameBytes
	MaxPasswordBytes = policy.MaxPasswordBytes
)

// LoginThrottle slows down password guessing for one username at a time
// (docs/configuration.md, security.login_throttle). The login page asks
// Allow before it checks a password, and reports the outcome with Failure
// or Success; an attempt Allow refused is not reported.
type LoginThrottle interface {
	// Wait reports whether username may try a password now, and if not,
	// how long until it may; it may wait, while ctx lasts, for attempts
	// being checked to end (throttle.Throttle.Wait).
	Wait(ctx context.Context, username string) (retryAfter time.Duration, ok bool)
	Failure(username string)
	Success(username string)
	// Unchecked reports an attempt Wait let through whose password was not
	// checked after all (the IdP was busy): neither failure nor success.
	Unchecked(username string)
}

// ssoSession is a signed-in browser: one login serves every later
// /authorize of any client until it expires or the user logs out.
type ssoSession struct {
	ID string // the cookie's value, a bearer secret
	// SID names the session in ID tokens (the sid claim); unlike ID, a
	// client that sees it cannot act as the browser.
	SID      string
	Username string
	Subject  string
	AuthTime time.Time
}

func (s *Server) session(r *http.Request) *ssoSession {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	sess, ok := s.sessions.Get(c.Value)
	if !ok {
		return nil
	}
	// A user disabled or removed since the login has no session any more.
	if !s.Config().User(sess.Username).Active() || s.LoginEnded(sess.Subject, sess.SID, sess.AuthTime) {
		s.sessions.Delete(sess.ID)
		return nil
	}
	return sess
}

// sessionCookie is the SSO cookie, scoped to the IdP's path: each tenant
// has its own single sign-on (docs/configuration.md, "Tenants"), so a
// login or logout at one leaves the others' cookies alone. Without
// tenants the path is "/", as it always was.
func (s *Server) sessionCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     sessionCookie,
		Value:    value,
		Path:     s.path + "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   strings.HasPrefix(s.issuer, "https://"),
		SameSite: http.SameSiteLaxMode,
	}
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · xaa-idp</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;background:#f4f5f7;display:flex;justify-content:center;padding-top:10vh;margin:0}
main{background:#fff;padding:2rem 2.5rem;border-radius:8px;box-shadow:0 1px 4px #0002;min-width:min(18rem,calc(100vw - 5rem));overflow-wrap:anywhere}
h1{font-size:1.3rem;margin-top:0}label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.4rem;box-sizing:border-box}
button{margin-top:1.2rem;padding:.5rem 1rem;width:100%}.err{color:#b00020}.client{color:#555;font-size:.9rem;overflow-wrap:anywhere}
#continue{animation:arm .8s}@keyframes arm{from,to{pointer-events:none;opacity:.6}}
</style></head><body><main>
<h1>Sign in to xaa-idp</h1>
{{if .ClientHost}}<p class="client">to continue to <strong id="client-host">{{.ClientHost}}</strong>{{with .Client}}, which calls itself <q><bdi>{{.}}</bdi></q>{{end}}</p>
<p class="client">This client is not registered with this IdP: it describes itself in a document at that address. Trust the address, not the name.</p>
{{else if .Client}}<p class="client">to continue to <strong><bdi>{{.Client}}</bdi></strong></p>{{end}}
{{if .Error}}<p class="err" role="alert" id="login-error">{{range .Error}}{{if .Name}}<bdi>{{.Text}}</bdi>{{else}}{{.Text}}{{end}}{{end}}</p>{{end}}
{{with .Start}}<p><a id="start-again" href="{{.URL}}">Start again at <bdi>{{.Name}}</bdi></a></p>{{end}}
{{if .ID}}{{if .Continue}}<form method="post" action="login">
<input type="hidden" name="authRequestID" value="{{.ID}}"><input type="hidden" name="continue" value="1"><input type="hidden" name="continue_as" value="{{.Continue}}">
<button type="submit" id="continue">Continue as <strong><bdi>{{.Continue}}</bdi></strong></button>
</form>
<p class="client">or sign in as someone else:</p>{{end}}
<form method="post" action="login">
<input type="hidden" name="authRequestID" value="{{.ID}}">{{with .Own}}<input type="hidden" name="client_id" value="{{.}}">{{end}}
<label for="username">Username or email</label><input id="username" name="username" autocomplete="username" value="{{.Username}}" required{{if not .Username}} autofocus{{end}}{{if .Error}} aria-describedby="login-error"{{end}}>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required{{if .Username}} autofocus{{end}}{{if .Error}} aria-describedby="login-error"{{end}}>
<button type="submit">Sign in</button>
</form>{{end}}</main></body></html>`))

type loginView struct {
	// ID is the sign-in request the form posts back; "" on a page saying
	// it is unknown, expired or closed, which shows no form: one would
	// post nowhere useful.
	ID, Client, Username string
	// Error is the message the page shows, in parts: the names in it
	// (a username the client sent back) are each bidi-isolated, as the
	// rest of the page's user text is, so that a bidi override in one
	// reorders only that name, never the sentence around it.
	Error []messagePart
	// ClientHost is the host of a metadata document client's client_id
	// URL, which the page leads with: its Client (client_name) is its own
	// claim, and may be any name, another client's included
	// (draft-ietf-oauth-client-id-metadata-document, Security
	// Considerations). "" for a client of the configuration or the product.
	ClientHost string
	// Continue is the user of the browser's live SSO session, offered as a
	// button when the client is such a document client: registered
	// nowhere, any site can be one, so the session does not sign the user
	// in to it unasked (docs/http.md, /login). The button is never
	// focused: a site that opens the page and has the user press Enter or
	// Space would press it for them. Nor does it take a click for its
	// first 0.8 s (the CSS animation arm holds pointer-events: none; the
	// CSP allows no script): a site that opens a window on the first click
	// of a double click and navigates the one below to this page would
	// have the second land on it (double-clickjacking). Without CSS the
	// form posts as ever.
	Continue string
	// Own is the client_id of the product's own client (the console)
	// whose sign-in this is, posted back with the form, so that the
	// page saying the request has expired can lead to Start.
	Own string
	// Start, on a page saying a sign-in request of the product's own
	// client is unknown or has expired, is where its sign-in starts
	// again (Server.RegisterClient): the page links there.
	Start *startAgain
}

// startAgain is the link to the page where the sign-in of one of the
// product's own clients starts.
type startAgain struct{ URL, Name string }

// pageHeaders are the headers of the IdP's HTML pages: never framed, so
// that no other site can overlay the login form (clickjacking, RFC 6819
// section 4.4.1.9), and nothing loaded but the page itself with its inline
// style. form-action is left out: browsers apply it to the redirects after
// the form, which lead to each client's redirect_uri. Referrer-Policy
// same-origin sends no referrer to other sites, and lets the browser send
// the page's own origin with its forms (no-referrer would make it "null",
// which any site's sandboxed frame sends too; crossSitePost).
func pageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

// PageHeaders sets the headers of the IdP's HTML pages (pageHeaders) on
// another page that a browser shows beside them: the landing pages.
func PageHeaders(w http.ResponseWriter) { pageHeaders(w) }

// A messagePart is text of the login page's message, or, with Name, a
// name in it that a user or a client chose.
type messagePart struct {
	Text string
	Name bool
}

// signInName is the username a sign-in as name is for: name, unless it is
// no user's username but the email of exactly one user (any case), whose
// username it then is. MCP clients send the user's email as login_hint,
// which the form is prefilled with. The address is looked up only with a
// password, which answers alike for every name, so the form tells no one
// which addresses have accounts, nor whose.
func signInName(cfg *policy.Config, name string) string {
	if cfg.User(name) != nil {
		return name
	}
	if u := cfg.UserByEmail(name); u != nil {
		return u.Username
	}
	return name
}

// documentName is a metadata document's client_name as the login page
// quotes it: the client's own claim, which no configuration checked. Its
// control and invisible characters, which the configuration refuses in
// the names it holds, show as U+FFFD: a bidi override would show the
// name reversed ("\u202emoc.elgoog" reads "google.com"). It is cut to
// policy.MaxNameBytes, a configured name's bound: a document may hold
// 5 KiB of name, which in a small window scrolled the host the page
// names out of sight, above the form that the page opens at.
func documentName(name string) string {
	return shownParam(name, policy.MaxNameBytes)
}

// loginError answers with the login page showing msg, which names no one.
func loginError(w http.ResponseWriter, status int, view loginView, msg string) {
	view.Error = []messagePart{{Text: msg}}
	w.WriteHeader(status)
	_ = loginPage.Execute(w, view)
}

// loginErrorNaming answers with the login page showing format, each %s of
// which is one of names, shown bidi-isolated.
func loginErrorNaming(w http.ResponseWriter, status int, view loginView, format string, names ...string) {
	view.Error = nil
	for i, text := range strings.Split(format, "%s") {
		if i > 0 && i <= len(names) {
			view.Error = append(view.Error, messagePart{Text: names[i-1], Name: true})
		}
		if text != "" {
			view.Error = append(view.Error, messagePart{Text: text})
		}
	}
	w.WriteHeader(status)
	_ = loginPage.Execute(w, view)
}

// login is the login page of the code flow: GET shows the form (or, with a
// live SSO session, completes the request at once), POST checks the
// password. One plain form with username and password, so scripts,
// password managers and browsers all work (docs/http.md, /login).
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	pageHeaders(w)
	// As at the other endpoints (bodyHeadersError), but as a page, and a
	// compressed form as RFC 9110 section 15.5.16 says: no browser sends
	// one, so this is a script, which a status tells best.
	if r.ContentLength != 0 && bodyheader.TwoTypes(r.Header) {
		loginError(w, http.StatusBadRequest, loginView{}, "The sign-in form came with more than one Content-Type header. Send one, and start again from your application.")
		return
	}
	if r.ContentLength != 0 && bodyheader.Coding(r.Header) != "" {
		bodyheader.AcceptIdentity(w)
		loginError(w, http.StatusUnsupportedMediaType, loginView{}, "The sign-in form came compressed (Content-Encoding), which this IdP does not read. Send it uncompressed, and start again from your application.")
		return
	}
	if r.ContentLength > maxLoginFormBytes && bodyheader.ReadsForm(r) {
		// Before a byte is read, and without inviting an
		// Expect: 100-continue body (RFC 9110 section 10.1.1).
		loginError(w, http.StatusRequestEntityTooLarge, loginView{}, "The sign-in form is too large. Start again from your application.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginFormBytes)
	if err := r.ParseForm(); err != nil {
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			loginError(w, http.StatusRequestEntityTooLarge, loginView{}, "The sign-in form is too large. Start again from your application.")
			return
		}
		loginError(w, http.StatusBadRequest, loginView{}, "The sign-in form cannot be read. Start again from your application.")
		return
	}
	id := r.Form.Get("authRequestID")
	ar, ok := s.store.authRequests.Get(id)
	if !ok {
		s.loginRequestGone(w, r, id)
		return
	}
	cfg := s.Config()
	view := loginView{ID: id, Client: ar.ClientID, Username: ar.LoginHint}
	if c := s.client(cfg, ar.ClientID); c != nil {
		if c.Name != "" {
			view.Client = c.Name
		}
		if s.startOf(ar.ClientID) != "" {
			view.Own = ar.ClientID
		}
	} else if u, err := url.Parse(ar.ClientID); err == nil && cimd.IsURL(ar.ClientID) {
		view.ClientHost, view.Client = u.Host, ""
		if c, _ := s.lookupClient(r.Context(), cfg, ar.ClientID); c != nil {
			view.Client = documentName(c.Name)
		}
	}
	now := s.now()
	if r.Method == http.MethodGet {
		if ar.Done() {
			s.toCallback(w, r, id)
			return
		}
		if sess := s.session(r); sess != nil && !ar.forcesLogin() && s.sessionFits(ar, sess, now) {
			if view.ClientHost != "" {
				// A metadata document client: its document and its
				// redirect_uri may be any site's, which would learn who
				// the visitor is without the visitor seeing anything.
				// The page names the document's host and asks.
				view.Continue = sess.Username
				_ = loginPage.Execute(w, view)
				return
			}
			s.store.authRequests.Update(id, func(a **authRequest) { (*a).complete(sess) })
			s.toCallback(w, r, id)
			return
		}
		_ = loginPage.Execute(w, view)
		return
	}

	if crossSitePost(r, s.issuer) {
		// Login CSRF: another site posting its own sign-in request with
		// its own password would sign this browser in as that user. No
		// password is checked and the attempt does not count against
		// either the request or the throttle.
		_, _ = s.audit.Append(audit.Event{Type: audit.TypeLogin, Outcome: audit.Denied, Error: "access_denied", ClientID: ar.ClientID,
			Reason: "the login form was posted from another site (Sec-Fetch-Site " + audit.Truncate(r.Header.Get("Sec-Fetch-Site")) + ", Origin " + audit.Truncate(r.Header.Get("Origin")) + ")"})
		view.Username = ""
		loginError(w, http.StatusForbidden, view, "This sign-in form was sent from another site. Start again from your application.")
		return
	}
	if r.PostForm.Get("continue") != "" {
		// The page's "Continue as" button: the live SSO session signs the
		// user in, as a GET would for a configured client.
		sess := s.session(r)
		if sess == nil || ar.forcesLogin() || !s.sessionFits(ar, sess, now) {
			loginError(w, http.StatusUnauthorized, view, "You are no longer signed in at this IdP. Sign in with your password.")
			return
		}
		if as := r.PostForm.Get("continue_as"); as != "" && as != sess.Username {
			// The button named another user than the session's now
			// (someone signed in in another tab): the client gets the
			// user who was asked about, or no one.
			view.Continue = sess.Username
			named := as
			if len(as) > MaxUsernameBytes {
				// No user's name: not echoed, as a too-long username is not.
				named = "the user this page named"
			}
			loginErrorNaming(w, http.StatusConflict, view, "You are now signed in as %s, not %s. Continue as %s, or sign in as someone else.", sess.Username, named, sess.Username)
			return
		}
		s.store.authRequests.Update(id, func(a **authRequest) { (*a).complete(sess) })
		s.toCallback(w, r, id)
		return
	}
	username, password := strings.TrimSpace(r.PostForm.Get("username")), r.PostForm.Get("password")
	if len(username) > MaxUsernameBytes || len(password) > MaxPasswordBytes {
		// Neither value goes anywhere: not into the page, the audit log or
		// the throttle, whose memory it would fill.
		view.Username = ""
		_, _ = s.audit.Append(audit.Event{Type: audit.TypeLogin, Outcome: audit.Denied, Error: "invalid_request", ClientID: ar.ClientID,
			Reason: fmt.Sprintf("the username is longer than %d bytes or the password longer than %d bytes", MaxUsernameBytes, MaxPasswordBytes)})
		s.loginRefused(w, id, http.StatusBadRequest, view, "The username or password is too long.")
		return
	}
	view.Username = username
	// An email signs in its user: the throttle counts, and the audit log
	// names, that user's username, so an address in another case is no
	// fresh set of guesses.
	username = signInName(cfg, username)
	ev := audit.Event{Type: audit.TypeLogin, User: username, ClientID: ar.ClientID}
	throttle := s.LoginThrottle()
	if throttle != nil {
		if wait, ok := throttle.Wait(r.Context(), username); !ok {
			secs := strconv.Itoa(int(math.Ceil(max(wait, time.Second).Seconds())))
			ev.Outcome, ev.Error = audit.Denied, "access_denied"
			ev.Reason = "too many failed logins for this username: throttled for " + secs + " s (security.login_throttle)"
			_, _ = s.audit.Append(ev)
			w.Header().Set("Retry-After", secs)
			s.loginRefused(w, id, http.StatusTooManyRequests, view, "Too many failed sign-ins for this username. Try again in "+secs+" "+plural(secs, "second")+".")
			return
		}
	}
	cfg = s.Config() // now: the throttle may have waited
	u := cfg.User(username)
	var checkErr error
	switch {
	case u == nil:
		checkErr = cfg.CheckNoUserPassword(r.Context(), password) // as long as a wrong password takes
		ev.Reason = "unknown username"
	default:
		var ok bool
		switch ok, checkErr = cfg.CheckPassword(r.Context(), u, password); {
		case errors.Is(checkErr, policy.ErrBusy):
		case checkErr != nil:
			// The client went away while the check waited its turn
			// (policy's bound on bcrypt checks at once). Counted as a
			// failure all the same: an unchecked guess gains nothing.
			ev.Reason = "password not checked: the client went away while the check waited its turn"
		case !ok:
			ev.Reason = "wrong password"
		case !u.Active():
			ev.Reason = "user is disabled"
		}
	}
	if errors.Is(checkErr, policy.ErrBusy) {
		// The queue of password checks is full (policy.BcryptPlace): not
		// checked, so neither a failure for the throttle nor one of the
		// sign-in request's attempts, and alike for every username.
		if throttle != nil {
			throttle.Unchecked(username)
		}
		ev.Outcome, ev.Error = audit.Denied, "temporarily_unavailable"
		ev.Reason = "password not checked: " + policy.ErrBusy.Error() + " (the IdP is busy)"
		_, _ = s.audit.Append(ev)
		secs := strconv.Itoa(int(policy.BcryptRetryAfter / time.Second))
		w.Header().Set("Retry-After", secs)
		loginError(w, http.StatusServiceUnavailable, view, "The IdP is busy checking other sign-ins. Try again in "+secs+" seconds.")
		return
	}
	if ev.Reason != "" {
		if throttle != nil {
			throttle.Failure(username)
		}
		ev.Outcome, ev.Error = audit.Denied, "access_denied"
		_, _ = s.audit.Append(ev)
		msg := "Invalid username or password."
		if ev.Reason == "user is disabled" {
			msg = "This account is disabled. Ask your administrator."
		}
		s.loginRefused(w, id, http.StatusUnauthorized, view, msg)
		return
	}
	if throttle != nil {
		throttle.Success(username)
	}
	if ar.HintSubject != "" && u.Sub != ar.HintSubject {
		// The client's id_token_hint names another user (OIDC Core
		// 3.1.2.1: one not logged in by the request SHOULD get an error):
		// this user is not given to it, and no session of theirs is made,
		// nor is the browser's session ended, by a form meant for someone
		// else. The password was right: not a failure for the throttle.
		ev.Outcome, ev.Error, ev.Sub = audit.Denied, "access_denied", u.Sub
		ev.Reason = "the client's id_token_hint names another user"
		_, _ = s.audit.Append(ev)
		view.Username = ""
		loginErrorNaming(w, http.StatusConflict, view, "This application asked for another user's sign-in, not %s's. Sign in as that user, or start again from your application.", u.Username)
		return
	}
	sess := &ssoSession{ID: randomID(24), SID: randomID(16), Username: u.Username, Subject: u.Sub, AuthTime: now}
	// The same user signing in again in this browser (prompt=login, a
	// step-up) continues the session: a new cookie value, the new login
	// time, the same sid. With a new sid the old one would outlive the
	// browser's sign-out, its ID tokens and refresh tokens still
	// exchangeable, since end_session ends the session the cookie names.
	//
	// Another user signing in in this browser ends the first one's
	// session, as a sign-out would: its cookie is replaced, so no sign-out
	// in this browser could end it any more, and its tokens would live on.
	old := s.session(r)
	if old != nil && old.Username == u.Username {
		sess.SID = old.SID
	}
	ev.Outcome, ev.Sub, ev.Reason = audit.Allowed, u.Sub, "password"
	if _, err := s.audit.Append(ev); err != nil {
		http.Error(w, "the audit log could not be written", http.StatusInternalServerError)
		return
	}
	if old != nil && old.SID != sess.SID {
		_ = s.endSSO(old.SID, "another user's sign-in in the same browser ("+u.Username+")", "") // logged and audited
	}
	if old, err := r.Cookie(sessionCookie); err == nil {
		s.sessions.Delete(old.Value) // a new login replaces the old session
	}
	s.sessions.PutShared(sess.ID, sess, now.Add(sessionTTL), byUser, sess.Subject, userShare(maxSessions))
	http.SetCookie(w, s.sessionCookie(sess.ID, int(sessionTTL/time.Second)))
	s.store.authRequests.Update(id, func(a **authRequest) { (*a).complete(sess) })
	s.toCallback(w, r, id)
}

// crossSitePost reports whether a browser says the login form comes from
// another site (RFC 6749 section 10.12, RFC 6819 section 4.4.1.8): Fetch
// Metadata other than same-origin (or none, typed by the user), or an
// Origin of a host other than the request's or the issuer's. An Origin of
// "null" is what a sandboxed frame, a data: page or a cross-site redirect
// of any site sends, so it passes only with Sec-Fetch-Site: same-origin
// (a browser that sends Fetch Metadata and a no-referrer policy); the
// IdP's own pages are Referrer-Policy same-origin (pageHeaders), so a
// browser without Fetch Metadata sends their origin. Scripts send neither
// header.
func crossSitePost(r *http.Request, issuer string) bool {
	site := r.Header.Get("Sec-Fetch-Site")
	switch site {
	case "", "same-origin", "none":
	default:
		return true
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return false
	}
	if o == "null" {
		return site != "same-origin"
	}
	u, err := url.Parse(o)
	if err != nil {
		return true
	}
	iss, _ := url.Parse(issuer)
	return u.Host != r.Host && (iss == nil || u.Host != iss.Host)
}

// loginRequestGone answers the login page, or the callback after it, for
// a sign-in request the IdP no longer holds: one whose code was redeemed
// (the page reached again by Back after the sign-in) says it was
// completed; another is unknown or has expired, which the IdP cannot tell
// apart. The request names no client any more; the record of a completed
// one, or the form or login URL of the product's own client (the
// console), does, and only that one leads anywhere: to its own page,
// never one a request names.
func (s *Server) loginRequestGone(w http.ResponseWriter, r *http.Request, id string) {
	own, completed := s.store.completedLogin(id)
	if !completed {
		own = r.Form.Get("client_id")
	}
	var view loginView
	if start := s.startOf(own); start != "" {
		view.Start = &startAgain{URL: start, Name: s.client(s.Config(), own).Name}
	}
	switch {
	case completed && view.Start != nil:
		loginError(w, http.StatusBadRequest, view, "This sign-in was already completed.")
	case completed:
		loginError(w, http.StatusBadRequest, view, "This sign-in was already completed. To sign in again, start again from your application.")
	case view.Start != nil:
		loginError(w, http.StatusBadRequest, view, "This sign-in request is unknown or has expired (a sign-in waits 10 minutes for its login).")
	default:
		loginError(w, http.StatusBadRequest, view, "This sign-in request is unknown or has expired. Start again from your application.")
	}
}

// loginRefused answers a refused login attempt, and counts it against the
// auth request: after maxLoginAttempts the request is gone, so that one
// sign-in cannot serve for unlimited guesses, throttled or not.
func (s *Server) loginRefused(w http.ResponseWriter, id string, status int, view loginView, msg string) {
	failures := 0
	s.store.authRequests.Update(id, func(a **authRequest) {
		(*a).failures++
		failures = (*a).failures
	})
	if failures >= maxLoginAttempts {
		s.store.authRequests.Delete(id)
		view.ID = ""
		msg += fmt.Sprintf(" This sign-in request had %d failed attempts and is closed. Start again from your application.", failures)
	}
	loginError(w, status, view, msg)
}

func (s *Server) toCallback(w http.ResponseWriter, r *http.Request, id string) {
	http.Redirect(w, r, s.issuer+pathAuthorize+"/callback?id="+id, http.StatusFound)
}

// endSession ends the browser's SSO session, then lets op validate
// id_token_hint, end the session the hint names (storage.go,
// TerminateSessionFromRequest) and redirect (OIDC RP-Initiated Logout).
//
// A request for a signed-in browser without an id_token_hint of that
// browser's session ends nothing: the user is asked first (RP-Initiated
// Logout 1.0 section 2, the OP MUST ask then), whatever the browser says
// of where the request comes from (a browser without Fetch Metadata sends
// no Origin with a GET: another site's plain link). The question's form
// posts the same parameters back with the session's sign-out token
// (signOutCSRF), which no other site can know; a post without it is asked
// again. The IdP's own sign-out (/apps) posts the token too, and ends the
// session at once.
//
// post_logout_redirect_uri is matched as redirect_uri is at /authorize
// (redirect.go), before anything ends: op's own check lets loopback URIs
// through with another host name, scheme, userinfo or fragment. A
// parameter sent twice is refused first, as at /authorize (RFC 6749
// section 3.1).
func (s *Server) endSession(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		// op would end the session for any method, a preflight's
		// OPTIONS included.
		w.Header().Set("Allow", "GET, POST")
		writeOAuthError(w, r, errorf("invalid_request", http.StatusMethodNotAllowed, "the end_session endpoint accepts GET and POST (OpenID Connect RP-Initiated Logout 1.0 section 2)"))
		return
	}
	if dup := repeatedParam(r.Form); dup != "" {
		// The checks below read a parameter's first value, op its last.
		e := duplicateParam(dup, "3.1")
		s.auditLogoutRefused(r, nil, e)
		writeOAuthError(w, r, e)
		return
	}
	hint := s.idTokenHint(r)
	e := hintTypeError(r.Form.Get("id_token_hint"))
	if e == nil {
		e = s.checkPostLogoutRedirectURI(r, hint)
	}
	if e == nil {
		e = s.validateEndSession(r)
	}
	if e != nil {
		s.auditLogoutRefused(r, hint, e)
		writeOAuthError(w, r, e)
		return
	}
	if sess := s.session(r); sess != nil {
		if (hint == nil || hint.SessionID != sess.SID) && !signOutConfirmed(r, sess) {
			s.confirmLogout(w, r, sess)
			return
		}
		if e := s.endSSO(sess.SID, "session cookie", ""); e != nil {
			// Not on to the client as signed out: the sign-out holds
			// until a restart only. The session is gone: its cookie too.
			http.SetCookie(w, s.sessionCookie("", -1))
			writeOAuthError(w, r, errorf("server_error", http.StatusInternalServerError, "%s", e.Description))
			return
		}
	}
	http.SetCookie(w, s.sessionCookie("", -1))
	s.serveOP(w, r)
}

// auditLogoutRefused records a refused end_session request: the error the
// client gets and why, the client it names (client_id, else the azp of a
// hint of this IdP) and the hint's user; never the hint, which is an ID
// token. Append bounds what the request sent.
func (s *Server) auditLogoutRefused(r *http.Request, hint *oidc.IDTokenClaims, e *oauthError) {
	ev := audit.Event{Type: audit.TypeLogout, Outcome: audit.Error, Error: e.Code,
		ClientID: r.Form.Get("client_id"), Reason: "end_session refused: " + e.Description}
	if hint != nil {
		ev.Sub = hint.Subject
		if u := s.Config().UserBySub(hint.Subject); u != nil {
			ev.User = u.Username
		}
		if ev.ClientID == "" {
			ev.ClientID = hint.GetAuthorizedParty()
		}
	}
	_, _ = s.audit.Append(ev)
}

// idTokenHint returns the claims of the request's id_token_hint if it is
// an ID token of this IdP, expired or not; else nil.
func (s *Server) idTokenHint(r *http.Request) *oidc.IDTokenClaims {
	hint := r.Form.Get("id_token_hint")
	if hint == "" {
		return nil
	}
	ctx := op.ContextWithIssuer(r.Context(), s.issuer)
	claims, err := op.VerifyIDTokenHint[*oidc.IDTokenClaims](ctx, hint, s.provider.IDTokenHintVerifier(ctx))
	if err != nil && !errors.As(err, &op.IDTokenHintExpiredError{}) {
		return nil
	}
	return claims
}

// validateEndSession validates the request as op will once the browser's
// session has ended (an id_token_hint of this IdP, expired or not; a
// client_id that is the hint's azp and registered; a registered
// post_logout_redirect_uri), so that a request op would refuse ends
// nothing: RP-Initiated Logout 1.0 section 2 has the OP validate the
// request before acting on it, and an invalid hint names no session.
func (s *Server) validateEndSession(r *http.Request) *oauthError {
	req, err := op.ParseEndSessionRequest(r, s.provider.Decoder())
	if err == nil {
		ctx := op.ContextWithIssuer(r.Context(), s.issuer)
		if _, err = op.ValidateEndSessionRequest(ctx, req, s.provider); err == nil {
			return nil
		}
	}
	// op.RequestError's statuses, for the answer op would give.
	e := oidc.DefaultToServerError(err, err.Error())
	status := http.StatusBadRequest
	switch e.ErrorType {
	case oidc.InvalidClient:
		status = http.StatusUnauthorized
	case oidc.ServerError:
		status = http.StatusInternalServerError
	}
	desc := e.Description
	if e.Parent != nil {
		desc += ": " + s.hintReason(r.Form.Get("id_token_hint"), e.Parent)
	}
	return errorf(string(e.ErrorType), status, "%s", desc)
}

// hintReason says what is wrong with the id_token_hint op refused with
// err, in the words of the subject_token's refusals: its form, a claim,
// its signature or its issuer. op's own words name its Go types ("oidc.Time:
// parsing time ... into *oidc.itcAlias") and library internals.
func (s *Server) hintReason(hint string, err error) string {
	tok, perr := jwt.ParseSigned(hint, idTokenAlgs)
	if perr != nil {
		return "it is not a signed JWT (RS256, ES256 or EdDSA): " + jwtreason.Parse(hint, perr)
	}
	var c jwt.Claims
	if cerr := tok.UnsafeClaimsWithoutVerification(&c); cerr != nil || errors.Is(err, oidc.ErrParse) || jwtreason.BadClaims(hint) != "" {
		return "its claims cannot be read: " + jwtreason.Claims(hint, cerr)
	}
	hdr := tok.Headers[0]
	switch {
	case errors.Is(err, oidc.ErrSignatureInvalid):
		return fmt.Sprintf("its signature (kid %q, %s) does not verify with any key of this IdP; see %s/keys", hdr.KeyID, hdr.Algorithm, s.issuer)
	case errors.Is(err, oidc.ErrIssuerInvalid):
		return fmt.Sprintf("its iss %q is not this IdP (%s)", c.Issuer, s.issuer)
	}
	return err.Error()
}

// checkPostLogoutRedirectURI refuses a post_logout_redirect_uri that is
// not one of the client's redirect URIs under the rules of
// checkRedirectURI. The client is client_id, else the hint's azp; without
// either, op ignores the URI and lands on /logged-out.
func (s *Server) checkPostLogoutRedirectURI(r *http.Request, hint *oidc.IDTokenClaims) *oauthError {
	uri, id := r.Form.Get("post_logout_redirect_uri"), r.Form.Get("client_id")
	if id == "" && hint != nil {
		id = hint.GetAuthorizedParty()
	}
	if uri == "" || id == "" {
		return nil
	}
	c, err := s.lookupClient(r.Context(), s.Config(), id)
	if err != nil || c == nil {
		return nil // op refuses the client
	}
	if !redirecturi.Allowed(c.RedirectURIs, uri) {
		return invalidRequest("post_logout_redirect_uri %q is not registered for client %q: it must equal a registered URI exactly, except for the port of a loopback IP literal (RFC 8252 section 7.3), without userinfo or fragment", audit.Truncate(uri), c.ClientID)
	}
	return nil
}

var logoutPage = template.Must(template.New("logout").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign out? · xaa-idp</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;background:#f4f5f7;display:flex;justify-content:center;padding-top:10vh;margin:0}
main{background:#fff;padding:2rem 2.5rem;border-radius:8px;box-shadow:0 1px 4px #0002;max-width:28rem;overflow-wrap:anywhere}
h1{font-size:1.3rem;margin-top:0}button{padding:.5rem 1rem;width:100%}.stay{text-align:center;margin-top:1rem}
</style></head><body><main>
<h1>Sign out of xaa-idp?</h1>
<p>A request asks to sign <strong id="user">{{.User}}</strong> out of xaa-idp. Signing out also ends the sessions of the applications you signed in to through it.</p>
<form method="post" action="end_session">
<input type="hidden" name="csrf" value="{{.CSRF}}">
{{range .Params}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<button type="submit">Sign out</button>
</form>
<p class="stay">Did not expect this? <a href="{{.Home}}" id="stay">Stay signed in</a>: nothing changes.</p>
</main></body></html>`))

type logoutParam struct{ Name, Value string }

// logoutView is the question of confirmLogout: who is signed in, the
// logout request's parameters, and where "Stay signed in" leads (the
// IdP's landing page: the site that asked is unknown).
type logoutView struct {
	User, Home, CSRF string
	Params           []logoutParam
}

// signOutCSRF is the token that confirms the sign-out of sess at
// end_session (sessionCSRF).
func signOutCSRF(sess *ssoSession) string { return sessionCSRF("end_session", sess) }

// signOutConfirmed reports whether the request posts the sign-out token of
// sess in its body: the question's "Sign out", or the IdP's own sign-out.
// Not from the query, where a URL would carry it to logs and history.
func signOutConfirmed(r *http.Request, sess *ssoSession) bool {
	got := r.PostForm.Get("csrf")
	return r.Method == http.MethodPost && got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(signOutCSRF(sess))) == 1
}

// confirmLogout asks the user of sess whether to end the SSO session, with
// the logout request's parameters and the session's sign-out token in the
// form that confirms it.
func (s *Server) confirmLogout(w http.ResponseWriter, r *http.Request, sess *ssoSession) {
	pageHeaders(w)
	view := logoutView{User: sess.Username, Home: s.issuer + "/", CSRF: signOutCSRF(sess)}
	for _, name := range []string{"id_token_hint", "client_id", "post_logout_redirect_uri", "state", "logout_hint", "ui_locales"} {
		if v := r.Form.Get(name); v != "" {
			view.Params = append(view.Params, logoutParam{name, v})
		}
	}
	_ = logoutPage.Execute(w, view)
}

// endSSO ends the SSO session sid, once: the browser's session, the access
// and refresh tokens issued under it, and, until the longest an ID token
// of it may live, its ID tokens at the token exchange. It records the
// logout; how says how the session was named. sub is the user an unexpired
// id_token_hint names, or "": the browser's session may be gone (expired,
// or not kept across a restart) while tokens of the login live on, so the
// session's end is still told to the servers (OnSessionEnd). An error
// names the state directory's files that did not take the end, which then
// holds in memory only, until a restart: the logout is audited as an
// error, and the request that ended it must not answer as if signed out.
func (s *Server) endSSO(sid, how, sub string) *oidc.Error {
	// Marked ended first, in one step with the check: of two requests
	// ending one session at once, one audits and pushes the end.
	now := s.now()
	exp := s.idTokenHorizon(now)
	added, evicted := s.endedSIDs.PutNewEvicting(sid, struct{}{}, exp)
	if !added {
		return nil
	}
	if evicted {
		s.raiseEndedFloor(now)
	}
	for _, f := range s.ssoEnd.all() {
		f(sid)
	}
	var ended *ssoSession
	for _, sess := range s.sessions.TakeGroup(sid) {
		ended = sess // the browser's cookies of one sid are of one user
	}
	failed := notRecorded(s.ended.record(endedRecord{Kind: endedSession, SID: sid, Exp: exp}), endedLoginsFile)
	failed = append(failed, notRecorded(s.store.endSession(sid), refreshTokensFile)...)
	ev := audit.Event{Type: audit.TypeLogout, Outcome: audit.Allowed, Reason: "end_session by " + how}
	var e *oidc.Error
	if len(failed) > 0 {
		e = oidc.ErrServerError().WithDescription("%s", endNotRecorded("the sign-out", strings.Join(failed, ", ")))
		ev.Outcome, ev.Error, ev.Reason = audit.Error, string(e.ErrorType), ev.Reason+": "+e.Description
	}
	if ended != nil {
		ev.User, ev.Sub = ended.Username, ended.Subject
	} else if u := s.Config().UserBySub(sub); sub != "" && u != nil {
		ev.User, ev.Sub = u.Username, u.Sub
	}
	_, _ = s.audit.Append(ev)
	if ev.Sub != "" {
		s.notifySessionEnd(ev.Sub)
	}
	return e
}

// SessionEnded reports whether the SSO session sid was ended: signed out
// (at /apps, by an application's end_session), or replaced by another
// user's login in its browser. The console's sessions, each a login of
// one, end with it, as the login's tokens do.
func (s *Server) SessionEnded(sid string) bool { return sid != "" && s.sessionEnded(sid) }

// sessionEnded reports whether the SSO session sid was ended.
func (s *Server) sessionEnded(sid string) bool {
	_, ended := s.endedSIDs.Get(sid)
	return ended
}

// idTokenOfEndedSession reports whether an ID token of the SSO session sid,
// issued at iat, may belong to an ended session: sid was ended, or the
// ended sessions overflowed (more than maxEndedSessions ended within an ID
// token's lifetime, a flood of logouts) after the token was issued, so
// that its session may have been one of those forgotten. Failing closed,
// the exchange then refuses the token, and the client logs the user in
// again (or refreshes) for a newer one.
func (s *Server) idTokenOfEndedSession(sid string, iat time.Time) bool {
	if s.sessionEnded(sid) {
		return true
	}
	floor := s.endedFloor.Load()
	return floor != nil && !iat.After(*floor)
}

// raiseEndedFloor records that an ended session, or a revoked login, was
// forgotten at now, to make room for another: every ID token with a
// session issued until now is refused at the exchange
// (idTokenOfEndedSession). Said once a minute at most, as a warning. The
// floor only goes up: a floor at or after now (a clock moved back, or
// another overflow at the same moment) already refuses those tokens.
func (s *Server) raiseEndedFloor(now time.Time) {
	prev, raised := s.liftEndedFloor(now)
	if raised && (prev == nil || now.Sub(*prev) >= time.Minute) {
		slog.Warn("more SSO sessions ended, or logins revoked, within an ID token's lifetime than the IdP remembers; the token exchange refuses every ID token of a session issued until now, until they expire",
			"max_ended_sessions", maxEndedSessions, "until", now.UTC().Format(time.RFC3339))
	}
}

// liftEndedFloor raises the floor of idTokenOfEndedSession to now and
// records it, unless it is there already; it returns the floor before.
// raiseEndedFloor's warning is for an overflow: a start that lost an
// unreadable record has said so itself.
func (s *Server) liftEndedFloor(now time.Time) (prev *time.Time, raised bool) {
	prev = s.endedFloor.Load()
	for {
		if prev != nil && !now.After(*prev) {
			return prev, false
		}
		if s.endedFloor.CompareAndSwap(prev, &now) {
			break
		}
		prev = s.endedFloor.Load()
	}
	s.ended.record(endedRecord{Kind: endedFloorKind, At: now, Exp: s.idTokenHorizon(now)})
	return prev, true
}

// idTokenHorizon is when an ID token issued at t is refused at the
// exchange whatever it says: its lifetime, the exchange's skew and a
// second after t, since the exchange takes it at exp + skew itself and a
// record is live only before its time. A record of an ended login lives
// until then.
func (s *Server) idTokenHorizon(t time.Time) time.Time {
	return t.Add(s.Config().Lifetimes.IDToken.D() + pastExp)
}

// revokedLogin names the ID tokens of one client in one SSO session.
type revokedLogin struct{ sid, client string }

// revokeLogin stops, at the token exchange, the ID tokens that client was
// issued in the SSO session sid until now, for as long as they may live:
// a grant of theirs was revoked (storage.revokeGrant), for a replayed
// code, a reused refresh token or a revocation, and in EMA the ID token
// is the credential the exchange trusts. An ID token names no grant, so
// the client's other logins of the session issued until now go with it;
// the client's logins after it, and other clients' of the session, stay.
func (s *Server) revokeLogin(sid, client string) error {
	now := s.now()
	exp := s.idTokenHorizon(now)
	if s.revokedLogins.PutEvicting(revokedLogin{sid, client}, now, exp) {
		s.raiseEndedFloor(now)
	}
	return s.ended.record(endedRecord{Kind: revokedLoginKind, SID: sid, Client: client, At: now, Exp: exp})
}

// idTokenOfRevokedLogin reports when a login of the SSO session sid, of a
// client the ID token was issued to (aud or azp), was revoked, if that
// was at or after the token's iat (whole seconds: a token of the same
// second is refused). A token without a session has no login to revoke.
func (s *Server) idTokenOfRevokedLogin(v *verifiedIDToken) (time.Time, bool) {
	if v.SessionID == "" {
		return time.Time{}, false
	}
	revokedAt := func(client string) (time.Time, bool) {
		at, ok := s.revokedLogins.Get(revokedLogin{v.SessionID, client})
		return at, ok && !v.IssuedAt.After(at)
	}
	for _, client := range v.Audience {
		if at, ok := revokedAt(client); ok {
			return at, true
		}
	}
	if v.AuthorizedParty != "" {
		return revokedAt(v.AuthorizedParty)
	}
	return time.Time{}, false
}

func (s *Server) loggedOut(w http.ResponseWriter, _ *http.Request) {
	pageHeaders(w)
	// Not a dead end: a way to sign in again (My MCP servers asks for it)
	// and to what this IdP is.
	iss := html.EscapeString(s.issuer)
	_, _ = w.Write([]byte(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signed out · xaa-idp</title>` +
		`<meta name="viewport" content="width=device-width, initial-scale=1"></head><body><main><h1>Signed out</h1><p>You are signed out of xaa-idp.</p>` +
		`<p><a href="` + iss + pathApps + `">Sign in again</a> (your MCP servers) · <a href="` + iss + `/">About this IdP</a></p></main></body></html>`))
}

// LoginThrottle returns the throttle the login page asks, to be shared by
// every other password check of this IdP (the admin API's HTTP Basic), or
// nil while the configuration's security.login_throttle is off.
func (s *Server) LoginThrottle() LoginThrottle {
	if !s.Config().Security.Throttled() {
		return nil
	}
	return s.throttle
}

// plural is unit, with an s unless n is "1".
func plural(n, unit string) string {
	if n == "1" {
		return unit
	}
	return unit + "s"
}
