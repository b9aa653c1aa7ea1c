package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/xaa-idp/xaa-idp/access"
	"github.com/xaa-idp/xaa-idp/admin"
	"github.com/xaa-idp/xaa-idp/internal/httpjson"
	"github.com/xaa-idp/xaa-idp/internal/jsonstr"
)

// page is what every template sees: the layout's fields and the page's Data.
type page struct {
	// Base is the console's path prefix (IdP.Path(): "" or a tenant's
	// path), which starts every console URL: {{$.Base}}/admin/...
	Base   string
	Title  string
	Nav    string // the navigation item to highlight
	Viewer *viewer
	Status *admin.StatusView // the configuration banner; nil when unknown
	Tenant *tenantNav        // the tenant and its switcher; nil without tenants
	Flash  string
	Error  string
	Data   any
}

// pages are the parsed templates, one set per page file, each with the layout.
// They are parsed once per process (parsedPages) and shared by every
// console: what differs between consoles (Base) comes in the data.
type pages struct {
	byName map[string]*template.Template
}

var funcs = template.FuncMap{
	"join": func(s []string, sep string) string { return strings.Join(s, sep) },
	// names is a list of group or user names as an editor field takes it.
	"names": nameList,
	"name":  func(n string) string { return nameList([]string{n}) },
	"has":   func(s []string, v string) bool { return slices.Contains(s, v) },
	"time": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	// pretty is v as indented JSON, its bidi controls and other
	// invisible characters escaped (\u202e), as the audit file has them,
	// and &, < and > as they are (httpjson): the template escapes for
	// HTML, and encoding/json's \u0026 would show as such.
	"pretty": prettyJSON,
	// tabTitle is a page title for <title>, which holds no <bdi>: its
	// bidi controls and other invisible characters (a server named with
	// a U+202E) shown as U+FFFD, so that they cannot reorder the rest
	// of the browser tab's title.
	"tabTitle": func(s string) string {
		return strings.Map(func(r rune) rune {
			if jsonstr.Invisible(r) {
				return '\uFFFD'
			}
			return r
		}, s)
	},
	"add":       func(a, b int) int { return a + b },
	"durations": func() any { return approvalDurations },
	// timeLeft is how long an access entry's expires is away:
	// "expires in 7h 59m", "expired", "" when it has none.
	"timeLeft": func(expires string, now time.Time) string {
		t, err := time.Parse(time.RFC3339Nano, expires)
		if err != nil {
			return ""
		}
		return access.TimeLeft(t, now)
	},
	"fields": eventFields,
	// dict passes several values to a sub-template: dict "K1" v1 "K2" v2.
	"dict": func(kv ...any) (map[string]any, error) {
		if len(kv)%2 != 0 {
			return nil, fmt.Errorf("dict: odd number of arguments")
		}
		m := make(map[string]any, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			k, ok := kv[i].(string)
			if !ok {
				return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
			}
			m[k] = kv[i+1]
		}
		return m, nil
	},
}

// parsedPages returns the console templates, parsed on first use. With
// many tenants, parsing them per console was most of a start's cost.
var parsedPages = sync.OnceValue(mustParsePages)

// mustParsePages parses the console templates.
func mustParsePages() *pages {
	// Files named _*.html are partials that every page may use.
	base := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/_*.html"))
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, f := range files {
		name := strings.TrimPrefix(f, "templates/")
		if name == "layout.html" || strings.HasPrefix(name, "_") {
			continue
		}
		p.byName[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, f))
	}
	return p
}

// render executes a page into a buffer first, so that a template error
// becomes a clean 500 rather than half a page.
func (c *Console) render(w http.ResponseWriter, status int, name string, data page) {
	data.Base = c.base
	t, ok := c.pages.byName[name]
	if !ok {
		panic("web: no template " + name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", data); err != nil {
		slog.Error("console template", "page", name, "err", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// show renders a page for a signed-in admin, with the configuration banner.
func (c *Console) show(w http.ResponseWriter, r *http.Request, v *viewer, status int, name, title, nav string, data any, flash, errMsg string) {
	p := page{Title: title, Nav: nav, Viewer: v, Data: data, Flash: flash, Error: errMsg}
	if v != nil {
		p.Status, p.Tenant = c.status(r), c.tenantNav()
	}
	c.render(w, status, name, p)
}

// errorPage explains what went wrong and what to do, with a way back to
// the console's overview.
func (c *Console) errorPage(w http.ResponseWriter, r *http.Request, v *viewer, status int, title, msg string) {
	c.errorPageTo(w, r, v, status, title, msg, "Back to the console", "/admin/")
}

// errorPageTo is errorPage whose button leads to the next step instead: a
// console path (without the tenant's path, which it adds) and its label.
// The overview stays a link beside it.
func (c *Console) errorPageTo(w http.ResponseWriter, r *http.Request, v *viewer, status int, title, msg, label, path string) {
	data := map[string]any{"Message": msg, "Status": status, "Label": label, "Href": c.url(path), "Other": path != "/admin/"}
	c.show(w, r, v, status, "error.html", title, "", data, "", "")
}

// redirectWithFlash sends the browser to page (a console path without the
// tenant's path) after a change, and has that page say msg once: a reload
// of it, or its address opened again, does not repeat what the change did.
func (c *Console) redirectWithFlash(w http.ResponseWriter, r *http.Request, v *viewer, page, msg string) {
	c.sessions.setFlash(v.session, page, msg)
	http.Redirect(w, r, c.url(page), http.StatusSeeOther)
}

// prettyJSON is v as indented JSON, its invisible characters escaped.
func prettyJSON(v any) string {
	var b bytes.Buffer
	enc := httpjson.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return string(jsonstr.EscapeInvisible(bytes.TrimSuffix(b.Bytes(), []byte("\n"))))
}
