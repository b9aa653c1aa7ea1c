package app_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/app"
	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/policy"
)

// startTenants serves fixtures/samples/tenants.yaml as `xaa-idp serve`
// does and returns the tenants' IdPs by id.
func startTenants(t *testing.T) (*httptest.Server, map[string]*idp.Server, *audit.Log) {
	t.Helper()
	store, err := policy.OpenStore("../fixtures/samples/tenants.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return startTenantsOf(t, store)
}

// startTenantsOf is startTenants on another store.
func startTenantsOf(t *testing.T, store *policy.Store) (*httptest.Server, map[string]*idp.Server, *audit.Log) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	log, err := audit.Open(audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	servers := map[string]*idp.Server{}
	var tenants []app.Tenant
	for _, c := range store.Config().Tenants {
		srv, err := idp.New(idp.Options{Config: c, Tenant: c.ID, SharedAudit: true, Issuer: base + c.Path, Audit: log})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		servers[c.ID] = srv
		tenants = append(tenants, app.Tenant{IdP: srv, Store: store.Tenant(c.ID)})
	}
	ts.Config.Handler = app.Tenants(tenants)
	ts.Start()
	t.Cleanup(ts.Close)
	return ts, servers, log
}

// openTenantsFile writes data to a tenants.yaml of the test's own and
// opens it as the product's store; it returns the store and the file.
func openTenantsFile(t *testing.T, data []byte) (*policy.Store, string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "tenants.yaml")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := policy.OpenStore(file)
	if err != nil {
		t.Fatal(err)
	}
	return store, file
}

func claimsOf(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestTenants_DiscoveryAtBothWellKnownForms(t *testing.T) {
	ts, servers, _ := startTenants(t)
	for id, srv := range servers {
		for _, u := range []string{
			srv.Issuer() + "/.well-known/openid-configuration",
			ts.URL + "/.well-known/oauth-authorization-server" + srv.Path(),
			// The MCP authorization spec's second try for an issuer with
			// a path: OpenID Connect discovery with path insertion.
			ts.URL + "/.well-known/openid-configuration" + srv.Path(),
		} {
			resp, err := http.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			var meta map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&meta)
			resp.Body.Close()
			if resp.StatusCode != 200 || meta["issuer"] != srv.Issuer() || !strings.HasPrefix(meta["token_endpoint"].(string), srv.Issuer()+"/") {
				t.Errorf("%s: %s: %d %v", id, u, resp.StatusCode, meta)
			}
		}
	}
	for _, p := range []string{"/admin/api/status", "/oauth/token", "/keys"} {
		resp, err := http.Get(ts.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("root %s: %d, want 404", p, resp.StatusCode)
		}
	}
}

