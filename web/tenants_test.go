package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/xaa-idp/xaa-idp/access"
	"github.com/xaa-idp/xaa-idp/app"
	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/policy"
)

// startTenants serves a copy of fixtures/samples/tenants.yaml as `xaa-idp
// serve` does, one process for its three tenants, and returns each
// tenant's product by id: its URL is the tenant's issuer, under which the
// browser helpers address its pages.
func startTenants(t *testing.T) map[string]*product {
	t.Helper()
	products, _ := startTenantsFrom(t, "../fixtures/samples/tenants.yaml")
	return products
}

// startTenantsFrom serves a copy of a tenants file as startTenants does,
// and returns the tenants' products and the process's base URL (its root).
func startTenantsFrom(t *testing.T, sample string) (map[string]*product, string) {
	t.Helper()
	data, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "tenants.yaml")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := policy.OpenStore(file)
	if err != nil {
		t.Fatal(err)
	}
	log, err := audit.Open(audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	products := map[string]*product{}
	var tenants []app.Tenant
	for _, c := range store.Config().Tenants {
		srv, err := idp.New(idp.Options{Config: c, Tenant: c.ID, SharedAudit: true, Issuer: base + c.Path, Audit: log})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		products[c.ID] = &product{URL: srv.Issuer(), IdP: srv}
		tenants = append(tenants, app.Tenant{IdP: srv, Store: store.Tenant(c.ID)})
	}
	ts.Config.Handler = app.Tenants(tenants)
	ts.Start()
	t.Cleanup(ts.Close)
	return products, base
}

// urlAttr is every URL a page links to, posts to or loads.
var urlAttr = regexp.MustCompile(`(?:href|action|src|data-stream)="([^"]*)"`)

// TestTenants_ConsoleURLsCarryTheTenantPath signs alice in at two
// tenants' consoles in one browser and reads every page of each: every
// link, form, asset and stream is under the tenant's console, and the
// switcher links to the other tenants' consoles.
func TestTenants_ConsoleURLsCarryTheTenantPath(t *testing.T) {
	tenants := startTenants(t)
	b := tenants["acme"].browser(t)
	for _, id := range []string{"acme", "okta"} {
		p := tenants[id]
		b.base = p.URL
		path := p.IdP.Path()
		resp, body := b.signIn("alice", "alice")
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != path+"/admin/" {
			t.Fatalf("%s: sign-in ended at %s (%d)", id, resp.Request.URL, resp.StatusCode)
		}
		if !strings.Contains(body, `id="tenant-id">`+id+`<`) {
			t.Errorf("%s: the navigation bar does not name the tenant:\n%s", id, body)
		}
		// A pending request, so that the overview and the server's page
		// show the requests partial with its links and forms.
		if _, err := p.IdP.AccessRequests().Create(access.Request{User: "alice", Server: "notes", Scopes: []string{}}); err != nil {
			t.Fatal(err)
		}
		if _, body := b.get("/admin/"); !strings.Contains(body, `action="`+path+`/admin/access-requests/ar_`) {
			t.Errorf("%s: the overview has no approve form under %s/admin/:\n%s", id, path, body)
		}
		for _, page := range []string{"/admin/", "/admin/servers", "/admin/servers/notes", "/admin/users", "/admin/audit", "/admin/explain", "/admin/onboarding", "/admin/no-such-page"} {
			_, body := b.get(page)
			links := urlAttr.FindAllStringSubmatch(body, -1)
			if len(links) < 5 {
				t.Errorf("%s %s: %d links, want the navigation's at least:\n%s", id, page, len(links), body)
			}
			others := 0
			for _, m := range links {
				u := m[1]
				switch {
				case strings.HasPrefix(u, "#"):
				case strings.HasPrefix(u, "/"):
					if !strings.HasPrefix(u, path+"/admin/") {
						t.Errorf("%s %s links to %s, outside %s/admin/", id, page, u, path)
					}
				case strings.HasSuffix(u, "/admin/") && u != p.URL+"/admin/":
					others++ // the switcher's link to another tenant's console
				default:
					t.Errorf("%s %s links to %s", id, page, u)
				}
			}
			if others != len(tenants)-1 {
				t.Errorf("%s %s: the switcher links to %d other consoles, want %d", id, page, others, len(tenants)-1)
			}
		}
	}
	// Both sessions coexist: acme's console still knows alice.
	b.base = tenants["acme"].URL
	if resp, body := b.get("/admin/servers"); resp.Request.URL.Path != "/t/acme/admin/servers" || !strings.Contains(body, `id="tenant-id">acme<`) {
		t.Errorf("after signing in at okta, acme's console answered %s:\n%s", resp.Request.URL, body)
	}
}

