package idp

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/xaa-idp/xaa-idp/access"
	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/policy"
)

// AppsClientID is the client_id under which <issuer>/apps signs users in
// through the IdP's own login: a public client that the IdP registers for
// itself, whose authorization codes are never redeemed (the page needs only
// the SSO session the login sets).
const AppsClientID = "xaa-idp-apps"

func (s *Server) registerAppsClient() {
	s.RegisterClient(policy.Client{ClientID: AppsClientID, Name: "My MCP servers", RedirectURIs: []string{s.issuer + pathApps}}, s.issuer+pathApps)
}

// appRow is one MCP server on the page.
type appRow struct {
	ID, Name string
	Scopes   []string // assigned: what the user has; requestable: what the server knows
	Left     string   // assigned: "expires in 7h 59m", or "" when it does not expire
	Pending  *access.Request
	Denied   *access.Request // the latest decided request, when it was denied
}

type appsView struct {
	User, Action, CSRF, SignOut string
	SignOutCSRF                 string // end_session's token: the sign-out asks nothing
	Assigned, Requestable       []appRow
	Flash, Error                string
}

// appsPage is GET <issuer>/apps, "My MCP servers" (docs/http.md): the
// servers the signed-in user is assigned to, and a request form for each
// other server that does not deny the user. Without an SSO session it
// starts a sign-in at the IdP's own login.
func (s *Server) appsPage(w http.ResponseWriter, r *http.Request) {
	sess := s.session(r)
	if sess == nil {
		s.appsSignIn(w, r)
		return
	}
	if r.URL.RawQuery != "" && r.URL.Query().Has("code") {
		// Back from the sign-in: the session is what counts; drop the
		// code and state from the address bar.
		http.Redirect(w, r, s.issuer+pathApps, http.StatusSeeOther)
		return
	}
	view := s.appsView(sess)
	if id := r.URL.Query().Get("requested"); id != "" {
		// The address the request form redirects to: it says so only
		// while the user's request for that server waits, so a typed or
		// linked address cannot claim a request nobody made.
		for _, row := range view.Requestable {
			if row.ID == id && row.Pending != nil {
				view.Flash = "Your request for " + row.Name + " was sent to the administrators."
			}
		}
	}
	s.renderApps(w, http.StatusOK, view)
}

// appsRequest is POST <issuer>/apps: the request form, with the page's CSRF
// token.
func (s *Server) appsRequest(w http.ResponseWriter, r *http.Request) {
	sess := s.session(r)
	if sess == nil {
		pageHeaders(w)
		w.WriteHeader(http.StatusUnauthorized)
		_ = appsSignedOut.Execute(w, s.issuer+pathApps)
		return
	}
	view := s.appsView(sess)
	if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(view.CSRF)) != 1 {
		// Audited as the console's refusal of a form without its token,
		// and as it, not counted as a login (xaa_idp_logins_total).
		_, _ = s.audit.appendUncounted(audit.Event{Type: audit.TypeLogin, Outcome: audit.Denied, Error: "access_denied", User: sess.Username, Sub: sess.Subject, ClientID: AppsClientID,
			Reason:  "the apps page's form without the page's CSRF token is refused (a page of an earlier session, or a post from another site)",
			Details: map[string]any{"method": r.Method, "path": audit.Truncate(r.URL.Path)}})
		view.Error = "The form did not carry this page's security token, so nothing was requested. Reload the page and try again."
		s.renderApps(w, http.StatusForbidden, view)
		return
	}
	u := s.Config().User(sess.Username)
	server := r.PostForm.Get("server")
	if srv := s.Config().Server(server); srv != nil && len(srv.Scopes) > 0 && len(r.PostForm["scopes"]) == 0 {
		// The form offers the server's scopes checked: a user who unchecked
		// every one asked for none, which no approval can grant, and which
		// the API's "scopes left out" (every scope) does not mean here. As
		// the console's approval form refuses every scope unchecked.
		view.Error = "No scope was checked, so nothing was requested. Check the scopes you need (all of them are checked when the page opens)."
		s.renderApps(w, http.StatusBadRequest, view)
		return
	}
	_, status, e := s.requestAccess(u, AppsClientID, newAccessRequest{Server: server, Scopes: r.PostForm["scopes"], Reason: strings.TrimSpace(r.PostForm.Get("reason"))})
	if e != nil {
		view = s.appsView(sess)
		view.Error, _ = e["error_description"].(string)
		s.renderApps(w, status, view)
		return
	}
	http.Redirect(w, r, s.issuer+pathApps+"?requested="+url.QueryEscape(server), http.StatusSeeOther)
}