// TestTenants_PersonaClaimsAndIsolation logs alice in at two tenants (the
// same username, two people), exchanges each ID token at its own tenant
// for the one MCP server they share, and presents each token type of one
// tenant at the other.
func TestTenants_PersonaClaimsAndIsolation(t *testing.T) {
	_, servers, log := startTenants(t)
	ctx := context.Background()
	type login struct {
		tenant, client, secret, user string
		want                         map[string]any // claims that must be present (nil value: absent)
	}
	logins := []login{
		{"acme", "desktop", "acme-desktop-secret", "alice", map[string]any{"tenant": "acme", "resource": "http://127.0.0.1:9201/mcp", "email": nil, "client_id": "acme-desktop"}},
		{"okta", "0oa-desktop", "okta-desktop-secret", "alice", map[string]any{"tenant": nil, "resource": nil, "email": "alice@okta-like.example", "email_verified": true, "client_id": "okta-desktop"}},
		{"anthropic-acme", "claude", "claude-secret", "bob", map[string]any{"tenant": "anthropic-acme", "email": "bob@acme.example"}},
	}
	tokens := map[string]idpclient.Tokens{}
	for _, l := range logins {
		iss := servers[l.tenant].Issuer()
		tok, err := idpclient.Login(ctx, idpclient.LoginOptions{Issuer: iss, ClientID: l.client, ClientSecret: l.secret, Username: l.user, Password: l.user})
		if err != nil {
			t.Fatalf("%s: login: %v", l.tenant, err)
		}
		tokens[l.tenant] = tok
		jag, err := idpclient.Exchange(ctx, idpclient.ExchangeOptions{Issuer: iss, ClientID: l.client, ClientSecret: l.secret,
			SubjectToken: tok.IDToken(), Audience: "http://127.0.0.1:9101", Resource: "http://127.0.0.1:9201/mcp"})
		if err != nil {
			t.Fatalf("%s: exchange: %v", l.tenant, err)
		}
		c := claimsOf(t, jag["access_token"].(string))
		if c["iss"] != iss || c["aud"] != "http://127.0.0.1:9101" {
			t.Errorf("%s: iss %v aud %v", l.tenant, c["iss"], c["aud"])
		}
		for k, want := range l.want {
			if got, ok := c[k]; (want == nil && ok) || (want != nil && got != want) {
				t.Errorf("%s: claim %s = %v, want %v", l.tenant, k, got, want)
			}
		}
	}

	okta := servers["okta"]
	cases := []struct {
		name    string
		opts    idpclient.ExchangeOptions
		refresh bool // a refresh grant with acme's refresh token instead
		want    string
	}{
		{name: "ID token of acme at okta", want: "invalid_request", opts: idpclient.ExchangeOptions{Issuer: okta.Issuer(), ClientID: "0oa-desktop", ClientSecret: "okta-desktop-secret", SubjectToken: tokens["acme"].IDToken(), Audience: "http://127.0.0.1:9101"}},
		{name: "client of acme at okta", want: "invalid_client", opts: idpclient.ExchangeOptions{Issuer: okta.Issuer(), ClientID: "desktop", ClientSecret: "acme-desktop-secret", SubjectToken: tokens["okta"].IDToken(), Audience: "http://127.0.0.1:9101"}},
		{name: "refresh token of acme at okta", want: "invalid_grant", refresh: true},
	}
	for _, tc := range cases {
		var err error
		if tc.refresh {
			err = refresh(okta.Issuer(), "0oa-desktop", "okta-desktop-secret", tokens["acme"].RefreshToken())
		} else {
			_, err = idpclient.Exchange(ctx, tc.opts)
		}
		var oe *idpclient.Error
		if !errors.As(err, &oe) || oe.Code != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.want)
		}
	}
	// Audited where they arrived, and only there.
	for _, ev := range log.Query(audit.Filter{}) {
		if ev.Tenant == "" {
			t.Errorf("event without tenant: %+v", ev)
		}
	}
	for _, ev := range okta.Audit().Query(audit.Filter{}) {
		if ev.Tenant != "okta" {
			t.Errorf("okta's audit shows an event of %s", ev.Tenant)
		}
	}
	if n := len(okta.Audit().Query(audit.Filter{Outcome: audit.Denied})) + len(okta.Audit().Query(audit.Filter{Outcome: audit.Error})); n < 3 {
		t.Errorf("okta audited %d refusals, want the 3 cross-tenant attempts", n)
	}
}

func refresh(issuer, client, secret, rt string) error {
	resp, err := http.PostForm(issuer+"/oauth/token", map[string][]string{
		"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {client}, "client_secret": {secret},
	})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	e := &idpclient.Error{Status: resp.StatusCode}
	_ = json.NewDecoder(resp.Body).Decode(e)
	if resp.StatusCode == 200 {
		return nil
	}
	return e
}

