package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/xaa-idp/xaa-idp/access"
	"github.com/xaa-idp/xaa-idp/idpclient"
)

// tenantsConsoleFile has two tenants, acme at /t/acme and beta at
// /issuers/beta, each with its own admin alice.
const tenantsConsoleFile = "testdata/tenants-console.yaml"

// tenantClients are the test file's clients, by tenant.
var tenantClients = map[string][2]string{"acme": {"desktop", "acme-secret"}, "beta": {"agent", "beta-secret"}}

// loginAt logs user in at a tenant, as an MCP client does, and returns the tokens.
func loginAt(t *testing.T, p *product, tenant, user string) idpclient.Tokens {
	t.Helper()
	c := tenantClients[tenant]
	tokens, err := idpclient.Login(context.Background(), idpclient.LoginOptions{
		Issuer: p.URL, ClientID: c[0], ClientSecret: c[1], Username: user, Password: user,
	})
	if err != nil {
		t.Fatalf("login as %s at %s: %v", user, tenant, err)
	}
	return tokens
}

// exchangeAt asks tenant's IdP for an ID-JAG for user at its notes server.
func exchangeAt(t *testing.T, p *product, tenant, user string) error {
	t.Helper()
	c := tenantClients[tenant]
	_, err := idpclient.Exchange(context.Background(), idpclient.ExchangeOptions{
		Issuer: p.URL, ClientID: c[0], ClientSecret: c[1], SubjectToken: loginAt(t, p, tenant, user).IDToken(),
		Audience: "http://127.0.0.1:9101", Resource: "http://127.0.0.1:9201/mcp",
	})
	return err
}

// requestAccessAt has user ask tenant's IdP for its notes server, and
// returns the request's id.
func requestAccessAt(t *testing.T, p *product, tenant, user, reason string) string {
	t.Helper()
	before := p.IdP.AccessRequests().List("pending")
	req, _ := http.NewRequest(http.MethodPost, p.URL+"/me/access-requests",
		strings.NewReader(`{"server": "notes", "scopes": ["notes.read"], "reason": "`+reason+`"}`))
	req.Header.Set("Authorization", "Bearer "+loginAt(t, p, tenant, user)["access_token"].(string))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("%s's request at %s: %d %s", user, tenant, resp.StatusCode, body)
	}
	for _, r := range p.IdP.AccessRequests().List("pending") {
		if !slices.ContainsFunc(before, func(b access.Request) bool { return b.ID == r.ID }) {
			return r.ID
		}
	}
	t.Fatalf("no new pending request at %s", tenant)
	return ""
}

// submit clicks a form's submit button and waits for the page it leads
// to, loaded, with its flash: not for the flash of the page it was sent
// from (clickTo).
func submit(sel string) chromedp.Action[chromedp.Void] {
	return clickTo(sel, `.flash.ok`)
}

// open navigates to u and waits for the page, loaded, with wait in it.
func open(u, wait string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(u),
		until(`location.href === `+strconv.Quote(u)+` && document.readyState === "complete" && document.querySelector(`+strconv.Quote(wait)+`) !== null`),
		chromedp.WaitVisible(chromedp.CSS(wait)),
	)
}

// location is the browser's address.
func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// pageURLs is every URL the page in the browser links to, posts to, loads
// or streams from, resolved against the page.
// A form's is its method and URL, "POST http://...".
const pageURLs = `Array.from(document.querySelectorAll("[href],[action],[src],[data-stream]")).map(e =>
	(e.getAttribute("method") || "get").toUpperCase() + " " +
	new URL(e.getAttribute("href") ?? e.getAttribute("action") ?? e.getAttribute("src") ?? e.getAttribute("data-stream"), document.baseURI).href)`

