package idp_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
)

// TestSSOCookie_HttpOnlyLaxSecureOverHTTPS: the IdP's single sign-on
// cookie is a bearer secret for the user's session. It must not be
// readable by script (HttpOnly), must not ride along on another site's
// POST (SameSite=Lax), and over https must never be sent over http
// (Secure): the defaults of gorilla/sessions' cookie store, which op's
// examples use, are HttpOnly false and SameSite None.
func TestSSOCookie_HttpOnlyLaxSecureOverHTTPS(t *testing.T) {
	for _, tls := range []bool{false, true} {
		name := "http"
		if tls {
			name = "https"
		}
		t.Run(name, func(t *testing.T) {
			p, hc := startIdPScheme(t, tls)
			_, challenge := pkce()
			br := newBrowser(p)
			br.hc.Transport = hc.Transport
			var got *http.Cookie
			br.hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
				if c := cookieFrom(req.Response, "xaa_idp_sso"); c != nil {
					got = c
				}
				return http.ErrUseLastResponse
			}
			res := br.authorize(t, authParams("http://127.0.0.1/callback", challenge), "alice", "alice-pw")
			if res.location == nil || res.location.Query().Get("code") == "" {
				t.Fatalf("login: %+v", res)
			}
			if got == nil {
				t.Fatal("no xaa_idp_sso cookie was set by the login")
			}
			if !got.HttpOnly || got.SameSite != http.SameSiteLaxMode || got.Secure != tls || got.Path != "/" {
				t.Errorf("SSO cookie %+v: want HttpOnly, SameSite=Lax, Path=/, Secure=%v", got, tls)
			}
		})
	}
}

// startIdPScheme starts the conformance IdP on http or, with tls, on https
// with httptest's certificate, and returns a client that trusts it.
func startIdPScheme(t *testing.T, tls bool) (*testIdP, *http.Client) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	scheme := "http://"
	if tls {
		scheme = "https://"
	}
	issuer := scheme + ts.Listener.Addr().String()
	log, err := audit.Open(audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{}
	srv, err := idp.New(idp.Options{Config: loadConfig(t, "testdata/conformance.yaml"), Issuer: issuer, Audit: log, Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv
	if tls {
		ts.StartTLS()
	} else {
		ts.Start()
	}
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	return &testIdP{Server: srv, URL: issuer, Audit: log, clock: clock}, ts.Client()
}

// cookieFrom is the cookie named name that resp sets, or nil.
func cookieFrom(resp *http.Response, name string) *http.Cookie {
	if resp == nil {
		return nil
	}
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}
