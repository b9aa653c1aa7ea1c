package app

import (
	"fmt"
	"html/template"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/xaa-idp/xaa-idp/idp"
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
}

// Tenants returns the HTTP surface of a file with tenants
// (docs/configuration.md, "Tenants"). Each tenant's product (New: the
// IdP, its admin API and its console) is mounted under the tenant's path,
// and RFC 8414 section 3.1's path-insertion form of its metadata,
// /.well-known/oauth-authorization-server<path>, is served at the root.
// The root itself serves only / (the tenants and their issuers), /admin/
// (their consoles), /healthz and /metrics (every tenant's series, each
// labelled tenant="<id>", and the process's once); everything else there
// is 404.
func Tenants(tenants []Tenant) http.Handler {
	mux := http.NewServeMux()
	type row struct{ ID, Persona, Issuer string }
	var rows []row
	// Each console links to the others: an admin of several tenants
	// switches between them, and signs in at each (sign-in is per tenant).
	consoles := make([]web.Tenant, len(tenants))
	for i, t := range tenants {
		consoles[i] = web.Tenant{ID: t.IdP.Tenant(), Persona: t.IdP.Config().Knobs().Persona, Console: t.IdP.Issuer() + "/admin/"}
	}
	for _, t := range tenants {
		srv, path := t.IdP, t.IdP.Path()
		o := Options{IdP: srv, tenants: consoles, Push: t.Push}
		if t.Store != nil {
			o.Store = t.Store
		}
		h := http.StripPrefix(path, New(o))
		mux.Handle(path+"/", h)
		mux.Handle("/.well-known/oauth-authorization-server"+path, rewritePath(path+"/.well-known/oauth-authorization-server", h))
		rows = append(rows, row{ID: srv.Tenant(), Persona: srv.Config().Knobs().Persona, Issuer: srv.Issuer()})
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		for _, t := range tenants {
			if err := t.IdP.Audit().Err(); err != nil { // one log, shared
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = fmt.Fprintln(w, "audit log failed, restart needed:", err)
				return
			}
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	// The tenants' series differ by their tenant label, so they gather
	// side by side; <issuer>/metrics serves one tenant's alone.
	gatherers := prometheus.Gatherers{processMetrics()}
	for _, t := range tenants {
		gatherers = append(gatherers, t.IdP.Metrics())
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(gatherers, promhttp.HandlerOpts{}))
	page := func(title string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			if err := tenantsPage.Execute(w, map[string]any{"Title": title, "Tenants": rows}); err != nil {
				slog.Error("root page", "err", err)
			}
		})
	}
	mux.Handle("GET /{$}", page("tenants"))
	mux.Handle("GET /admin/{$}", page("consoles"))
	mux.Handle("/", http.NotFoundHandler())
	return mux
}

// processMetrics is a registry of the Go runtime's and the process's
// metrics, which the tenants share.
func processMetrics() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// rewritePath serves every request as one for path.
func rewritePath(path string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r2 := r.Clone(r.Context())
		r2.URL.Path, r2.URL.RawPath = path, ""
		h.ServeHTTP(w, r2)
	})
}

var tenantsPage = template.Must(template.New("tenants").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>xaa-idp · {{.Title}}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem}code{font:14px ui-monospace,monospace}td{padding:.2rem .8rem .2rem 0}</style>
</head><body>
<h1>xaa-idp: {{len .Tenants}} tenants</h1>
<p>Each tenant is a complete, isolated IdP with its own issuer, keys, users, clients and console.</p>
<table><thead><tr><th>Tenant</th><th>Persona</th><th>Issuer</th><th>Console</th></tr></thead><tbody>
{{range .Tenants}}<tr><td>{{.ID}}</td><td>{{.Persona}}</td><td><code>{{.Issuer}}</code></td><td><a href="{{.Issuer}}/admin/">{{.Issuer}}/admin/</a></td></tr>
{{end}}</tbody></table>
</body></html>
`))