// checkLinks fails the test for a URL of the page in the browser that is
// not under the tenant's issuer (other tenants' consoles aside), or that
// answers 404.
func checkLinks(t *testing.T, ctx context.Context, p *product, others []string, page string) {
	t.Helper()
	urls, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](pageURLs))
	if err != nil {
		t.Fatal(err)
	}
	for _, mu := range urls {
		method, u, _ := strings.Cut(mu, " ")
		u, _, _ = strings.Cut(u, "#")
		if slices.Contains(others, u) {
			continue
		}
		if !strings.HasPrefix(u, p.URL+"/") {
			t.Errorf("%s links to %s, outside the tenant's issuer %s", page, u, p.URL)
			continue
		}
		if strings.HasSuffix(u, "/stream") || strings.Contains(u, "/stream?") {
			continue // an event stream does not end
		}
		// Without the session: a page sends to sign-in, a form is refused, neither is 404.
		req, _ := http.NewRequest(method, u, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			t.Errorf("%s links to %s %s, which is 404", page, method, u)
		}
	}
}

// consoleCookie is the browser's console cookie for a console URL.
func consoleCookie(t *testing.T, ctx context.Context, console string) *http.Cookie {
	t.Helper()
	cookies, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) ([]*network.Cookie, error) {
		res, err := cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{console}})
		return res.Cookies, err
	})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(cookies, func(c *network.Cookie) bool { return c.Name == "xaa_idp_console" })
	if i < 0 {
		return nil
	}
	return &http.Cookie{Name: cookies[i].Name, Value: cookies[i].Value}
}