// TestTenants_ConsoleRedirectsAndCookies follows no redirects: each
// Location and cookie of a tenant's console is under its path, and its
// sign-in goes through its own IdP.
func TestTenants_ConsoleRedirectsAndCookies(t *testing.T) {
	tenants := startTenants(t)
	p := tenants["okta"]
	iss, path := p.URL, p.IdP.Path()

	raw := p.browser(t).noRedirects()
	resp, _ := raw.get("/admin/servers")
	if got, want := resp.Header.Get("Location"), path+"/admin/signin?next=%2Fadmin%2Fservers"; resp.StatusCode != http.StatusSeeOther || got != want {
		t.Errorf("unsigned GET /admin/servers: %d Location %q, want %q", resp.StatusCode, got, want)
	}
	resp, _ = raw.get("/admin/signin?next=%2Fadmin%2Fusers")
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc == nil || loc.Scheme+"://"+loc.Host+loc.Path != iss+"/authorize" || loc.Query().Get("redirect_uri") != iss+"/admin/callback" {
		t.Errorf("sign-in starts at %s, want %s/authorize with redirect_uri %s/admin/callback", resp.Header.Get("Location"), iss, iss)
	}
	if c := setCookie(resp, "xaa_idp_console"); c == nil || c.Path != path+"/admin/" {
		t.Errorf("the console cookie: %+v, want path %s/admin/", c, path)
	}

	b := p.browser(t)
	_, page := b.signIn("alice", "alice")
	nb := b.noRedirects()
	_, _, etag := openServer(t, nb, "notes")
	cases := []struct {
		name, path string
		form       url.Values
		want       string // the Location, without the sign-out's id_token_hint
	}{
		{"save", "/admin/servers/notes/access", url.Values{"csrf": {csrf(t, page)}, "etag": {etag}, "n": {"1"}, "a0.users": {"alice"}, "a0.scopes": {"notes.read"}},
			path + "/admin/servers/notes"},
		{"sign-out", "/admin/signout", url.Values{"csrf": {csrf(t, page)}},
			iss + "/end_session?" + url.Values{"client_id": {"xaa-idp-console"}, "post_logout_redirect_uri": {iss + "/admin/signed-out"}}.Encode()},
	}
	for _, tc := range cases {
		resp, body := nb.post(tc.path, tc.form)
		got := resp.Header.Get("Location")
		if tc.name == "sign-out" {
			// The console's ID token, so that the IdP asks nothing more.
			if u, err := url.Parse(got); err == nil && u.Query().Get("id_token_hint") != "" {
				q := u.Query()
				q.Del("id_token_hint")
				u.RawQuery = q.Encode()
				got = u.String()
			} else {
				t.Errorf("sign-out: Location %q carries no id_token_hint", got)
			}
		}
		if resp.StatusCode != http.StatusSeeOther || got != tc.want {
			t.Errorf("%s: %d Location %q, want %q\n%s", tc.name, resp.StatusCode, got, tc.want, body)
		}
		if tc.name == "save" {
			// The page under the tenant's path says saved, once.
			if _, body := b.get("/admin/servers/notes"); !strings.Contains(body, "Assignments saved") {
				t.Errorf("the tenant's server page after the save does not say saved:\n%s", body)
			}
		}
	}
	resp, _ = b.get("/admin/signed-out")
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the signed-out page: %d", resp.StatusCode)
	}
}

