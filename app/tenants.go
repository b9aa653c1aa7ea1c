package app

import (
	"fmt"
	"html"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/internal/httpjson"
	"github.com/xaa-idp/xaa-idp/policy"
	"github.com/xaa-idp/xaa-idp/push"
	"github.com/xaa-idp/xaa-idp/web"
)

// Tenant is one IdP of a file with tenants, and its view of the Store.
type Tenant struct {
	IdP   *idp.Server
	Store *policy.TenantStore // nil: the configuration is read-only
	// Push, when set, is the tenant's revocation push (Options.Push).
	Push *push.Pusher
	// CAFile is Options.CAFile, for the tenant's landing page and the
	// root's.
	CAFile string
}

// Tenants returns the HTTP surface of a file with tenants
// (docs/configuration.md, "Tenants"). Each tenant's product (New: the
// IdP, its admin API and its console) is mounted under the tenant's path,
// and RFC 8414 section 3.1's path-insertion form of its metadata,
// /.well-known/oauth-authorization-server<path>, is served at the root,
// as is /.well-known/openid-configuration<path>, the form the MCP
// authorization spec has clients try next.
// The root itself serves only / (the tenants and their issuers), /admin/
// (their consoles), /healthz and /metrics (every tenant's series, each
// labelled tenant="<id>", and the process's once); everything else there
// is 404. hosts are further host names the IdP answers to (Options.Hosts).
func Tenants(tenants []Tenant, hosts ...string) http.Handler {
	// Each console links to the others: an admin of several tenants
	// switches between them, and signs in at each (sign-in is per tenant).
	consoles := make([]web.Tenant, len(tenants))
	for i, t := range tenants {
		consoles[i] = web.Tenant{ID: t.IdP.Tenant(), Persona: t.IdP.Config().Knobs().Persona, Console: t.IdP.Issuer() + "/admin/"}
	}
	tails := web.NewTailSlots()
	products := make([]Options, len(tenants))
	for i, t := range tenants {
		products[i] = Options{IdP: t.IdP, tenants: consoles, Push: t.Push, tails: tails, Hosts: hosts, CAFile: t.CAFile}
		// The clock is the process's: each tenant's audit hears of a
		// change another tenant's admin makes.
		for j, o := range tenants {
			if j != i {
				products[i].clockShared = append(products[i].clockShared, o.IdP.Audit())
			}
		}
		if t.Store != nil {
			products[i].Store = t.Store
		}
	}
	page := func(title string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			idp.PageHeaders(w)
			if err := tenantsPage.Execute(w, tenantRows(title, tenants)); err != nil {
				slog.Error("root page", "err", err)
			}
		})
	}
	return root(products, hosts, page("tenants"), page("consoles"))
}