// appsSignIn sends the browser to the authorization endpoint as the apps
// client (OIDC Core section 3.1.2.1). The PKCE verifier is thrown away, so
// the code the login yields can never be redeemed (RFC 7636 section 4.6).
func (s *Server) appsSignIn(w http.ResponseWriter, r *http.Request) {
	challenge := sha256.Sum256([]byte(randomID(32)))
	q := url.Values{
		"client_id":             {AppsClientID},
		"redirect_uri":          {s.issuer + pathApps},
		"response_type":         {"code"},
		"scope":                 {"openid"},
		"state":                 {randomID(16)},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(challenge[:])},
		"code_challenge_method": {"S256"},
	}
	http.Redirect(w, r, s.issuer+pathAuthorize+"?"+q.Encode(), http.StatusSeeOther)
}

// appsCSRF is the page's CSRF token (sessionCSRF).
func appsCSRF(sess *ssoSession) string { return sessionCSRF("apps", sess) }

// sessionCSRF is a CSRF token of sess for one purpose: derived from the SSO
// session's secret id, so it needs no storage, tells nothing about the id,
// and is spent once the session ends.
func sessionCSRF(purpose string, sess *ssoSession) string {
	sum := sha256.Sum256([]byte("xaa-idp " + purpose + " csrf\x00" + sess.ID))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func (s *Server) appsView(sess *ssoSession) appsView {
	cfg, now := s.Config(), s.now()
	u := cfg.User(sess.Username)
	view := appsView{User: sess.Username, Action: s.issuer + pathApps, CSRF: appsCSRF(sess), SignOut: s.issuer + pathEndSession, SignOutCSRF: signOutCSRF(sess)}
	latest := map[string]access.Request{} // by server: the user's latest request
	for _, q := range s.requests.List("") {
		if q.Of(sess.Username, sess.Subject) {
			latest[q.Server] = q
		}
	}
	for i := range cfg.MCPServers {
		srv := &cfg.MCPServers[i]
		st := srv.StandingOf(u, now)
		row := appRow{ID: srv.ID, Name: srv.Label()}
		switch {
		case st.Assigned:
			row.Scopes, row.Left = st.Scopes, access.TimeLeft(st.Until, now)
			view.Assigned = append(view.Assigned, row)
		case !st.Denied:
			row.Scopes = srv.Scopes
			if q, ok := latest[srv.ID]; ok && q.Status == access.Pending {
				row.Pending = &q
			} else if ok && q.Status == access.Denied {
				row.Denied = &q
			}
			view.Requestable = append(view.Requestable, row)
		}
	}
	return view
}

func (s *Server) renderApps(w http.ResponseWriter, status int, view appsView) {
	pageHeaders(w)
	w.WriteHeader(status)
	_ = appsPageTemplate.Execute(w, view)
}

// appsStyle is the page's stylesheet, in the console's colours
// (web/static/console.css), inline because the IdP's pages load nothing
// else (pageHeaders).
const appsStyle = `<style>
body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1d2330;margin:0;overflow-wrap:anywhere}
header{background:#1d2330;color:#fff;padding:.7rem 1.5rem;display:flex;justify-content:space-between;align-items:center}
header a{color:#cfe0ff}main{max-width:60rem;margin:1.5rem auto;padding:0 1.5rem}
section{background:#fff;border-radius:8px;box-shadow:0 1px 4px #0002;padding:1rem 1.5rem;margin-bottom:1.5rem}
h1{font-size:1.2rem;margin:0}h2{font-size:1.1rem}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #e3e6ec;vertical-align:top}
.tag{display:inline-block;background:#eef2f8;border-radius:4px;padding:0 .4rem;margin:0 .2rem .2rem 0;font-family:monospace}
.muted{color:#5f6775}.flash{padding:.6rem 1rem;border-radius:6px;background:#e6f4ea}.err{background:#fdecea;color:#8a1c12}
.pending{color:#8a5a00}fieldset{border:0;padding:0;margin:.3rem 0}label{margin-right:.8rem}
textarea{width:100%;box-sizing:border-box}button{margin-top:.4rem;padding:.35rem .9rem}
.signout{display:inline;margin:0}.signout button{margin:0;padding:0;border:0;background:none;color:#cfe0ff;text-decoration:underline;font:inherit;cursor:pointer}
</style>`

var appsPageTemplate = template.Must(template.New("apps").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>My MCP servers · xaa-idp</title>
<meta name="viewport" content="width=device-width, initial-scale=1">` + appsStyle + `</head><body>
<header><h1>My MCP servers</h1><span>Signed in as <strong id="user"><bdi>{{.User}}</bdi></strong> · <form method="post" action="{{.SignOut}}" class="signout"><input type="hidden" name="csrf" value="{{.SignOutCSRF}}"><button type="submit" id="signout">Sign out</button></form></span></header>
<main>
{{if .Flash}}<p class="flash" role="status"><bdi>{{.Flash}}</bdi></p>{{end}}
{{if .Error}}<p class="flash err" role="alert" id="error" tabindex="-1" autofocus><bdi>{{.Error}}</bdi></p>{{end}}
<section aria-labelledby="assigned-h"><h2 id="assigned-h">Assigned to you</h2>
{{if .Assigned}}<table id="assigned"><thead><tr><th>MCP server</th><th>Scopes</th><th>Access</th></tr></thead><tbody>
{{range .Assigned}}<tr data-server="{{.ID}}"><td><bdi>{{.Name}}</bdi></td><td>{{range .Scopes}}<span class="tag"><bdi>{{.}}</bdi></span>{{else}}<span class="muted">none</span>{{end}}</td><td>{{if .Left}}{{.Left}}{{else}}does not expire{{end}}</td></tr>
{{end}}</tbody></table>
{{else}}<p class="muted">You are assigned to no MCP server yet.</p>{{end}}
</section>
<section aria-labelledby="request-h"><h2 id="request-h">Request access</h2>
{{range .Requestable}}<div id="request-{{.ID}}"><h3><bdi>{{.Name}}</bdi></h3>
{{if .Pending}}<p class="pending">Request pending since {{.Pending.Created.Format "2006-01-02 15:04 MST"}}{{if .Pending.Scopes}} for {{range .Pending.Scopes}}<span class="tag"><bdi>{{.}}</bdi></span>{{end}}{{end}}: an administrator will decide it.</p>
{{else}}{{if .Denied}}<p class="muted">Your last request was denied{{if .Denied.DenyReason}}: <bdi>{{.Denied.DenyReason}}</bdi>{{end}}.</p>{{end}}
<form method="post" action="{{$.Action}}">
<input type="hidden" name="csrf" value="{{$.CSRF}}"><input type="hidden" name="server" value="{{.ID}}">
{{if .Scopes}}<fieldset><legend>Scopes</legend>{{range .Scopes}}<label><input type="checkbox" name="scopes" value="{{.}}" checked> <bdi>{{.}}</bdi></label>{{end}}</fieldset>{{end}}
<label for="reason-{{.ID}}">Why do you need it?</label>
<textarea id="reason-{{.ID}}" name="reason" rows="2" maxlength="1024"></textarea>
<button type="submit">Request access to <bdi>{{.Name}}</bdi></button>
</form>{{end}}</div>
{{else}}<p class="muted">There is no other MCP server you may request.</p>{{end}}
</section>
</main></body></html>`))

var appsSignedOut = template.Must(template.New("apps-signed-out").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Session ended · xaa-idp</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head><body><main>
<h1>Session ended</h1>
<p>Your session has ended, so nothing was requested. <a href="{{.}}">Sign in again</a>.</p></main></body></html>`))
