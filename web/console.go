// Package web is the admin console: HTML pages under /admin/ to assign users
// and groups to MCP servers, read the audit log and explain decisions.
//
// The console is an OpenID client of its own IdP: admins sign in through the
// IdP's login page (code + PKCE), and the console keeps them signed in with
// an encrypted session cookie. Everything it changes goes through the
// product's public HTTP surface, called in-process: the admin JSON API that
// scripts use (one code path for both) and the IdP's token endpoint.
// Everything it shows comes from the admin API too, read in-process through
// the Admin interface: the running configuration, the audit log, the clock.
// Of the IdP itself it knows only its issuer, and registers its own client.
package web

import (
	"crypto/rand"
	"embed"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/sessions"

	"github.com/xaa-idp/xaa-idp/admin"
	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/policy"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// ClientID is the client_id under which the console signs admins in at its
// IdP. The console registers it with IdP.RegisterClient; it is not part of
// the configuration.
const ClientID = "xaa-idp-console"

// DefaultSessionMaxAge is how long a console sign-in lasts by default.
const DefaultSessionMaxAge = 8 * time.Hour

// IdP is what the console needs of the identity provider that signs its
// admins in: *idp.Server implements it.
type IdP interface {
	Issuer() string
	// Path is the path the IdP, and with it the product, is mounted
	// under: "" at the root, a tenant's path (docs/configuration.md,
	// "Tenants"). The console is at Path()+"/admin/", and every link,
	// redirect and cookie of it starts there.
	Path() string
	// RegisterClient registers the console's own OpenID client, which is
	// not part of the configuration; start is the console's URL, where
	// the login page of an expired sign-in leads to start again.
	RegisterClient(c policy.Client, start string)
	// LoginEnded reports whether the login of sub in the SSO session sid
	// at authTime ended when its user was disabled or removed, though the
	// user is active again.
	LoginEnded(sub, sid string, authTime time.Time) bool
	// SessionEnded reports whether the SSO session sid was ended (a
	// sign-out at the IdP): the console's session, a login of it, ends
	// with it.
	SessionEnded(sid string) bool
	// Audit is the audit log, where the console records a user it
	// refuses for not being an admin.
	Audit() *audit.Log
	// SweepStore has the IdP's sweeper sweep one of the console's
	// in-memory stores with its own, and /metrics publish its size
	// (xaa_idp_store_entries).
	SweepStore(name string, sweep func(), size func() int)
}

// Admin is the admin API as the console reads it in-process: *admin.API
// implements it. The console shows what the API shows.
type Admin interface {
	Config() *policy.Config // the running configuration
	Now() time.Time         // the IdP's clock
	Audit(f audit.Filter) []audit.Event
	AuditPage(f audit.Filter) (events []audit.Event, more bool)
	AuditOlder(f audit.Filter, id string) bool // whether a page that ends with id has an older page
	AuditNewer(f audit.Filter, id string) bool // whether a page that begins with id has a newer page
	UsersPage(q admin.UsersQuery) (users []admin.UserView, more bool, err error)
	SubscribeAudit(buffer int) (events <-chan *audit.Event, cancel func())
}

// Options configure the console.
type Options struct {
	// IdP is the identity provider the console administers. Required.
	IdP IdP
	// Admin is the admin API the console reads from. Required.
	Admin Admin
	// Handler is the product's whole HTTP surface (the IdP and the admin API
	// under /admin/api/). The console calls it in-process for its own
	// sign-in (token endpoint, keys) and for every page's data. Required.
	Handler http.Handler
	// SessionMaxAge is how long a sign-in lasts; 0 means DefaultSessionMaxAge.
	SessionMaxAge time.Duration
	// Tenants are every tenant of the process, this one included, for the
	// tenant switcher of an admin of several (docs/configuration.md,
	// "Tenants"; sign-in is per tenant). With fewer than two there is no
	// switcher.
	Tenants []Tenant
	// TailSlots, shared by the consoles of one process (every tenant's),
	// counts their audit live tails against the caps (each tenant's share
	// among them); nil means one of this console's own.
	TailSlots *TailSlots
}

// Tenant is a tenant's console, as the tenant switcher links to it.
type Tenant struct {
	ID, Persona string
	Console     string // the console's URL: <issuer>/admin/
}

// Console is the admin console as one http.Handler, mounted at /admin/ of
// the product (which a tenant's path may precede).
type Console struct {
	idp       IdP
	adminAPI  Admin
	handler   http.Handler
	issuer    *url.URL
	secret    string // the console client's secret at the IdP
	store     *sessions.CookieStore
	sessions  *registry // the sessions signed in
	maxAge    time.Duration
	pages     *pages
	mux       *http.ServeMux
	redirect  string // the console's redirect_uri at the IdP
	signedOut string
	base      string   // IdP.Path(): the prefix of every URL of the console
	tenants   []Tenant // Options.Tenants
	tails     *TailSlots
}

// New builds the console and registers its client at the IdP.
func New(o Options) *Console {
	if o.IdP == nil || o.Admin == nil || o.Handler == nil {
		panic("web: Options.IdP, Options.Admin and Options.Handler are required")
	}
	iss, err := url.Parse(o.IdP.Issuer())
	if err != nil {
		panic("web: the IdP's issuer is not a URL: " + err.Error())
	}
	c := &Console{
		idp:      o.IdP,
		adminAPI: o.Admin,
		handler:  o.Handler,
		issuer:   iss,
		secret:   randomString(32),
		maxAge:   o.SessionMaxAge,
		base:     o.IdP.Path(),
		tenants:  o.Tenants,
		tails:    o.TailSlots,
	}
	if c.tails == nil {
		c.tails = NewTailSlots()
	}
	c.tails.join(c.base)
	c.pages = parsedPages()
	if c.maxAge <= 0 {
		c.maxAge = DefaultSessionMaxAge
	}
	c.redirect = o.IdP.Issuer() + "/admin/callback"
	c.signedOut = o.IdP.Issuer() + "/admin/signed-out"
	o.IdP.RegisterClient(policy.Client{
		ClientID:     ClientID,
		Name:         "xaa-idp admin console",
		ClientSecret: c.secret,
		RedirectURIs: []string{c.redirect, c.signedOut},
	}, o.IdP.Issuer()+"/admin/")

	// Random keys per process: a restart signs every admin out, which is
	// the right trade for a mock IdP that keeps no state of its own. The
	// cookie store's defaults (path "/", 30 days, readable by scripts, sent
	// cross-site) are overridden. The path is the tenant's console: two
	// tenants' sessions (each with its CSRF token) live side by side in one
	// browser, and neither console's keys decode the other's cookie.
	c.store = sessions.NewCookieStore(randomBytes(64), randomBytes(32))
	c.store.Options = &sessions.Options{
		Path:     c.url("/admin/"),
		MaxAge:   int(c.maxAge / time.Second),
		HttpOnly: true,
		Secure:   iss.Scheme == "https",
		SameSite: http.SameSiteLaxMode,
	}
	c.store.MaxAge(c.store.Options.MaxAge)
	c.sessions = newRegistry(c.maxAge, maxSessions)
	o.IdP.SweepStore("console_sessions", c.sessions.sweep, c.sessions.len)
	c.routes()
	return c
}

func (c *Console) routes() {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/admin/static/", http.FileServerFS(static))
	mux.HandleFunc("GET /admin/static/", func(w http.ResponseWriter, r *http.Request) {
		// The two files, not a listing of them.
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		files.ServeHTTP(w, r)
	})

	mux.HandleFunc("GET /admin/signin", c.signIn)
	mux.HandleFunc("GET /admin/callback", c.callback)
	// Their GET starts or completes a sign-in: HEAD, which a link
	// checker or prefetch sends, does neither (as at the IdP's
	// /authorize and /authorize/callback).
	for _, path := range []string{"/admin/signin", "/admin/callback"} {
		mux.HandleFunc("HEAD "+path, func(w http.ResponseWriter, r *http.Request) { c.methodNotAllowed(w, r, "GET") })
	}
	mux.HandleFunc("GET /admin/signed-out", c.signedOutPage)
	mux.Handle("POST /admin/signout", c.csrf(http.HandlerFunc(c.signOut)))

	page := func(pattern string, h func(http.ResponseWriter, *http.Request, *viewer)) {
		mux.Handle(pattern, c.admin(h))
	}
	page("GET /admin/{$}", c.overview)
	page("GET /admin/servers", c.serverList)
	page("GET /admin/servers/{id}", c.serverPage)
	page("POST /admin/servers/{id}/access", c.saveAccess)
	page("POST /admin/servers/{id}/deny", c.saveDeny)
	page("POST /admin/access-requests/{id}/approve", c.approveRequest)
	page("POST /admin/access-requests/{id}/deny", c.denyRequest)
	page("GET /admin/users", c.usersPage)
	page("GET /admin/audit", c.auditPage)
	page("GET /admin/audit/export", c.auditExport)
	page("GET /admin/audit/stream", c.auditStream)
	page("GET /admin/explain", c.explainPage)
	page("GET /admin/onboarding", c.onboardingPage)
	page("POST /admin/onboarding", c.runOnboarding)
	page("GET /admin/config.yaml", c.downloadYAML)
	// Another method at a console address is 405 with Allow (RFC 9110
	// section 15.5.6), as at the IdP's pages, not the catch-all's 404
	// "no page here": a form's address opened in the address bar (it
	// shows after a refused change) leads to the form's page.
	for path, allow := range map[string]string{
		"/admin/static/": "GET, HEAD", "/admin/signin": "GET", "/admin/callback": "GET",
		"/admin/signed-out": "GET, HEAD", "/admin/{$}": "GET, HEAD", "/admin/servers": "GET, HEAD",
		"/admin/servers/{id}": "GET, HEAD", "/admin/users": "GET, HEAD", "/admin/audit": "GET, HEAD",
		"/admin/audit/export": "GET, HEAD", "/admin/audit/stream": "GET, HEAD", "/admin/explain": "GET, HEAD",
		"/admin/config.yaml": "GET, HEAD", "/admin/onboarding": "GET, HEAD, POST",
		"/admin/signout": "POST", "/admin/servers/{id}/access": "POST", "/admin/servers/{id}/deny": "POST",
		"/admin/access-requests/{id}/approve": "POST", "/admin/access-requests/{id}/deny": "POST",
	} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) { c.methodNotAllowed(w, r, allow) })
	}
	mux.HandleFunc("/admin/", func(w http.ResponseWriter, r *http.Request) {
		var v *viewer // a signed-in admin gets the navigation bar to go on from
		if s, u := c.signedIn(r); u.MayAdminister() {
			v = &viewer{User: u, CSRF: sessionString(s, keyCSRF)}
		}
		c.errorPage(w, r, v, http.StatusNotFound, "Not found", "There is no console page at "+c.url(r.URL.Path)+".")
	})
	c.mux = mux
}