// TestTenants_ConsoleSessionsAreSeparate: a console cookie of one tenant
// opens nothing at another's, and signing out of one leaves the other
// signed in.
func TestTenants_ConsoleSessionsAreSeparate(t *testing.T) {
	tenants := startTenants(t)
	acme, okta := tenants["acme"], tenants["okta"]
	b := acme.browser(t)
	_, acmePage := b.signIn("alice", "alice")
	b.base = okta.URL
	b.signIn("alice", "alice")

	u, _ := url.Parse(acme.URL + "/admin/")
	var stolen *http.Cookie
	for _, c := range b.hc.Jar.Cookies(u) {
		if c.Name == "xaa_idp_console" {
			stolen = c
		}
	}
	if stolen == nil {
		t.Fatal("no acme console cookie in the jar")
	}
	if resp := getWithCookie(t, okta.URL+"/admin/api/config", stolen); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("acme's console cookie at okta's admin API: %d, want 401", resp.StatusCode)
	}
	if resp := getWithCookie(t, okta.URL+"/admin/", stolen); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("acme's console cookie at okta's console: %d, want 303 to sign in", resp.StatusCode)
	}
	if resp := getWithCookie(t, acme.URL+"/admin/api/config", stolen); resp.StatusCode != http.StatusOK {
		t.Errorf("acme's console cookie at acme's admin API: %d, want 200", resp.StatusCode)
	}

	b.base = acme.URL
	if resp, _ := b.post("/admin/signout", url.Values{"csrf": {csrf(t, acmePage)}}); resp.Request.URL.Path != "/t/acme/admin/signed-out" {
		t.Fatalf("signing out of acme ended at %s", resp.Request.URL)
	}
	if resp, _ := b.get("/admin/"); resp.Request.URL.Path != "/t/acme/login" {
		t.Errorf("after signing out, acme's console led to %s, want acme's login page", resp.Request.URL)
	}
	b.base = okta.URL
	if resp, body := b.get("/admin/"); resp.Request.URL.Path != "/t/okta/admin/" || !strings.Contains(body, `id="tenant-id">okta<`) {
		t.Errorf("after signing out of acme, okta's console led to %s (%d), want it still signed in", resp.Request.URL, resp.StatusCode)
	}
}

// TestTenants_AuditExportAndTailShowOnlyTheTenant: the shared audit log
// holds every tenant's events; a tenant's console exports and tails its
// own.
func TestTenants_AuditExportAndTailShowOnlyTheTenant(t *testing.T) {
	tenants := startTenants(t)
	acme, okta := tenants["acme"], tenants["okta"]
	b := okta.browser(t)
	b.signIn("alice", "alice")
	failLogin := func(p *product, client, secret, user string) {
		t.Helper()
		_, err := idpclient.Login(context.Background(), idpclient.LoginOptions{Issuer: p.URL, ClientID: client, ClientSecret: secret, Username: user, Password: "wrong"})
		if err == nil {
			t.Fatalf("%s logged in with a wrong password", user)
		}
	}
	failLogin(acme, "desktop", "acme-desktop-secret", "acme-probe")

	resp, body := b.get("/admin/audit/export")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export: %d", resp.StatusCode)
	}
	n := 0
	for line := range strings.Lines(body) {
		var ev audit.Event
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("export line %q: %v", line, err)
		}
		if ev.Tenant != "okta" {
			t.Errorf("okta's export has an event of tenant %q: %s", ev.Tenant, line)
		}
		n++
	}
	if n == 0 {
		t.Error("okta's export is empty; alice's login should be in it")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, okta.URL+"/admin/audit/stream", nil)
	stream, err := b.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	lines := bufio.NewScanner(stream.Body)
	if !lines.Scan() || !strings.HasPrefix(lines.Text(), "retry:") {
		t.Fatalf("the live tail did not start: %d %q", stream.StatusCode, lines.Text())
	}
	// acme's event comes first: a tail that let it through would show it
	// before okta's.
	failLogin(acme, "desktop", "acme-desktop-secret", "acme-probe")
	failLogin(okta, "0oa-desktop", "okta-desktop-secret", "okta-probe")
	for lines.Scan() {
		line := lines.Text()
		if strings.Contains(line, "acme-probe") {
			t.Fatalf("okta's live tail shows acme's event: %s", line)
		}
		if strings.Contains(line, "okta-probe") {
			return
		}
	}
	t.Fatalf("okta's live tail ended without okta's event: %v", lines.Err())
}

