package web_test

import (
	"context"
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
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/idptest"
	"github.com/xaa-idp/xaa-idp/policy"
)

// product is the whole product (IdP, admin API, console) on a loopback port.
type product struct {
	URL   string
	IdP   *idp.Server
	Store *policy.Store
}

// start serves the product with the test configuration in memory, as
// `xaa-idp serve` does without --config.
func start(t *testing.T) *product {
	t.Helper()
	data, err := os.ReadFile("testdata/console.yaml")
	if err != nil {
		t.Fatal(err)
	}
	store, err := policy.NewStore(data, "testdata/console.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, store)
}

// startDemo serves the product as idptest does with opts (the demo
// company unless they say otherwise), with the MCP servers of its
// configuration running, as zero-touch onboarding connects to them.
func startDemo(t *testing.T, opts ...idptest.Option) (*idptest.Server, *product) {
	t.Helper()
	srv := idptest.New(t, opts...)
	srv.StartDemoServers()
	return srv, &product{URL: srv.Issuer(), IdP: srv.IdP()}
}

// startWithFile serves the product on a copy of the test configuration in a
// temporary file, which the console's edits are written back to.
func startWithFile(t *testing.T) (*product, string) {
	t.Helper()
	data, err := os.ReadFile("testdata/console.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "idp.yaml")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := policy.OpenStore(file)
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, store), file
}

func serve(t testing.TB, store *policy.Store) *product {
	t.Helper()
	return serveThrough(t, store, nil)
}

// serveThrough is serve with the product's handler wrapped by wrap, unless
// it is nil.
func serveThrough(t testing.TB, store *policy.Store, wrap func(http.Handler) http.Handler) *product {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	issuer := "http://" + ts.Listener.Addr().String()
	srv, err := idp.New(idp.Options{Config: store.Config(), Issuer: issuer})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = app.New(app.Options{IdP: srv, Store: store})
	if wrap != nil {
		ts.Config.Handler = wrap(ts.Config.Handler)
	}
	ts.Start()
	t.Cleanup(ts.Close)
	return &product{URL: issuer, IdP: srv, Store: store}
}

// browser is an HTTP client with cookies, like a browser.
type browser struct {
	t    testing.TB
	base string
	hc   *http.Client
}

func (p *product) browser(t testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: p.URL, hc: &http.Client{Jar: jar}}
}

// noRedirects returns a copy that reports redirects instead of following them.
func (b *browser) noRedirects() *browser {
	hc := *b.hc
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{t: b.t, base: b.base, hc: &hc}
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var authRequestID = regexp.MustCompile(`name="authRequestID" value="([^"]+)"`)

// signIn opens the console, is sent to the IdP's login page, and signs in
// there; it returns the last response (the console page, or a refusal).
func (b *browser) signIn(user, password string) (*http.Response, string) {
	b.t.Helper()
	resp, body := b.get("/admin/")
	if !strings.Contains(resp.Request.URL.Path, "/login") {
		b.t.Fatalf("opening the console led to %s (%d), not the IdP's login page", resp.Request.URL, resp.StatusCode)
	}
	m := authRequestID.FindStringSubmatch(body)
	if m == nil {
		b.t.Fatalf("the login page has no authRequestID:\n%s", body)
	}
	return b.post("/login", url.Values{"authRequestID": {m[1]}, "username": {user}, "password": {password}})
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token of a console page.
func csrf(t *testing.T, page string) string {
	t.Helper()
	m := csrfInput.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on the page:\n%s", page)
	}
	return m[1]
}

// exchange asks for an ID-JAG for user at the tracker, as an MCP client would.
func exchange(t *testing.T, p *product, user string) error {
	t.Helper()
	ctx := context.Background()
	tokens, err := idpclient.Login(ctx, idpclient.LoginOptions{
		Issuer: p.URL, ClientID: "mcp-client", ClientSecret: "mcp-secret", Username: user, Password: user,
	})
	if err != nil {
		t.Fatalf("login as %s: %v", user, err)
	}
	_, err = idpclient.Exchange(ctx, idpclient.ExchangeOptions{
		Issuer: p.URL, ClientID: "mcp-client", ClientSecret: "mcp-secret", SubjectToken: tokens.IDToken(),
		Audience: "https://as.tracker.example", Resource: "https://mcp.tracker.example/mcp",
	})
	return err
}
