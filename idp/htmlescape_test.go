package idp_test

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

// The IdP's JSON errors quote what the client sent; "&", "<" and ">" in it
// reach curl and jq as they are, not as encoding/json's HTML escapes
// (\u0026, \u003c, \u003e), which no JSON reader needs.
func TestOAuthErrors_AreNotHTMLEscaped(t *testing.T) {
	p := startConformanceIdP(t)
	for _, c := range []struct {
		method, path, user, body, want string
	}{
		{http.MethodPost, "/oauth/token", "", "grant_type=a%26b%3Cc%3E", "'a&b<c>'"},
		{http.MethodPost, "/oauth/token", "a&b<c>", "grant_type=refresh_token&refresh_token=x", "'a&b<c>'"},
		{http.MethodPost, "/oauth/introspect", "a&b<c>", "token=x", "'a&b<c>'"},
		{http.MethodGet, "/authorize?" + url.Values{"client_id": {"a&b<c>"}, "response_type": {"code"}, "redirect_uri": {"http://127.0.0.1/callback"}}.Encode(), "", "", "'a&b<c>'"},
	} {
		req, err := http.NewRequest(c.method, p.URL+c.path, strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		if c.body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if c.user != "" {
			req.SetBasicAuth(c.user, "x")
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode < 400 || !bytes.Contains(body, []byte(c.want)) || bytes.Contains(body, []byte(`\u00`)) {
			t.Errorf("%s %s: %d %s; want %s as it is", c.method, c.path, resp.StatusCode, body, c.want)
		}
	}
}

// An access request's reason is the user's text, answered back as it is.
func TestAccessRequests_ReasonIsNotHTMLEscaped(t *testing.T) {
	cfg, err := policy.Parse([]byte(appsConfig), "apps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	at, _ := p.login(t, "mcp-client", "s1", "bob", "bob-pw")["access_token"].(string)
	for _, method := range []string{http.MethodPost, http.MethodGet} {
		var body io.Reader
		if method == http.MethodPost {
			body = strings.NewReader(`{"server": "crm", "scopes": ["crm.write"], "reason": "R&D <triage>"}`)
		}
		req, _ := http.NewRequest(method, p.URL+"/me/access-requests", body)
		req.Header.Set("Authorization", "Bearer "+at)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 300 || !bytes.Contains(answer, []byte(`"R&D <triage>"`)) {
			t.Errorf("%s /me/access-requests: %d %s; want the reason as it is", method, resp.StatusCode, answer)
		}
	}
}