// setCookie is the response's Set-Cookie of that name, or nil.
func setCookie(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// TestBrowser_SwitchTenants: alice administers acme and okta. She signs in
// to acme's console, switches to okta's through the navigation bar, signs
// in there too (sign-in is per tenant), sees okta's servers and how okta's
// ID-JAGs look, and signs out of okta: acme's console keeps her signed in.
func TestBrowser_SwitchTenants(t *testing.T) {
	tenants := startTenants(t)
	acme, okta := tenants["acme"], tenants["okta"]
	ctx := chromium(t)
	signInWithBrowser(t, ctx, acme.URL, "alice")
	if id := text(t, ctx, "#tenant-id"); id != "acme" {
		t.Fatalf("acme's console names the tenant %q", id)
	}
	screenshot(t, ctx, "tenant-acme")

	run(t, ctx, "switching to okta",
		click(chromedp.CSS(`#tenant summary`)),
		chromedp.WaitVisible(chromedp.CSS(`#tenant a[data-tenant="okta"]`)),
		clickTo(`#tenant a[data-tenant="okta"]`, `input[name="username"]`),
	)
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.HasPrefix(loc, okta.URL+"/login") {
		t.Fatalf("the switch led to %s (%v), want okta's own login page", loc, err)
	}
	run(t, ctx, "signing in at okta",
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "alice"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "alice"),
		clickTo(`button[type="submit"]`, `header nav`),
	)
	if id := text(t, ctx, "#tenant-id"); id != "okta" {
		t.Fatalf("after the switch the console names the tenant %q", id)
	}
	run(t, ctx, "opening okta's servers",
		clickTo(`header nav a[href="/t/okta/admin/servers"]`, `a[href="/t/okta/admin/servers/notes"]`),
	)
	if s := text(t, ctx, "main"); !strings.Contains(s, "0oa-desktop") {
		t.Errorf("okta's servers page lacks okta's client:\n%s", s)
	}
	run(t, ctx, "opening okta's notes",
		clickTo(`a[href="/t/okta/admin/servers/notes"]`, `#id-jag-knobs`),
	)
	if s := text(t, ctx, "#id-jag-knobs"); !strings.Contains(s, "okta") || !strings.Contains(s, "RS256") {
		t.Errorf("okta's notes page shows the ID-JAGs as:\n%s", s)
	}
	screenshot(t, ctx, "tenant-okta-server")

	run(t, ctx, "signing out of okta",
		clickTo(`form[action="/t/okta/admin/signout"] button`, `a[href="/t/okta/admin/signin"]`),
	)
	run(t, ctx, "going back to acme",
		chromedp.Navigate(acme.URL+"/admin/servers"),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/t/acme/admin/servers/notes"]`)),
	)
	if id := text(t, ctx, "#tenant-id"); id != "acme" {
		t.Errorf("acme's console after signing out of okta names %q", id)
	}
	run(t, ctx, "opening okta again",
		chromedp.Navigate(okta.URL+"/admin/"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
	)
}

// TestTenants_ConsoleDownloadsNameTheTenant: a tenant's console downloads
// its YAML (the tenant's entry of the file) as <file>-<tenant>.yaml, a name
// that keeps the .yaml extension, and names a missing MCP server by the
// tenant's own admin API.
func TestTenants_ConsoleDownloadsNameTheTenant(t *testing.T) {
	tenants := startTenants(t)
	p := tenants["anthropic-acme"]
	b := p.browser(t)
	b.signIn("bob", "bob")
	resp, body := b.get("/admin/config.yaml")
	if want := `attachment; filename="tenants-anthropic-acme.yaml"`; resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Disposition") != want {
		t.Errorf("the download: %d Content-Disposition %q, want %q", resp.StatusCode, resp.Header.Get("Content-Disposition"), want)
	}
	if !strings.HasPrefix(body, "id: anthropic-acme\n") {
		t.Errorf("the download is not the tenant's entry:\n%s", body)
	}
	resp, body = b.get("/admin/servers/nope")
	// It names no API path (none of the root's, as it once did), and its way on is under the tenant's.
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "&#34;nope&#34;") || strings.Contains(body, " /admin/api") ||
		!strings.Contains(body, `href="/issuers/acme/admin/servers" id="next-step"`) {
		t.Errorf("a missing server's page: %d\n%s", resp.StatusCode, body)
	}
}

// TestTenants_OnboardingTraceNamesTheLogin: the onboarding page's run at a
// tenant whose issuer has a path names the login's requests (<issuer>/authorize,
// <issuer>/login) "login", as at the root, not "MCP request (no token)".
func TestTenants_OnboardingTraceNamesTheLogin(t *testing.T) {
	tenants := startTenants(t)
	p := tenants["c1"]
	b := p.browser(t)
	_, page := b.signIn("dana", "dana")
	resp, body := b.post("/admin/onboarding", url.Values{"csrf": {csrf(t, page)}, "user": {"dana"}, "client": {"agent"}, "password": {"dana"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d\n%s", resp.StatusCode, body)
	}
	for _, path := range []string{"/t/c1/authorize?", "/t/c1/login?", "/t/c1/authorize/callback?"} {
		row := regexp.MustCompile(`<td class="nowrap">([^<]*)</td><td><code>GET <bdi>` + regexp.QuoteMeta(strings.TrimSuffix(p.URL, "/t/c1")+path)).FindStringSubmatch(body)
		if row == nil {
			t.Fatalf("no step GET %s in the run:\n%s", path, body)
		}
		if row[1] != "login" {
			t.Errorf("the step GET %s is named %q, want login", path, row[1])
		}
	}
}
