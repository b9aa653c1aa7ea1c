package idp

import (
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
)

const (
	sessionCookie = "xaa_idp_sso"
	// sessionTTL is how long a single sign-on lasts without a new login.
	sessionTTL = 12 * time.Hour
)

// ssoSession is a signed-in browser: one login serves every later
// /authorize of any client until it expires or the user logs out.
type ssoSession struct {
	ID       string
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
	if !s.Config().User(sess.Username).Active() {
		s.sessions.Delete(sess.ID)
		return nil
	}
	return sess
}

func (s *Server) sessionCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     sessionCookie,
		Value:    value,
		Path:     "/",
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
main{background:#fff;padding:2rem 2.5rem;border-radius:8px;box-shadow:0 1px 4px #0002;min-width:18rem}
h1{font-size:1.3rem;margin-top:0}label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.4rem;box-sizing:border-box}
button{margin-top:1.2rem;padding:.5rem 1rem;width:100%}.err{color:#b00020}.client{color:#555;font-size:.9rem}
</style></head><body><main>
<h1>Sign in to xaa-idp</h1>
{{if .Client}}<p class="client">to continue to <strong>{{.Client}}</strong></p>{{end}}
{{if .Error}}<p class="err" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/login">
<input type="hidden" name="authRequestID" value="{{.ID}}">
<label for="username">Username</label><input id="username" name="username" autocomplete="username" value="{{.Username}}" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form></main></body></html>`))

type loginView struct {
	ID, Client, Username, Error string
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
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	_ = r.ParseForm()
	id := r.Form.Get("authRequestID")
	ar, ok := s.store.authRequests.Get(id)
	if !ok {
		w.WriteHeader(http.StatusBadRequest)
		_ = loginPage.Execute(w, loginView{Error: "This sign-in request is unknown or has expired. Start again from your application."})
		return
	}
	view := loginView{ID: id, Client: ar.ClientID, Username: ar.LoginHint}
	if c := s.client(s.Config(), ar.ClientID); c != nil && c.Name != "" {
		view.Client = c.Name
	}
	now := s.now()
	if r.Method == http.MethodGet {
		if ar.Done() {
			s.toCallback(w, r, id)
			return
		}
		if sess := s.session(r); sess != nil && !ar.forcesLogin() && ar.sessionFresh(sess, now) {
			s.store.authRequests.Update(id, func(a **authRequest) { (*a).complete(sess) })
			s.toCallback(w, r, id)
			return
		}
		_ = loginPage.Execute(w, view)
		return
	}

	username := strings.TrimSpace(r.PostForm.Get("username"))
	view.Username = username
	ev := audit.Event{Type: audit.TypeLogin, User: username, ClientID: ar.ClientID}
	u := s.Config().User(username)
	switch {
	case u == nil:
		ev.Reason = "unknown username"
	case !u.CheckPassword(r.PostForm.Get("password")):
		ev.Reason = "wrong password"
	case !u.Active():
		ev.Reason = "user is disabled"
	}
	if ev.Reason != "" {
		ev.Outcome, ev.Error = audit.Denied, "access_denied"
		_, _ = s.audit.Append(ev)
		view.Error = "Invalid username or password."
		if ev.Reason == "user is disabled" {
			view.Error = "This account is disabled. Ask your administrator."
		}
		w.WriteHeader(http.StatusUnauthorized)
		_ = loginPage.Execute(w, view)
		return
	}
	sess := &ssoSession{ID: randomID(24), Username: u.Username, Subject: u.Sub, AuthTime: now}
	ev.Outcome, ev.Sub, ev.Reason = audit.Allowed, u.Sub, "password"
	if _, err := s.audit.Append(ev); err != nil {
		http.Error(w, "the audit log could not be written", http.StatusInternalServerError)
		return
	}
	if old, err := r.Cookie(sessionCookie); err == nil {
		s.sessions.Delete(old.Value) // a new login replaces the old session
	}
	s.sessions.Put(sess.ID, sess, now.Add(sessionTTL))
	http.SetCookie(w, s.sessionCookie(sess.ID, int(sessionTTL/time.Second)))
	s.store.authRequests.Update(id, func(a **authRequest) { (*a).complete(sess) })
	s.toCallback(w, r, id)
}

func (s *Server) toCallback(w http.ResponseWriter, r *http.Request, id string) {
	http.Redirect(w, r, s.issuer+pathAuthorize+"/callback?id="+id, http.StatusFound)
}

// endSession ends the SSO session (cookie and server side), records the
// logout, then lets op validate id_token_hint and redirect (OIDC RP-Initiated
// Logout).
func (s *Server) endSession(w http.ResponseWriter, r *http.Request) {
	if sess := s.session(r); sess != nil {
		s.sessions.Delete(sess.ID)
		_, _ = s.audit.Append(audit.Event{Type: audit.TypeLogout, Outcome: audit.Allowed, User: sess.Username, Sub: sess.Subject})
		s.sessionEnded(sess.Subject)
	}
	http.SetCookie(w, s.sessionCookie("", -1))
	s.provider.ServeHTTP(w, r)
}

func (s *Server) loggedOut(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signed out · xaa-idp</title></head><body><p>You are signed out of xaa-idp.</p></body></html>`))
}
