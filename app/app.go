// Package app puts the product together: the IdP at the root, the admin
// API under /admin/api/ and the web console under /admin/, as one
// http.Handler. The CLI serves it, and so do tests that want the whole
// product.
package app

import (
	"context"
	"net/http"
	"time"

	"github.com/xaa-idp/xaa-idp/admin"
	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/policy"
	"github.com/xaa-idp/xaa-idp/push"
	"github.com/xaa-idp/xaa-idp/web"
)

// Handler returns the product's HTTP surface for an IdP whose
// configuration cannot be changed through the admin API (no Store).
func Handler(srv *idp.Server) http.Handler { return New(Options{IdP: srv}) }

// Options configure the product.
type Options struct {
	// IdP is the identity provider. Required.
	IdP *idp.Server
	// Store, when set, is where the IdP's configuration comes from: the
	// admin API and the console change it there, and New connects it to
	// the IdP (see New). Without it the configuration is read-only.
	Store Store
	// Push, when set, tells MCP servers that a user lost access
	// (docs/configuration.md, "Revocation push"): New hands it every new
	// configuration of the Store and every end of an SSO session.
	Push *push.Pusher
	// Hosts are further host names the IdP answers to by design, besides
	// its issuer's host, localhost and IP literals: the host of --addr.
	// Port numbers are ignored. A browser's request (Origin, Sec-Fetch-Site
	// or a browser's User-Agent) for the admin API, the console or the login form's post under any
	// other name is refused with 403, against DNS rebinding (hostGuard).
	Hosts []string
	// CAFile is the --ca-file argument (quoted for a shell) that the
	// landing page's command gives when clients must trust a local CA
	// (serve --tls); empty when they need none.
	CAFile string

	// tenants are every tenant's console, for the console's tenant
	// switcher (set by Tenants).
	tenants []web.Tenant
	// tails are the live tails of every tenant's console (set by
	// Tenants), capped together.
	tails *web.TailSlots
	// clockShared are the audit logs of the other tenants, which run on
	// the IdP's clock (set by Tenants: admin.Options.ClockShared).
	clockShared []*audit.Log
	// mounted is set by root, which serves the product under its
	// issuer's path.
	mounted bool
}

// New returns the product's HTTP surface. With a Store, New makes the IdP
// follow it: every new version (an admin's change, or the file reloaded
// after someone changed it on disk) becomes the IdP's running policy, and
// every reload or refused reload of the file is audited as config_reload.
// The store is the authority: the IdP is set to its configuration now.
// Call New once per Store.
//
// An IdP whose issuer has a path (https://host/idp, a file without
// tenants) is served under that path, and the root answers as the root of
// a file with tenants does: the landing page at /, /healthz, /metrics and
// the path-insertion discovery documents; /admin/ leads to the console.
func New(o Options) http.Handler {
	srv := o.IdP
	if path := srv.Path(); path != "" && !o.mounted {
		return root([]Options{o}, o.Hosts, landing(srv, o.CAFile), http.RedirectHandler(path+"/admin/", http.StatusFound))
	}
	if o.Store != nil {
		if srv.Config() != o.Store.Config() {
			srv.SetConfig(o.Store.Config())
		}
		o.Store.OnChange(srv.SetConfig)
		// The watcher retries an unrecorded reload at every check: said
		// once while the audit log refuses it (a full disk), not at each.
		var unrecorded audit.FailOnce
		o.Store.OnReload(func(r policy.Reload) error {
			// A reload whose event cannot be written is not loaded (the
			// Store retries it): the configuration never changes unrecorded.
			_, err := srv.Audit().Append(admin.ReloadEvent(r))
			if err != nil {
				unrecorded.Failed("audit log: a configuration reload cannot be recorded, so the file changed on disk is not loaded; it is read again at every check, and this is said once until it is recorded", "err", err)
				return err
			}
			unrecorded.Succeeded("audit log: configuration reloads are recorded again", "unrecorded")
			return nil
		})
	}
	if o.Push != nil {
		// Errors (a full queue) are logged and audited by the Pusher; an
		// edit or a logout goes ahead regardless.
		if o.Store != nil {
			o.Store.OnChange(func(c *policy.Config) { _ = o.Push.ConfigChanged(c) })
		}
		srv.OnSessionEnd(func(sub string) { _ = o.Push.SessionEnded(sub) })
		srv.OnAccessExpired(o.Push.AccessExpired)
		o.Push.OnQueued(srv.NoteRevocation)
	}
	mux := http.NewServeMux()
	// The console calls the product in-process through mux: the IdP's
	// token endpoint for its own sign-in, and the admin API for every page,
	// which authenticates the console's session through the hook.
	// The API authenticates the console's sessions, and the console reads
	// what it shows from the API: each needs the other, so the API's hook
	// calls the console built next.
	var console *web.Console
	var store admin.Store
	if o.Store != nil {
		store = o.Store
	}
	api := admin.New(admin.Options{IdP: srv, Now: srv.Now, Store: store, Throttle: loginThrottle{srv}, ClockShared: o.clockShared, Session: func(r *http.Request) (string, bool) {
		return console.Session(r)
	}})
	console = web.New(web.Options{IdP: srv, Admin: api, Handler: mux, Tenants: o.tenants, TailSlots: o.tails})
	mux.Handle("/admin/api/", api)
	mux.Handle("/admin/", console)
	mux.Handle("GET /{$}", landing(srv, o.CAFile))
	mux.HandleFunc("/{$}", idp.MethodNotAllowed("GET, HEAD")) // else op's 404
	mux.Handle("/", srv)
	if !o.mounted {
		warnNonASCIIIssuer(srv.Issuer()) // else root warns once for all
	}
	return noSniff(guardHosts(mux, srv.Issuer(), o.Hosts))
}

// nosniffValue is the header value noSniff sets, shared by every answer
// (capacity one, as internal/httpjson's).
var nosniffValue = []string{"nosniff"}

// noSniff marks every answer X-Content-Type-Options: nosniff, not only
// the HTML pages that set it themselves: JSON that quotes what a request
// sent (a client_id, a redirect_uri), the admin API's YAML and the plain
// text of /healthz and /metrics are never to be taken by a browser for a
// page or a script. The console calls the inner mux in-process, without
// it.
func noSniff(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["X-Content-Type-Options"] = nosniffValue[:1:1]
		h.ServeHTTP(w, r)
	})
}

// Store is the configuration store New connects the IdP to: a
// *policy.Store, or a tenant's *policy.TenantStore.
type Store interface {
	admin.Store
	OnChange(func(*policy.Config))
	OnReload(func(policy.Reload) error)
}

// loginThrottle is the IdP's login throttle, for the admin API's HTTP Basic
// to count toward, so that a username's password is not guessed faster by
// trying both; while security.login_throttle is off it allows everything.
type loginThrottle struct{ idp *idp.Server }

func (t loginThrottle) Wait(ctx context.Context, user string) (time.Duration, bool) {
	if th := t.idp.LoginThrottle(); th != nil {
		return th.Wait(ctx, user)
	}
	return 0, true
}

func (t loginThrottle) Failure(user string) {
	if th := t.idp.LoginThrottle(); th != nil {
		th.Failure(user)
	}
}

func (t loginThrottle) Success(user string) {
	if th := t.idp.LoginThrottle(); th != nil {
		th.Success(user)
	}
}

func (t loginThrottle) Unchecked(user string) {
	if th := t.idp.LoginThrottle(); th != nil {
		th.Unchecked(user)
	}
}
