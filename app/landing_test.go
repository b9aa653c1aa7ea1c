package app_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/app"
	"github.com/xaa-idp/xaa-idp/fixtures"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/policy"
)

// startDemo starts the product's IdP on the demo configuration, closed
// when the test ends, and returns its issuer.
func startDemo(t *testing.T) string {
	t.Helper()
	cfg, err := policy.Parse(fixtures.Demo, fixtures.DemoFile)
	if err != nil {
		t.Fatal(err)
	}
	ts, issuer, _ := serveIdP(t, cfg)
	t.Cleanup(ts.Close)
	return issuer
}

// serveIdP starts app.Handler of an IdP on cfg and returns its server,
// issuer and IdP; the caller closes them.
func serveIdP(t *testing.T, cfg *policy.Config) (*httptest.Server, string, *idp.Server) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	issuer := "http://" + ts.Listener.Addr().String()
	srv, err := idp.New(idp.Options{Config: cfg, Issuer: issuer})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = app.Handler(srv)
	ts.Start()
	return ts, issuer, srv
}

// TestLandingPage opens the issuer in a browser: an HTML page that says
// what this is and where to go next, with a command that works for the
// running configuration.
func TestLandingPage(t *testing.T) {
	issuer := startDemo(t)

	resp, err := http.Get(issuer + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	if resp.Header.Get("X-Frame-Options") != "DENY" || resp.Header.Get("X-Content-Type-Options") != "nosniff" ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("GET /: headers %v, want it never framed nor sniffed", resp.Header)
	}
	for _, want := range []string{
		"Enterprise-Managed Authorization",
		"<code>" + issuer + "</code>",
		`href="` + issuer + `/admin/"`,
		`href="` + issuer + `/.well-known/openid-configuration"`,
		"xaa-idp login --issuer " + issuer + " --client-id mcp-public --username USER",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the landing page lacks %q:\n%s", want, body)
		}
	}
	other, err := http.Get(issuer + "/no-such-page")
	if err != nil {
		t.Fatal(err)
	}
	other.Body.Close()
	if other.StatusCode != http.StatusNotFound {
		t.Errorf("GET /no-such-page: %s, want 404: only / is the landing page", other.Status)
	}
}

// The landing page, like every route of the IdP, answers another method
// 405 with Allow; it reached op, whose 404 said the page did not exist.
func TestLandingPage_OtherMethodIs405(t *testing.T) {
	issuer := startDemo(t)
	resp, err := http.Post(issuer+"/", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /: %d, Allow %q; want 405 and Allow \"GET, HEAD\"", resp.StatusCode, resp.Header.Get("Allow"))
	}
	if other, err := http.Post(issuer+"/no-such-page", "text/plain", nil); err != nil {
		t.Fatal(err)
	} else if other.Body.Close(); other.StatusCode != http.StatusNotFound {
		t.Errorf("POST /no-such-page: %d, want 404", other.StatusCode)
	}
}