// TestBrowser_TenantConsoles drives two tenants' consoles in one browser as
// their admins would: sign in at the tenant's own login, every page,
// assignments, the audit log, access requests, explain, the tenant's
// ID-JAG knobs, sign out. Every link of every page stays under the
// tenant's issuer and answers.
func TestBrowser_TenantConsoles(t *testing.T) {
	tenants, _ := startTenantsFrom(t, tenantsConsoleFile)
	consoles := []string{tenants["acme"].URL + "/admin/", tenants["beta"].URL + "/admin/"}
	for _, tc := range []struct{ id, persona, alg, path string }{
		{"acme", "generic", "ES256", "/t/acme"},
		{"beta", "okta", "RS256", "/issuers/beta"},
	} {
		t.Run(tc.id, func(t *testing.T) {
			ctx := chromium(t)
			p := tenants[tc.id]
			admin := tc.path + "/admin"
			// bob is refused before the change, which the overview and the audit log show.
			if err := exchangeAt(t, p, tc.id, "bob"); err == nil || !strings.Contains(err.Error(), "access_denied") {
				t.Fatalf("%s: bob's exchange before the change: %v, want access_denied", tc.id, err)
			}
			reqID := requestAccessAt(t, p, tc.id, "bob", "on call at "+tc.id)

			signInWithBrowser(t, ctx, p.URL, "alice")
			if loc := location(t, ctx); loc != p.URL+"/admin/" {
				t.Errorf("%s: after sign-in the browser is at %s", tc.id, loc)
			}
			if id := text(t, ctx, "#tenant-id"); id != tc.id {
				t.Errorf("%s: the console names the tenant %q", tc.id, id)
			}
			if s := text(t, ctx, "#tenant .persona"); s != tc.persona {
				t.Errorf("%s: the console names the persona %q", tc.id, s)
			}
			if s := text(t, ctx, "main"); !strings.Contains(s, "bob") || !strings.Contains(s, "on call at "+tc.id) {
				t.Errorf("%s: the overview lacks bob's refusal or request:\n%s", tc.id, s)
			}
			checkLinks(t, ctx, p, consoles, tc.id+" overview")

			for _, pg := range []string{"/servers", "/servers/notes", "/users", "/audit", "/explain", "/onboarding"} {
				run(t, ctx, "opening "+pg, open(p.URL+"/admin"+pg, "header nav"))
				checkLinks(t, ctx, p, consoles, tc.id+" "+pg)
			}

			// The notes page shows the tenant's knobs.
			run(t, ctx, "opening notes", open(p.URL+"/admin/servers/notes", "#id-jag-knobs"))
			if s := text(t, ctx, "#id-jag-knobs"); !strings.Contains(s, tc.persona) || !strings.Contains(s, tc.alg) {
				t.Errorf("%s: the ID-JAG knobs:\n%s", tc.id, s)
			}

			// Assign group eng (acme) or user bob (beta), and carol, then remove carol.
			who := map[string]string{"acme": `input[name="a1.groups"]`, "beta": `input[name="a1.users"]`}[tc.id]
			val := map[string]string{"acme": "eng", "beta": "bob"}[tc.id]
			run(t, ctx, "assigning",
				chromedp.SendKeys(chromedp.CSS(who), val),
				click(chromedp.CSS(`input[name="a1.scopes"][value="notes.read"]`)),
				submit(`#access-form button[type="submit"]`),
			)
			if loc := location(t, ctx); !strings.HasPrefix(loc, p.URL+"/admin/servers/notes") {
				t.Errorf("%s: after saving the browser is at %s", tc.id, loc)
			}
			if err := exchangeAt(t, p, tc.id, "bob"); err != nil {
				t.Errorf("%s: bob's exchange after the assignment: %v", tc.id, err)
			}
			run(t, ctx, "removing the new entry",
				click(chromedp.CSS(`input[name="a1.remove"]`)),
				submit(`#access-form button[type="submit"]`),
			)
			if n := len(p.IdP.Config().Server("notes").Access); n != 1 {
				t.Errorf("%s: after removing, notes has %d entries", tc.id, n)
			}

			// The audit log: filtered, paged, tailed; only this tenant's events.
			run(t, ctx, "filtering the audit log",
				open(p.URL+"/admin/audit", "form.filters"),
				chromedp.SetValue(chromedp.CSS(`select[name="type"]`), "admin_change"),
				clickTo(`form.filters button[type="submit"]`, "#events"),
			)
			if loc := location(t, ctx); !strings.HasPrefix(loc, p.URL+"/admin/audit?") {
				t.Errorf("%s: the filter led to %s", tc.id, loc)
			}
			if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#events tbody tr").length`)); err != nil || n != 2 {
				t.Errorf("%s: %d admin changes listed (%v), want 2", tc.id, n, err)
			}
			run(t, ctx, "paging",
				open(p.URL+"/admin/audit?limit=1", "#events"),
				clickTo(`nav.pager a`, "#events"),
			)
			if loc := location(t, ctx); !strings.HasPrefix(loc, p.URL+"/admin/audit?") || !strings.Contains(loc, "before=") {
				t.Errorf("%s: Older led to %s", tc.id, loc)
			}
			checkLinks(t, ctx, p, consoles, tc.id+" audit page 2")
			run(t, ctx, "turning on the live tail",
				open(p.URL+"/admin/audit", "#live"),
				click(chromedp.ID("live")),
				chromedp.WaitVisible(chromedp.CSS(`#live[aria-pressed="true"]`)),
			)
			waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
			if _, err := chromedp.Run(waitCtx, chromedp.Poll[bool](`document.getElementById("live-status").textContent.startsWith("waiting")`)); err != nil {
				cancel()
				t.Fatalf("%s: the live tail did not connect: %v", tc.id, err)
			}
			cancel()
			for id, other := range tenants {
				if id != tc.id {
					loginAt(t, other, id, "alice") // another tenant's event: not shown here
				}
			}
			loginAt(t, p, tc.id, "carol")
			run(t, ctx, "waiting for the tailed event", chromedp.WaitVisible(chromedp.CSS("#events tbody tr.new")))
			if s := text(t, ctx, "#events tbody tr.new"); !strings.Contains(s, "carol") {
				t.Errorf("%s: the tailed event is\n%s", tc.id, s)
			}
			// The other tenant's events came first: none of them is shown.
			if rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#events tbody tr.new")).map(r => r.textContent)`)); err != nil || slices.ContainsFunc(rows, func(r string) bool { return !strings.Contains(r, "carol") }) {
				t.Errorf("%s: the live tail shows (%v):\n%s", tc.id, err, strings.Join(rows, "\n"))
			}

			// Approve bob's request, deny a second one.
			run(t, ctx, "approving bob's request",
				open(p.URL+"/admin/", "header nav"),
				submit("#request-"+reqID+` form.approve button[type="submit"]`),
			)
			if loc := location(t, ctx); !strings.HasPrefix(loc, p.URL+"/admin/") {
				t.Errorf("%s: after approving the browser is at %s", tc.id, loc)
			}
			if s := text(t, ctx, ".flash.ok"); !strings.Contains(s, "approved") {
				t.Errorf("%s: after approving: %q", tc.id, s)
			}
			second := requestAccessAt(t, p, tc.id, "carol", "curious")
			run(t, ctx, "denying carol's request",
				open(p.URL+"/admin/servers/notes", "#access-form"),
				chromedp.SendKeys(chromedp.CSS("#request-"+second+` input[name="reason"]`), "not yet"),
				submit("#request-"+second+` form.deny button[type="submit"]`),
			)
			if loc := location(t, ctx); !strings.HasPrefix(loc, p.URL+"/admin/servers/notes") {
				t.Errorf("%s: after denying the browser is at %s", tc.id, loc)
			}
			if n := len(p.IdP.AccessRequests().List("pending")); n != 0 {
				t.Errorf("%s: %d requests still pending", tc.id, n)
			}

			// Explain, from the server page's link.
			run(t, ctx, "explaining",
				open(p.URL+"/admin/servers/notes", "#access-form"),
				clickTo(`a[href="`+admin+`/explain?server=notes"]`, `form.explain`),
				chromedp.SetValue(chromedp.CSS(`select[name="user"]`), "carol"),
				chromedp.SetValue(chromedp.CSS(`select[name="client"]`), tenantClients[tc.id][0]),
				clickTo(`form.explain button[type="submit"]`, "#decision"),
			)
			if s := text(t, ctx, "#decision"); !strings.Contains(s, "Refused") {
				t.Errorf("%s: explain for carol:\n%s", tc.id, s)
			}
			checkLinks(t, ctx, p, consoles, tc.id+" explain result")
			screenshot(t, ctx, "tenant-"+tc.id+"-explain")
		})
	}
	ctx := chromium(t)
	signInWithBrowser(t, ctx, tenants["acme"].URL, "alice")
	signInWithBrowser(t, ctx, tenants["beta"].URL, "alice")

	// Sign out of each: the other stays signed in until its own sign-out.
	acme, beta := tenants["acme"], tenants["beta"]
	run(t, ctx, "signing out of acme",
		open(acme.URL+"/admin/", "header nav"),
		clickTo(`form[action="/t/acme/admin/signout"] button`, `a[href="/t/acme/admin/signin"]`),
	)
	checkLinks(t, ctx, acme, consoles, "acme signed out")
	run(t, ctx, "opening beta", open(beta.URL+"/admin/servers", "header nav"))
	run(t, ctx, "signing out of beta",
		clickTo(`form[action="/issuers/beta/admin/signout"] button`, `a[href="/issuers/beta/admin/signin"]`),
	)
	run(t, ctx, "opening acme again", chromedp.Navigate(acme.URL+"/admin/"), chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)))
}

