package app

import (
	"bytes"
	"html/template"
	"log/slog"
	"net/http"
	"strings"

	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/internal/shellquote"
	"github.com/xaa-idp/xaa-idp/policy"
)

// pageFuncs are the functions of the landing pages' templates:
// redirectFor is the --redirect-uri a client's command needs ("" when the
// CLI's default is registered), as the demo's banner gives it; sh quotes
// a word of the command for a shell (a redirect URI's query holds "&").
var pageFuncs = template.FuncMap{
	"redirectFor": func(c *policy.Client) string { return idpclient.RedirectFor(c.RedirectURIs) },
	"sh":          shellquote.Quote,
}

// landingPage is what a browser pointed at the issuer finds: what this is,
// where to go next, and a command to try.
var landingPage = template.Must(template.New("landing").Funcs(pageFuncs).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>xaa-idp · {{.Issuer}}</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #1d2330; }
code, pre { font: 14px/1.4 ui-monospace, monospace; background: #f2f4f7; border-radius: 4px; }
pre { padding: .75rem; overflow-x: auto; white-space: pre-wrap; }
dt { font-weight: 600; margin-top: .5rem; }
</style>
</head>
<body>
<h1>xaa-idp</h1>
<p>A mock identity provider for MCP Enterprise-Managed Authorization: an OpenID provider that
logs users in and exchanges their ID tokens for ID-JAGs (RFC 8693 token exchange), decided by a
YAML policy and recorded in an audit log.</p>
<dl>
{{- with .Tenant}}
<dt>Tenant</dt><dd><code>{{.}}</code>, persona <code>{{$.Persona}}</code> (<a href="{{$.Root}}/">every tenant</a>)</dd>
{{- end}}
<dt>Issuer</dt><dd><code>{{.Issuer}}</code></dd>
<dt>Discovery</dt><dd><a href="{{.Issuer}}/.well-known/openid-configuration">{{.Issuer}}/.well-known/openid-configuration</a>
 (also at <a href="{{.Metadata}}">{{.Metadata}}</a>)</dd>
<dt>Console</dt><dd><a href="{{.Issuer}}/admin/">{{.Issuer}}/admin/</a>: MCP servers, users, the audit log and why a request was refused (sign in as an admin user)</dd>
</dl>
<h2>Try it</h2>
{{- if .Client}}
<p>Log a user in without a browser and print the ID token:</p>
<pre>xaa-idp login --issuer {{sh .Issuer}} --client-id {{sh .Client.ClientID}}{{if .Client.ClientSecret}} --client-secret SECRET{{end}}{{with redirectFor .Client}} --redirect-uri {{sh .}}{{end}}{{with .CAFile}} --ca-file {{.}}{{end}} --username USER --password PASSWORD --print id_token</pre>
<p>With <code>xaa-idp demo</code> running, <code>xaa-idp connect</code> with the same flags (without
<code>--print</code>) connects the user to every MCP server they are assigned to.</p>
{{- else}}
<p>No client of this configuration may use token exchange yet: add one with <code>token_exchange: true</code>.</p>
{{- end}}
</body>
</html>
`))

// landing serves the landing page at /. The command names a client that
// may use token exchange, public if there is one (it needs no secret);
// secrets and passwords stay placeholders.
func landing(srv *idp.Server, caFile string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data := struct {
			Issuer, Metadata string
			Tenant, Persona  string
			Root             string // the base URL, where a tenant's issuer lists every tenant
			Client           *policy.Client
			CAFile           string // Options.CAFile
		}{Issuer: srv.Issuer(), Metadata: srv.Issuer() + "/.well-known/oauth-authorization-server", Tenant: srv.Tenant(), CAFile: caFile}
		if srv.Path() != "" {
			// RFC 8414 section 3.1: a path issuer's metadata is at the
			// root, with the path after the well-known name.
			data.Root = strings.TrimSuffix(srv.Issuer(), srv.Path())
			data.Metadata = data.Root + "/.well-known/oauth-authorization-server" + srv.Path()
		}
		if data.Tenant != "" {
			data.Persona = srv.Config().Knobs().Persona
		}
		data.Client = tryClient(srv.Config())
		var buf bytes.Buffer
		if err := landingPage.Execute(&buf, data); err != nil {
			slog.Error("landing page", "err", err)
			http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
			return
		}
		idp.PageHeaders(w)
		_, _ = buf.WriteTo(w)
	})
}

// tryClient is the client a page's command names: one that may use token
// exchange, public if there is one (it needs no secret); nil when none
// may.
func tryClient(cfg *policy.Config) *policy.Client {
	var pick *policy.Client
	for i := range cfg.Clients {
		c := &cfg.Clients[i]
		if !c.TokenExchange || c.ClientSecret == "" && len(c.JWKS) > 0 {
			continue // the CLI has no private_key_jwt
		}
		if c.ClientSecret == "" {
			return c
		}
		if pick == nil {
			pick = c
		}
	}
	return pick
}