// root serves each product (New) under its issuer's path, with RFC 8414
// section 3.1's path-insertion form of its metadata at the root; the root
// itself serves home at /, consoles at /admin/, /healthz and /metrics
// (every product's series and the process's once); everything else there
// is 404.
func root(products []Options, hosts []string, home, consoles http.Handler) http.Handler {
	mux := http.NewServeMux()
	var servers []*idp.Server
	for _, o := range products {
		o.mounted = true
		srv, path := o.IdP, o.IdP.Path()
		servers = append(servers, srv)
		h := underPath(path, stripPath(path, New(o)))
		mux.Handle(path+"/", h)
		// The console typed without its slash: the product's mux sees
		// /admin and redirects to /admin/, which underPath puts under
		// the tenant's path (not the root's list of every console).
		mux.Handle(path+"/admin", h)
		mux.Handle("/.well-known/oauth-authorization-server"+path, rewritePath(path+"/.well-known/oauth-authorization-server", h))
		// The MCP authorization spec's second try for an issuer with a
		// path (after the one above): OpenID Connect discovery with the
		// same path insertion. Clients that skip RFC 8414 get only this.
		mux.Handle("/.well-known/openid-configuration"+path, rewritePath(path+"/.well-known/openid-configuration", h))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		for _, srv := range servers {
			if err := srv.Audit().Err(); err != nil { // one log, shared
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = fmt.Fprintln(w, "audit log failed, restart needed:", err)
				return
			}
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	// The tenants' series differ by their tenant label, so they gather
	// side by side; <issuer>/metrics serves one tenant's alone.
	gatherers := prometheus.Gatherers{idp.ProcessMetrics()}
	for _, srv := range servers {
		gatherers = append(gatherers, srv.Metrics())
	}
	mux.Handle("GET /metrics", idp.MetricsHandler(gatherers))
	// Other methods of the root's routes are 405, as at a single IdP,
	// not the 404 of a path the root does not serve.
	for _, path := range []string{"/healthz", "/metrics", "/{$}", "/admin/{$}"} {
		mux.HandleFunc(path, idp.MethodNotAllowed("GET, HEAD"))
	}
	mux.Handle("GET /{$}", home)
	mux.Handle("GET /admin/{$}", consoles)
	mux.Handle("/", http.NotFoundHandler())
	// The base URL is no issuer: a client given it (the CLI's default
	// --issuer is one) looks for discovery or the admin API here. Their
	// 404 says which issuers there are.
	noIssuer := noIssuerHere(servers)
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server", "/admin/api/"} {
		mux.Handle(path, noIssuer)
	}
	// The root's /admin/ (the list of consoles) is guarded here; each
	// tenant's product guards its own. Every issuer shares the base's host.
	issuer := ""
	if len(servers) > 0 {
		issuer = servers[0].Issuer()
	}
	warnNonASCIIIssuer(issuer)
	return noSniff(guardHosts(mux, issuer, hosts))
}

// noIssuerHere answers, at the root, a path of an issuer's (discovery,
// the admin API) with a JSON 404 naming the issuers the root serves.
func noIssuerHere(servers []*idp.Server) http.Handler {
	issuers := make([]string, len(servers))
	for i, srv := range servers {
		issuers[i] = srv.Issuer()
		if id := srv.Tenant(); id != "" {
			issuers[i] += " (" + id + ")"
		}
	}
	desc := "this URL is no issuer: give the issuer of one of its tenants: " + strings.Join(issuers, ", ")
	if len(servers) == 1 && servers[0].Tenant() == "" {
		// One IdP served under its issuer's path, without tenants.
		desc = "this URL is no issuer: give the issuer, " + issuers[0]
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpjson.Write(w, http.StatusNotFound, map[string]string{"error": "not_found", "error_description": desc})
	})
}

// underPath puts the redirects of the product's mux under the tenant's
// path: the mux sees the path without it and answers <issuer>/admin/api
// (a folder typed without its slash) with a 307 to /admin/api/, the
// root's, a 404 with tenants. Those are the product's only 307s; its own
// redirects name the issuer's path already.
func underPath(path string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&pathLocation{ResponseWriter: w, path: path}, r)
	})
}

// pathLocation is the ResponseWriter of underPath.
type pathLocation struct {
	http.ResponseWriter
	path string
	// moved is the Location it rewrote: the mux's body (a GET's link to
	// the old Location, http.Redirect's) is replaced by a link to it.
	moved     string
	linkWrote bool
}

func (p *pathLocation) WriteHeader(code int) {
	if code == http.StatusTemporaryRedirect {
		if loc := p.Header().Get("Location"); strings.HasPrefix(loc, "/") && !strings.HasPrefix(loc, "//") && !strings.HasPrefix(loc, p.path+"/") {
			p.moved = p.path + loc
			p.Header().Set("Location", p.moved)
		}
	}
	p.ResponseWriter.WriteHeader(code)
}