// TestBrowser_TenantConsolesAreIsolated: signed in to acme's console only,
// the browser does not get into beta's by cookie, by typed URL, by a form
// posted with acme's CSRF token, or by acme's cookie copied to beta; the
// root /admin/ lists both consoles and sets no cookie.
func TestBrowser_TenantConsolesAreIsolated(t *testing.T) {
	tenants, base := startTenantsFrom(t, tenantsConsoleFile)
	acme, beta := tenants["acme"], tenants["beta"]
	ctx := chromium(t)
	signInWithBrowser(t, ctx, acme.URL, "alice")
	acmeCookie := consoleCookie(t, ctx, acme.URL+"/admin/")
	if acmeCookie == nil {
		t.Fatal("no console cookie for acme")
	}
	if c := consoleCookie(t, ctx, beta.URL+"/admin/"); c != nil {
		t.Errorf("the browser sends acme's console cookie to beta's console")
	}
	csrfToken, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`form.who input[name="csrf"]`)))
	if err != nil {
		t.Fatal(err)
	}

	for _, pg := range []string{"/", "/servers", "/servers/notes", "/users", "/audit", "/audit?type=login", "/explain?user=alice&client=agent&server=notes", "/onboarding", "/config.yaml"} {
		run(t, ctx, "typing beta's "+pg, chromedp.Navigate(beta.URL+"/admin"+pg), chromedp.WaitReady(chromedp.CSS("body")))
		if loc := location(t, ctx); !strings.HasPrefix(loc, beta.URL+"/login") {
			t.Errorf("typing beta's %s while signed in to acme leads to %s, want beta's login page", pg, loc)
		}
	}

	// A page of acme posts a change to beta, with acme's CSRF token: refused, nothing changes.
	run(t, ctx, "opening acme", open(acme.URL+"/admin/servers", "header nav"))
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch("`+beta.URL+`/admin/servers/notes/access", {method: "POST", redirect: "manual",
		headers: {"Content-Type": "application/x-www-form-urlencoded"},
		body: "csrf=`+url.QueryEscape(csrfToken)+`&n=1&a0.users=bob&a0.scopes=notes.read"}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusUnauthorized {
		t.Errorf("acme's page posting to beta's console: %d, want 401", status)
	}
	if acc := beta.IdP.Config().Server("notes").Access; len(acc) != 1 || slices.Contains(acc[0].Users, "bob") {
		t.Errorf("beta's notes access changed: %+v", acc)
	}

	// acme's console, asked to approve beta's request by its id: there is no such request in acme.
	betaReq := requestAccessAt(t, beta, "beta", "bob", "from acme?")
	status, err = chromedp.Run(ctx, chromedp.Evaluate[int](`fetch("`+acme.URL+`/admin/access-requests/`+betaReq+`/approve", {method: "POST", redirect: "manual",
		headers: {"Content-Type": "application/x-www-form-urlencoded"},
		body: "csrf=`+url.QueryEscape(csrfToken)+`&scopes=notes.read&expires_in=8h&back=/admin/"}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusNotFound {
		t.Errorf("acme's console approving beta's request: %d, want 404", status)
	}
	if r, ok := beta.IdP.AccessRequests().Get(betaReq); !ok || r.Status != access.Pending {
		t.Errorf("beta's request after acme's approval: %+v", r)
	}

	// acme's cookie, copied into a request to beta: not signed in.
	if resp := getWithCookie(t, beta.URL+"/admin/", &http.Cookie{Name: acmeCookie.Name, Value: acmeCookie.Value}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("acme's cookie at beta's console: %d, want 303 to sign in", resp.StatusCode)
	}
	if resp := getWithCookie(t, beta.URL+"/admin/api/config", &http.Cookie{Name: acmeCookie.Name, Value: acmeCookie.Value}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("acme's cookie at beta's admin API: %d, want 401", resp.StatusCode)
	}

	// The root lists both consoles and holds no session.
	run(t, ctx, "opening the root console list", chromedp.Navigate(base+"/admin/"), chromedp.WaitReady(chromedp.CSS("body")))
	urls, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("a[href]")).map(a => a.href)`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{acme.URL + "/admin/", beta.URL + "/admin/"} {
		if !slices.Contains(urls, c) {
			t.Errorf("the root /admin/ does not link to %s: %v", c, urls)
		}
	}
	if c := consoleCookie(t, ctx, base+"/admin/"); c != nil {
		t.Errorf("the browser holds a console cookie for the root /admin/")
	}
	resp, err := http.Get(base + "/admin/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(resp.Cookies()) != 0 {
		t.Errorf("the root /admin/: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	for _, path := range []string{"/admin/api/config", "/admin/servers", "/admin/signin"} {
		if resp := getWithCookie(t, base+path, &http.Cookie{Name: acmeCookie.Name, Value: acmeCookie.Value}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("the root %s with acme's cookie: %d, want 404", path, resp.StatusCode)
		}
	}
}
