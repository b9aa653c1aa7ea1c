package idp_test

import (
	"net/http"
	"net/url"
	"testing"
)

// TestMetrics_AppsCSRFRefusalIsNoLogin: a signed-in user's /apps form
// refused for its CSRF token is audited as a denied login (as the
// console's is), but it is no login attempt: xaa_idp_logins_total counts
// the login page's passwords, authorization requests refused before it
// and codes asked for without their SSO session, not the console's
// refusals nor this one. It counted one denied login for each stale
// form, which an alert on failed logins takes for a password guess.
func TestMetrics_AppsCSRFRefusalIsNoLogin(t *testing.T) {
	p, hc := startApps(t, appsConfig)
	_, page := fetch(t, hc, http.MethodGet, p.URL+"/apps", nil)
	resp, _ := fetch(t, hc, http.MethodPost, p.URL+"/login", url.Values{
		"authRequestID": {hidden(t, page, "authRequestID")}, "username": {"bob"}, "password": {"bob-pw"},
	})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("after the login: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	const denied = `xaa_idp_logins_total{outcome="denied"}`
	before := scrape(t, p.URL)[denied]
	if resp, page := fetch(t, hc, http.MethodPost, p.URL+"/apps", url.Values{"server": {"wiki"}, "csrf": {"stale"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("POST /apps with a stale token: %d\n%s", resp.StatusCode, page)
	}
	if after := scrape(t, p.URL)[denied]; after != before {
		t.Errorf("%s moved from %v to %v for an /apps form refused for its CSRF token; want it unchanged", denied, before, after)
	}
}
