package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/app"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/policy"
)

// TestConsole_SignedOutOfTheIdPStaysSignedOutOfTheConsole: a sign-out at
// /apps ends the console's session for good, not only while the IdP
// remembers the ended SSO session for its ID tokens (an ID token's
// lifetime, an hour by default): the console's sign-in lasts 8 hours, and
// came back for the next person at the browser once the IdP forgot.
func TestConsole_SignedOutOfTheIdPStaysSignedOutOfTheConsole(t *testing.T) {
	data, err := os.ReadFile("testdata/console.yaml")
	if err != nil {
		t.Fatal(err)
	}
	store, err := policy.NewStore(data, "testdata/console.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	issuer := "http://" + ts.Listener.Addr().String()
	srv, err := idp.New(idp.Options{Config: store.Config(), Issuer: issuer, SweepInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ts.Config.Handler = app.New(app.Options{IdP: srv, Store: store})
	ts.Start()
	t.Cleanup(ts.Close)
	p := &product{URL: issuer, IdP: srv, Store: store}

	b := p.browser(t)
	if resp, _ := b.signIn("alice", "alice"); resp.Request.URL.Path != "/admin/" {
		t.Fatalf("sign-in led to %s", resp.Request.URL)
	}
	_, apps := b.get("/apps")
	m := appsSignOutCSRF.FindStringSubmatch(apps)
	if m == nil {
		t.Fatalf("/apps has no sign-out form:\n%s", apps)
	}
	req, _ := http.NewRequest(http.MethodPost, p.URL+"/end_session", strings.NewReader(url.Values{"csrf": {m[1]}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", p.URL)
	if resp, body := b.do(req); resp.Request.URL.Path != "/logged-out" {
		t.Fatalf("signing out at /apps led to %s: %d\n%s", resp.Request.URL, resp.StatusCode, body)
	}
	// The sweep, each 5 ms, ends the console's session.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		resp, err := http.Get(issuer + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), `xaa_idp_store_entries{store="console_sessions"} 0`+"\n") {
			break
		}
	}
	p.IdP.Clock().Advance(2 * time.Hour)
	if resp, _ := b.get("/admin/"); resp.Request.URL.Path != "/login" {
		t.Errorf("two hours after signing out of the IdP, /admin/ is %s (%d), want the login page", resp.Request.URL, resp.StatusCode)
	}
}