// methodNotAllowed answers a method that a console address does not take.
// A form's address (only POST) says whose form it takes and links to the
// page that has it.
func (c *Console) methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	var v *viewer // a signed-in admin gets the navigation bar to go on from
	if s, u := c.signedIn(r); u.MayAdminister() {
		v = &viewer{User: u, CSRF: sessionString(s, keyCSRF)}
	}
	if allow == "POST" {
		c.errorPageTo(w, r, v, http.StatusMethodNotAllowed, "Not a page",
			c.url(r.URL.Path)+" is where a form of the console is sent, not a page to open; nothing was changed. The form is on the page below.",
			"Open the form's page", formPage(r))
		return
	}
	c.errorPage(w, r, v, http.StatusMethodNotAllowed, "Method not allowed",
		"The console's page "+c.url(r.URL.Path)+" takes "+allow+", not "+r.Method+".")
}

// url is the address of a console path ("/admin/servers") as the browser
// reaches it: under the tenant's path. The console's own routes, and the
// next and back values of its forms, are without it, as the console sees
// requests (app.Tenants strips the tenant's path).
func (c *Console) url(path string) string { return c.base + path }

// ServeHTTP implements http.Handler.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// Templates escape everything; the policy below is the second wall:
	// no inline script runs, nothing loads from elsewhere, no framing.
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	if !strings.HasPrefix(r.URL.Path, "/admin/static/") {
		h.Set("Cache-Control", "no-store")
	}
	c.mux.ServeHTTP(w, r)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("web: no randomness: " + err.Error())
	}
	return b
}