// TestTenants_LandingPages: the root's /admin/ links to every tenant's
// console, and each tenant's issuer has the landing page, with the
// tenant's own URLs, and RFC 8414's form of its metadata, which the root
// serves.
func TestTenants_LandingPages(t *testing.T) {
	ts, servers, _ := startTenants(t)
	consoles := getBody(t, http.DefaultClient, ts.URL+"/admin/")
	for id, srv := range servers {
		if !strings.Contains(consoles, `<a href="`+srv.Issuer()+`/admin/">`) {
			t.Errorf("the root's /admin/ does not link to %s's console:\n%s", id, consoles)
		}
		body := getBody(t, http.DefaultClient, srv.Issuer()+"/")
		metadata := ts.URL + "/.well-known/oauth-authorization-server" + srv.Path()
		for _, want := range []string{
			"<dt>Tenant</dt><dd><code>" + id + "</code>, persona <code>" + srv.Config().Knobs().Persona + "</code>",
			`href="` + srv.Issuer() + `/admin/"`,
			`href="` + metadata + `"`,
			"xaa-idp login --issuer " + srv.Issuer() + " ",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: the landing page lacks %q:\n%s", id, want, body)
			}
		}
		if !strings.Contains(getBody(t, http.DefaultClient, metadata), `"issuer":"`+srv.Issuer()+`"`) {
			t.Errorf("%s: the landing page's %s is not the tenant's metadata", id, metadata)
		}
	}
}

// TestTenants_RootPageSaysWhatAndWhereToGo: with tenants, / is the page a
// browser pointed at the base URL finds (docs/http.md, "Tenants"): what this
// is, every tenant's issuer, discovery document and console, and a command
// to try, with the landing page's headers.
func TestTenants_RootPageSaysWhatAndWhereToGo(t *testing.T) {
	ts, servers, _ := startTenants(t)
	resp, err := http.Get(ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
		resp.Header.Get("X-Frame-Options") != "DENY" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("GET /: %s, headers %v", resp.Status, resp.Header)
	}
	wants := []string{"Enterprise-Managed Authorization", "xaa-idp login --issuer " + servers["acme"].Issuer() + " --client-id desktop --client-secret SECRET"}
	for _, srv := range servers {
		wants = append(wants, `<code>`+srv.Issuer()+`</code>`, `href="`+srv.Issuer()+`/"`,
			`href="`+srv.Issuer()+`/.well-known/openid-configuration"`, `href="`+srv.Issuer()+`/admin/"`)
	}
	for _, want := range wants {
		if !strings.Contains(string(body), want) {
			t.Errorf("the root page lacks %q:\n%s", want, body)
		}
	}
}