// Write writes, after a rewritten Location, the link http.Redirect
// writes, to the new Location, once, in place of the mux's body (until
// 2026-12-06 the link named the root's path, outside the tenant).
func (p *pathLocation) Write(b []byte) (int, error) {
	if p.moved == "" {
		return p.ResponseWriter.Write(b)
	}
	if !p.linkWrote {
		p.linkWrote = true
		if _, err := io.WriteString(p.ResponseWriter, "<a href=\""+html.EscapeString(p.moved)+"\">"+http.StatusText(http.StatusTemporaryRedirect)+"</a>.\n\n"); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}

// Unwrap lets http.ResponseController reach the connection (flushes and
// deadlines: the console's live tail).
func (p *pathLocation) Unwrap() http.ResponseWriter { return p.ResponseWriter }

// tenantsView is the root page: every tenant, and a command to try with
// the first tenant that has a client that may use token exchange.
type tenantsView struct {
	Title   string
	Tenants []tenantRow
	Try     *tenantRow
}

type tenantRow struct {
	ID, Persona, Issuer, Discovery string
	Client                         *policy.Client
	CAFile                         string // Options.CAFile
}

func tenantRows(title string, tenants []Tenant) tenantsView {
	v := tenantsView{Title: title}
	for _, t := range tenants {
		cfg := t.IdP.Config()
		v.Tenants = append(v.Tenants, tenantRow{ID: t.IdP.Tenant(), Persona: cfg.Knobs().Persona, Issuer: t.IdP.Issuer(),
			Discovery: t.IdP.Issuer() + "/.well-known/openid-configuration", Client: tryClient(cfg), CAFile: t.CAFile})
	}
	for i := range v.Tenants {
		if v.Tenants[i].Client != nil {
			v.Try = &v.Tenants[i]
			break
		}
	}
	return v
}

// stripPath is http.StripPrefix(path, h), also for a request that names
// path with a character percent-encoded (/t/%61cme/keys, RFC 3986 section
// 6.2.2.2): the mux routed it by its decoded path, and StripPrefix, which
// strips the encoded form (RawPath) too, answered 404. Such a request's
// encoded form names path plainly, the rest of it as sent: a %2F in a
// segment (a client_id that is a URL) stays in its segment.
func stripPath(path string, h http.Handler) http.Handler {
	strip := http.StripPrefix(path, h)
	segments := strings.Count(path, "/")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if raw := r.URL.RawPath; raw != "" && !strings.HasPrefix(raw, path) {
			r = r.Clone(r.Context())
			r.URL.RawPath = ""
			// The encoded form's first segments, up to the slash
			// after path's last: an encoded slash is no slash here.
			end, n := len(raw), 0
			for i := range len(raw) {
				if raw[i] == '/' {
					if n++; n > segments {
						end = i
						break
					}
				}
			}
			if p, err := url.PathUnescape(raw[:end]); err == nil && p == path {
				r.URL.RawPath = path + raw[end:]
			}
		}
		strip.ServeHTTP(w, r)
	})
}

// rewritePath serves every request as one for path.
func rewritePath(path string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r2 := r.Clone(r.Context())
		r2.URL.Path, r2.URL.RawPath = path, ""
		h.ServeHTTP(w, r2)
	})
}

var tenantsPage = template.Must(template.New("tenants").Funcs(pageFuncs).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>xaa-idp · {{.Title}}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d2330}code,pre{font:14px/1.4 ui-monospace,monospace;background:#f2f4f7;border-radius:4px}pre{padding:.75rem;overflow-x:auto;white-space:pre-wrap}td,th{padding:.2rem .8rem .2rem 0;text-align:left;vertical-align:top}.wide{overflow-x:auto}</style>
</head><body>
<h1>xaa-idp: {{len .Tenants}} tenant{{if ne (len .Tenants) 1}}s{{end}}</h1>
<p>A mock identity provider for MCP Enterprise-Managed Authorization: an OpenID provider that
logs users in and exchanges their ID tokens for ID-JAGs (RFC 8693 token exchange), decided by a
YAML policy and recorded in an audit log.</p>
<p>Each tenant is a complete, isolated IdP with its own issuer, keys, users, clients and console.</p>
<div class="wide"><table><thead><tr><th scope="col">Tenant</th><th scope="col">Persona</th><th scope="col">Issuer</th><th scope="col">Discovery</th><th scope="col">Console</th></tr></thead><tbody>
{{range .Tenants}}<tr><td><a href="{{.Issuer}}/">{{.ID}}</a></td><td>{{.Persona}}</td><td><code>{{.Issuer}}</code></td><td><a href="{{.Discovery}}">{{.Discovery}}</a></td><td><a href="{{.Issuer}}/admin/">{{.Issuer}}/admin/</a></td></tr>
{{end}}</tbody></table></div>
<h2>Try it</h2>
{{- with .Try}}
<p>Log a user of tenant <code>{{.ID}}</code> in without a browser and print the ID token (each tenant's page, linked above, has its own command):</p>
<pre>xaa-idp login --issuer {{sh .Issuer}} --client-id {{sh .Client.ClientID}}{{if .Client.ClientSecret}} --client-secret SECRET{{end}}{{with redirectFor .Client}} --redirect-uri {{sh .}}{{end}}{{with .CAFile}} --ca-file {{.}}{{end}} --username USER --password PASSWORD --print id_token</pre>
<p>With <code>xaa-idp demo</code> running, <code>xaa-idp connect</code> with the same flags (without
<code>--print</code>) connects the user to every MCP server they are assigned to.</p>
{{- else}}
<p>No client of any tenant may use token exchange yet: add one with <code>token_exchange: true</code>.</p>
{{- end}}
</body></html>
`))
