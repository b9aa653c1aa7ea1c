package web_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"testing"
	"time"
)

// headRoutes is every GET route of the IdP's pages and the console, by its
// pattern, with a path to try it at and whether its GET only reads (HEAD
// is GET without the body, RFC 9110 section 9.3.2) or changes something:
// then HEAD is 405 with an Allow that leaves it out, and changes nothing
// (docs/http.md). Routes the source registers without a method are listed
// too where a GET is taken.
var headRoutes = map[string]struct {
	path  string
	reads bool
}{
	"/{$}":                {"/", true},
	"/apps":               {"/apps", true},
	"/logged-out":         {"/logged-out", true},
	"/healthz":            {"/healthz", true},
	"/ready":              {"/ready", true},
	"/metrics":            {"/metrics", true},
	"/admin/static/":      {"/admin/static/console.css", true},
	"/admin/signin":       {"/admin/signin?prompt=login", false},     // starts a sign-in
	"/admin/callback":     {"/admin/callback?state=x&code=y", false}, // completes one
	"/admin/signed-out":   {"/admin/signed-out", true},
	"/admin/{$}":          {"/admin/", true},
	"/admin/servers":      {"/admin/servers", true},
	"/admin/servers/{id}": {"/admin/servers/tracker", true},
	"/admin/users":        {"/admin/users", true},
	"/admin/audit":        {"/admin/audit", true},
	"/admin/audit/export": {"/admin/audit/export", true},
	"/admin/audit/stream": {"/admin/audit/stream", true},
	"/admin/explain":      {"/admin/explain", true},
	"/admin/onboarding":   {"/admin/onboarding", true},
	"/admin/config.yaml":  {"/admin/config.yaml", true},
	// Registered for every method.
	"discovery":          {"/.well-known/openid-configuration", true},
	"as metadata":        {"/.well-known/oauth-authorization-server", true},
	"keys":               {"/keys", true},
	"authorize":          {"/authorize?client_id=mcp-client&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback&response_type=code&scope=openid", false},
	"login":              {"/login?authRequestID=x", false},
	"authorize callback": {"/authorize/callback?id=x", false},
}

var getPattern = regexp.MustCompile(`"GET (/[^"]*)"|"GET "\+path(\w+)`)

// TestHead_EveryGetRoute: every GET route of the IdP's pages and the
// console, read from the source that registers it, answers HEAD as GET
// without the body where its GET only reads, signed in or not, and 405
// where its GET starts or completes a sign-in. Until 2026-12-06 HEAD at
// /admin/signin started a sign-in (a new state in the console's cookie)
// and at /admin/callback completed one, as a GET does.
func TestHead_EveryGetRoute(t *testing.T) {
	for _, file := range []string{"console.go", "../idp/server.go", "../app/app.go", "../app/tenants.go"} {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range getPattern.FindAllStringSubmatch(string(src), -1) {
			pattern := m[1]
			if m[2] != "" {
				pattern = "/" + map[string]string{"Apps": "apps", "LoggedOut": "logged-out"}[m[2]]
			}
			if _, ok := headRoutes[pattern]; !ok {
				t.Errorf("%s registers GET %s, which headRoutes does not list", file, pattern)
			}
		}
	}
	p, signedIn := signedIn(t)
	for name, b := range map[string]*browser{"signed in": signedIn.noRedirects(), "signed out": p.browser(t).noRedirects()} {
		for pattern, route := range headRoutes {
			t.Run(name+" "+pattern, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second) // the stream does not end
				defer cancel()
				get, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+route.path, nil)
				head, _ := http.NewRequest(http.MethodHead, p.URL+route.path, nil)
				hr, hbody := b.do(head)
				if hbody != "" {
					t.Errorf("HEAD %s has a body: %q", route.path, hbody)
				}
				if !route.reads {
					if hr.StatusCode != http.StatusMethodNotAllowed || hr.Header.Get("Allow") == "" || regexp.MustCompile(`HEAD`).MatchString(hr.Header.Get("Allow")) ||
						len(hr.Cookies()) != 0 {
						t.Errorf("HEAD %s: %d, Allow %q, %d cookies set; want 405 with an Allow without HEAD, and no cookie set", route.path, hr.StatusCode, hr.Header.Get("Allow"), len(hr.Cookies()))
					}
					return
				}
				gr, _ := b.do(get)
				for _, h := range []string{"Content-Type", "Cache-Control", "Allow"} {
					if gr.Header.Get(h) != hr.Header.Get(h) {
						t.Errorf("%s: GET %q, HEAD %q", h, gr.Header.Get(h), hr.Header.Get(h))
					}
				}
				gl, _ := url.Parse(gr.Header.Get("Location"))
				hl, _ := url.Parse(hr.Header.Get("Location"))
				if gr.StatusCode != hr.StatusCode || gl.Path != hl.Path {
					t.Errorf("HEAD %s: %d to %q, GET: %d to %q", route.path, hr.StatusCode, hl.Path, gr.StatusCode, gl.Path)
				}
			})
		}
	}
}