// TestTenants_AppsPageUnderTheTenantPath signs alice in to acme's "My MCP
// servers" in a browser-like client: every step stays under acme's issuer,
// the SSO cookie is acme's only (okta's page still asks to sign in), and
// the sign-out link ends acme's session.
func TestTenants_AppsPageUnderTheTenantPath(t *testing.T) {
	_, servers, _ := startTenants(t)
	acme, okta := servers["acme"], servers["okta"]
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	stop := *hc
	stop.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	resp, body := get(t, hc, acme.Issuer()+"/apps")
	if resp.Request.URL.Path != "/t/acme/login" {
		t.Fatalf("/apps without a session led to %s, want acme's login page", resp.Request.URL)
	}
	action := regexp.MustCompile(`<form method="post" action="([^"]+)"`).FindStringSubmatch(body)
	id := regexp.MustCompile(`name="authRequestID" value="([^"]+)"`).FindStringSubmatch(body)
	if action == nil || id == nil {
		t.Fatalf("the login page has no form:\n%s", body)
	}
	target, _ := resp.Request.URL.Parse(action[1])
	if target.String() != acme.Issuer()+"/login" {
		t.Errorf("the login form posts to %s, want %s/login", target, acme.Issuer())
	}
	resp, err := stop.PostForm(target.String(), url.Values{"authRequestID": {id[1]}, "username": {"alice"}, "password": {"alice"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if c := cookieNamed(resp.Cookies(), "xaa_idp_sso"); c == nil || c.Path != "/t/acme/" {
		t.Errorf("the SSO cookie: %+v, want path /t/acme/", c)
	}
	next, _ := resp.Request.URL.Parse(resp.Header.Get("Location"))
	resp, body = get(t, hc, next.String())
	if resp.Request.URL.String() != acme.Issuer()+"/apps" || !strings.Contains(body, `id="user"><bdi>alice</bdi><`) {
		t.Fatalf("after the login: %s\n%s", resp.Request.URL, body)
	}
	signOut := url.Values{}
	if i := strings.Index(body, `<form method="post" action="`+acme.Issuer()+`/end_session"`); i < 0 {
		t.Errorf("the page's sign-out is not a form posted to acme's end_session:\n%s", body)
	} else if m := regexp.MustCompile(`name="csrf" value="([^"]*)"`).FindStringSubmatch(body[i:]); m != nil {
		signOut.Set("csrf", m[1])
	}

	if resp, _ := get(t, hc, okta.Issuer()+"/apps"); resp.Request.URL.Path != "/t/okta/login" {
		t.Errorf("okta's /apps with acme's session led to %s, want okta's login page", resp.Request.URL)
	}
	resp, err = http.PostForm(acme.Issuer()+"/apps", url.Values{"server": {"notes"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(b), `href="`+acme.Issuer()+`/apps"`) {
		t.Errorf("a request without a session: %d, want 401 with a sign-in link to acme's /apps:\n%s", resp.StatusCode, b)
	}

	resp, err = hc.PostForm(acme.Issuer()+"/end_session", signOut)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/t/acme/logged-out" {
		t.Errorf("signing out led to %s, want /t/acme/logged-out", resp.Request.URL)
	}
	if resp, _ := get(t, hc, acme.Issuer()+"/apps"); resp.Request.URL.Path != "/t/acme/login" {
		t.Errorf("after signing out, acme's /apps led to %s, want the login page", resp.Request.URL)
	}
}

func get(t *testing.T, hc *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := hc.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func getBody(t *testing.T, hc *http.Client, u string) string {
	t.Helper()
	_, body := get(t, hc, u)
	return body
}

func cookieNamed(cookies []*http.Cookie, name string) *http.Cookie {
	for _, c := range cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// TestTenants_MetricsCarryTheTenant: the root /metrics serves every
// tenant's series, each labelled with its tenant, and the process's once;
// a tenant's <issuer>/metrics has its own series only.
func TestTenants_MetricsCarryTheTenant(t *testing.T) {
	ts, servers, _ := startTenants(t)
	ctx := context.Background()
	okta := servers["okta"].Issuer()
	tok, err := idpclient.Login(ctx, idpclient.LoginOptions{Issuer: okta, ClientID: "0oa-desktop", ClientSecret: "okta-desktop-secret", Username: "alice", Password: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := idpclient.Exchange(ctx, idpclient.ExchangeOptions{Issuer: okta, ClientID: "0oa-desktop", ClientSecret: "okta-desktop-secret",
		SubjectToken: tok.IDToken(), Audience: "http://127.0.0.1:9101"}); err != nil {
		t.Fatal(err)
	}
	get := func(url string) string {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s\n%s", url, resp.Status, b)
		}
		return string(b)
	}
	exchanged := `xaa_idp_token_exchanges_total{error="",outcome="allowed",server="notes",tenant="okta"} 1`
	tests := []struct {
		url           string
		want, notWant []string
	}{
		{ts.URL + "/metrics",
			[]string{exchanged, `xaa_idp_logins_total{outcome="allowed",tenant="okta"} 1`, `xaa_idp_store_entries{store="sessions",tenant="acme"} 0`, "go_goroutines "},
			nil},
		{okta + "/metrics",
			[]string{exchanged, "go_goroutines "},
			[]string{`tenant="acme"`, `tenant="anthropic-acme"`}},
		{servers["acme"].Issuer() + "/metrics",
			[]string{`xaa_idp_store_entries{store="sessions",tenant="acme"} 0`},
			[]string{`tenant="okta"`, `tenant="anthropic-acme"`}},
	}
	for _, tt := range tests {
		body := get(tt.url)
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s lacks %s", tt.url, w)
			}
		}
		for _, w := range tt.notWant {
			if strings.Contains(body, w) {
				t.Errorf("%s has %s", tt.url, w)
			}
		}
		// Uncompressed, whatever the scraper accepts (idp.MetricsHandler).
		req, _ := http.NewRequest(http.MethodGet, tt.url, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		if resp, err := http.DefaultClient.Do(req); err != nil {
			t.Fatal(err)
		} else {
			resp.Body.Close()
			if enc := resp.Header.Get("Content-Encoding"); enc != "" {
				t.Errorf("%s: Content-Encoding %q to a scraper accepting gzip, want none", tt.url, enc)
			}
		}
		if n := strings.Count(body, "\ngo_goroutines "); n != 1 {
			t.Errorf("%s has go_goroutines %d times", tt.url, n)
		}
	}
}

// TestTenants_AuditLinkStaysUnderTheTenant pages a tenant's audit API by
// following its Link headers as RFC 8288 says (resolved against the
// request's URL): every page must come from the same tenant's API, which
// the root does not serve.
func TestTenants_AuditLinkStaysUnderTheTenant(t *testing.T) {
	ts, servers, _ := startTenants(t)
	srv := servers["anthropic-acme"]
	for range 3 { // audited as failed admin logins of this tenant
		req, _ := http.NewRequest(http.MethodGet, srv.Issuer()+"/admin/api/config", nil)
		req.SetBasicAuth("bob", "wrong")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	next, pages := srv.Issuer()+"/admin/api/audit?limit=1", 0
	for next != "" && pages < 10 {
		req, _ := http.NewRequest(http.MethodGet, next, nil)
		req.SetBasicAuth("bob", "bob")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("page %d at %s: %d", pages+1, next, resp.StatusCode)
		}
		pages++
		next = ""
		if link := resp.Header.Get("Link"); link != "" {
			ref := strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
			u, err := resp.Request.URL.Parse(ref)
			if err != nil {
				t.Fatalf("Link %q: %v", link, err)
			}
			if !strings.HasPrefix(u.String(), srv.Issuer()+"/admin/api/audit?") {
				t.Fatalf("Link %q leads to %s, not to the tenant's audit API under %s", link, u, srv.Issuer())
			}
			next = u.String()
		}
	}
	if pages < 3 {
		t.Errorf("%d pages of limit=1 for at least 3 events (%s)", pages, ts.URL)
	}
}

// TestTenants_ConsoleWithoutTheSlashStaysUnderTheTenant: a tenant's console
// typed without its trailing slash (<issuer>/admin) is the tenant's
// console, not the root's list of every tenant's: the product's mux, which
// sees the path without the tenant's, would redirect to /admin/. So are
// its other folders (<issuer>/admin/api, <issuer>/admin/static), which
// redirected out of the tenant to the root's /admin/api/, a 404.
func TestTenants_ConsoleWithoutTheSlashStaysUnderTheTenant(t *testing.T) {
	_, servers, _ := startTenants(t)
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, srv := range servers {
		for _, path := range []string{"/admin", "/admin/api", "/admin/static", "/admin/api?x=1"} {
			resp, err := hc.Get(srv.Issuer() + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			want := srv.Issuer() + strings.Replace(path+"/", "?x=1/", "/?x=1", 1)
			loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
			if resp.StatusCode/100 != 3 || err != nil || loc.String() != want {
				t.Errorf("%s%s: %d Location %q, want a redirect to %s", srv.Issuer(), path, resp.StatusCode, resp.Header.Get("Location"), want)
			}
		}
	}
}

// TestTenants_AdminAPIErrorsNameTheTenantsAPI: a 404 of a tenant's admin
// API that points to the list to look in names the tenant's list, under its
// issuer: the root's /admin/api/... answers 404 with tenants.
func TestTenants_AdminAPIErrorsNameTheTenantsAPI(t *testing.T) {
	_, servers, _ := startTenants(t)
	srv := servers["anthropic-acme"]
	for _, tc := range []struct{ method, path, list string }{
		{http.MethodPost, "/admin/api/access-requests/ar_nope/approve", "/issuers/acme/admin/api/access-requests"},
		{http.MethodPost, "/admin/api/access-requests/ar_nope/deny", "/issuers/acme/admin/api/access-requests"},
		{http.MethodDelete, "/admin/api/faults/nope", "/issuers/acme/admin/api/faults"},
	} {
		var body io.Reader
		if tc.method == http.MethodPost {
			body = strings.NewReader(`{}`)
		}
		req, _ := http.NewRequest(tc.method, srv.Issuer()+tc.path, body)
		req.SetBasicAuth("bob", "bob")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(got), "GET "+tc.list+" lists them") {
			t.Errorf("%s %s: %d %s, want 404 naming GET %s", tc.method, tc.path, resp.StatusCode, got, tc.list)
		}
	}
}

// The root's /healthz, /metrics and pages, like a single IdP's, answer
// another method 405 with Allow, not the 404 of a path the root does not
// serve; under a tenant's path the tenant's IdP answers the same.
func TestTenants_RootRoutesOtherMethodIs405(t *testing.T) {
	ts, servers, _ := startTenants(t)
	for _, url := range []string{ts.URL + "/healthz", ts.URL + "/metrics", ts.URL + "/", ts.URL + "/admin/",
		servers["acme"].Issuer() + "/metrics", servers["acme"].Issuer() + "/healthz", servers["acme"].Issuer() + "/"} {
		resp, err := http.Post(url, "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("POST %s: %d, Allow %q; want 405 and Allow \"GET, HEAD\"", url, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
}

// TestTenants_UsersLinkStaysUnderTheTenant pages a tenant's users one at a
// time by following the Link headers, resolved against the request's URL:
// every page from the tenant's API, every user of the tenant once.
func TestTenants_UsersLinkStaysUnderTheTenant(t *testing.T) {
	data, err := os.ReadFile("../fixtures/samples/tenants.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bob := "        email: bob@acme.example\n        admin: true\n"
	data = []byte(strings.Replace(string(data), bob, bob+"      - username: carol\n        password: carol\n      - username: dave\n        password: dave\n", 1))
	store, err := policy.NewStore(data, "tenants.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, servers, _ := startTenantsOf(t, store)
	srv := servers["anthropic-acme"]
	var seen []string
	next := srv.Issuer() + "/admin/api/users?limit=1"
	for next != "" && len(seen) < 100 {
		req, _ := http.NewRequest(http.MethodGet, next, nil)
		req.SetBasicAuth("bob", "bob")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var users []struct{ Username string }
		err = json.NewDecoder(resp.Body).Decode(&users)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || err != nil || len(users) != 1 {
			t.Fatalf("page %d at %s: %d, %d users (%v)", len(seen)+1, next, resp.StatusCode, len(users), err)
		}
		seen = append(seen, users[0].Username)
		next = ""
		if link := resp.Header.Get("Link"); link != "" {
			ref := strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
			u, err := resp.Request.URL.Parse(ref)
			if err != nil || !strings.HasPrefix(u.String(), srv.Issuer()+"/admin/api/users?") {
				t.Fatalf("Link %q leads to %v (%v), not to the tenant's users API under %s", link, u, err, srv.Issuer())
			}
			next = u.String()
		}
	}
	want := len(srv.Config().Users)
	if len(seen) != want || want < 2 {
		t.Errorf("paged %v, want the tenant's %d users", seen, want)
	}
}

// TestTenants_ConfigReadsBackAsTheTenantsEntry: a tenant's GET
// /admin/api/config is its entry of the file (docs/http.md, "Reading"),
// and an entry may not hold issuer: shown as "", it read back as
// "tenants[0].issuer: not allowed in a tenant". With the passwords put
// back, the answer is an entry check accepts.
func TestTenants_ConfigReadsBackAsTheTenantsEntry(t *testing.T) {
	_, servers, _ := startTenants(t)
	req, _ := http.NewRequest(http.MethodGet, servers["okta"].Issuer()+"/admin/api/config", nil)
	req.SetBasicAuth("alice", "alice")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var entry map[string]any
	if err := json.Unmarshal(body, &entry); resp.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("%d %v: %s", resp.StatusCode, err, body)
	}
	if v, ok := entry["issuer"]; ok {
		t.Errorf("a tenant's configuration shows issuer %q", v)
	}
	for _, u := range entry["users"].([]any) {
		u.(map[string]any)["password"] = "pw"
	}
	back, _ := json.Marshal(map[string]any{"tenants": []any{entry}})
	if _, err := policy.Parse(back, "back.yaml"); err != nil {
		t.Errorf("the tenant's configuration read back: %v", err)
	}
}

// TestTenants_ClientOfAnotherTenantAtAuthorizeIsInvalidClient: the
// product contract (section 6) says a client of tenant A at tenant B gets invalid_client. At
// B's token endpoint it did; a login, which starts at B's /authorize (as
// `xaa-idp login` and every client do), was answered invalid_request,
// while a metadata document URL that does not resolve was invalid_client
// there. Still a 400 JSON answer and no redirect: no client
// authentication was attempted, and the redirect_uri is unchecked.
func TestTenants_ClientOfAnotherTenantAtAuthorizeIsInvalidClient(t *testing.T) {
	_, servers, _ := startTenants(t)
	okta := servers["okta"]
	_, err := idpclient.Login(context.Background(), idpclient.LoginOptions{Issuer: okta.Issuer(), ClientID: "desktop",
		ClientSecret: "acme-desktop-secret", Username: "alice", Password: "alice"})
	var oe *idpclient.Error
	if !errors.As(err, &oe) || oe.Code != "invalid_client" {
		t.Fatalf("login at okta with acme's client: %v, want invalid_client", err)
	}
	resp, err := http.Get(okta.Issuer() + "/authorize?response_type=code&client_id=desktop&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback" +
		"&code_challenge=" + strings.Repeat("a", 43) + "&code_challenge_method=S256")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
		t.Errorf("GET /authorize with acme's client at okta: %s, Location %q; want 400 and no redirect", resp.Status, resp.Header.Get("Location"))
	}
}

// TestTenants_AuditSubscriberMissesPerTenant: xaa_idp_audit_subscriber_missed_total
// is what the log's subscriber (serve's log on stderr) left out, each
// tenant's series the events of that tenant. Every tenant's series was
// the shared log's total, console tails' misses included: a stalled
// console tab of one tenant counted in every tenant's, and a tenant's
// tail, fed from the shared stream, counted other tenants' events.
func TestTenants_AuditSubscriberMissesPerTenant(t *testing.T) {
	ts, servers, log := startTenants(t)
	_, _, cancel := log.SubscribeCounting(0) // serve's log, stalled: never read
	defer cancel()
	tail, cancelTail := servers["acme"].Audit().Subscribe(0) // acme's console tail, stalled
	defer cancelTail()
	for range 2 {
		if _, err := servers["acme"].Audit().Append(audit.Event{Type: audit.TypeLogin, Outcome: audit.Allowed}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := servers["okta"].Audit().Append(audit.Event{Type: audit.TypeLogin, Outcome: audit.Allowed}); err != nil {
		t.Fatal(err)
	}
	if len(tail) != 0 {
		t.Fatalf("the stalled tail holds %d events", len(tail))
	}
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, w := range []string{
		`xaa_idp_audit_subscriber_missed_total{tenant="acme"} 2`,
		`xaa_idp_audit_subscriber_missed_total{tenant="okta"} 1`,
		`xaa_idp_audit_subscriber_missed_total{tenant="c1"} 0`,
	} {
		if !strings.Contains(string(b), w) {
			t.Errorf("/metrics lacks %s", w)
		}
	}
	if t.Failed() {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "xaa_idp_audit_subscriber_missed_total") {
				t.Log(line)
			}
		}
	}
}
