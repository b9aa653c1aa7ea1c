package idp_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

// send makes one request with the headers as given (each value its own
// header line) and decodes the JSON answer; a body that is not JSON fails.
func send(t *testing.T, method, target, body string, header [][2]string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, h := range header {
		req.Header.Add(h[0], h[1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s answered %s, %s, with a body that is not JSON: %v", method, target, resp.Status, resp.Header.Get("Content-Type"), err)
	}
	return resp, out
}

// TestDuplicateAuthorizationHeader: a request with two Authorization
// headers says two things about who it is (two clients, two users, two
// tokens); the IdP used the first and ignored the other. Every endpoint
// that reads the header refuses it with 400 invalid_request (RFC 6749
// section 2.3: one authentication method per request; RFC 6750 section
// 3.1 for /userinfo), whichever of the two is valid.
func TestDuplicateAuthorizationHeader(t *testing.T) {
	cfg, err := policy.Parse([]byte(appsConfig), "apps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	tok := p.login(t, "mcp-client", "s1", "bob", "bob-pw", "openid", "offline_access")
	at, _ := tok["access_token"].(string)
	rt, _ := tok["refresh_token"].(string)
	good := "Basic " + basicCreds("mcp-client", "s1")
	bad := "Basic " + basicCreds("nobody", "x")
	for _, c := range []struct{ method, path, body, first, second string }{
		{http.MethodPost, "/oauth/token", "grant_type=refresh_token&refresh_token=" + url.QueryEscape(rt), good, bad},
		{http.MethodPost, "/oauth/token", "grant_type=refresh_token&refresh_token=" + url.QueryEscape(rt), bad, good},
		{http.MethodPost, "/oauth/introspect", "token=" + url.QueryEscape(at), good, bad},
		{http.MethodPost, "/revoke", "token=" + url.QueryEscape(rt), good, bad},
		{http.MethodGet, "/userinfo", "", "Bearer " + at, "Bearer x"},
		{http.MethodGet, "/me/mcp-servers", "", "Bearer " + at, "Bearer x"},
	} {
		resp, body := send(t, c.method, p.URL+c.path, c.body, [][2]string{{"Authorization", c.first}, {"Authorization", c.second}})
		if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_request" {
			t.Errorf("%s %s with two Authorization headers: %d %v, want 400 invalid_request", c.method, c.path, resp.StatusCode, body)
		}
	}
	// Nothing was used: the refresh token still works.
	resp, body := send(t, http.MethodPost, p.URL+"/oauth/token", "grant_type=refresh_token&refresh_token="+url.QueryEscape(rt), [][2]string{{"Authorization", good}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh after the refusals: %d %v", resp.StatusCode, body)
	}
}

// TestUserinfo_OneToken: RFC 6750 section 2 lets a client send the access
// token one way per request (the header, the form body or the query), and
// section 3.1 names the answer to more: 400 invalid_request. The IdP
// checked the first and op then served whichever it read: a valid token
// in the header with another in the body got the claims, and two in the
// form got op's text/plain 401 without WWW-Authenticate.
func TestUserinfo_OneToken(t *testing.T) {
	cfg, err := policy.Parse([]byte(appsConfig), "apps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	at, _ := p.login(t, "mcp-client", "s1", "bob", "bob-pw")["access_token"].(string)
	q := url.QueryEscape(at)
	for _, c := range []struct {
		name, method, query, body string
		header                    [][2]string
	}{
		{"header and body", http.MethodPost, "", "access_token=other", [][2]string{{"Authorization", "Bearer " + at}}},
		{"header and query", http.MethodGet, "?access_token=other", "", [][2]string{{"Authorization", "Bearer " + at}}},
		{"twice in the query", http.MethodGet, "?access_token=" + q + "&access_token=other", "", nil},
		{"query and body", http.MethodPost, "?access_token=other", "access_token=" + q, nil},
		{"body and query", http.MethodPost, "?access_token=" + q, "access_token=other", nil},
	} {
		resp, body := send(t, c.method, p.URL+"/userinfo"+c.query, c.body, c.header)
		if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_request" {
			t.Errorf("%s: %d %v, want 400 invalid_request", c.name, resp.StatusCode, body)
		}
		if wa := resp.Header.Get("WWW-Authenticate"); !strings.Contains(wa, `error="invalid_request"`) {
			t.Errorf("%s: WWW-Authenticate %q, want error=\"invalid_request\" (RFC 6750 section 3)", c.name, wa)
		}
	}
	// One way at a time still works.
	for _, c := range []struct {
		name, method, query, body string
		header                    [][2]string
	}{
		{"header", http.MethodGet, "", "", [][2]string{{"Authorization", "Bearer " + at}}},
		{"body", http.MethodPost, "", "access_token=" + q, nil},
		{"query", http.MethodGet, "?access_token=" + q, "", nil},
	} {
		resp, body := send(t, c.method, p.URL+"/userinfo"+c.query, c.body, c.header)
		if resp.StatusCode != http.StatusOK || body["sub"] != "u-bob" {
			t.Errorf("%s: %d %v, want 200 with the claims", c.name, resp.StatusCode, body)
		}
	}
}

func basicCreds(id, secret string) string {
	return base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id) + ":" + url.QueryEscape(secret)))
}
