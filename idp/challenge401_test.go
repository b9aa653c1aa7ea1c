package idp_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestClientEndpoints_Every401ChallengesBasic: every 401 of the token,
// introspection and revocation endpoints carries a WWW-Authenticate
// challenge (RFC 9110 section 15.5.2: a 401 MUST), Basic, the scheme they
// take, whether or not the client tried it: until 2026-12-06 a client
// that authenticated in the body, or not at all, got a bare 401.
func TestClientEndpoints_Every401ChallengesBasic(t *testing.T) {
	p := startConformanceIdP(t)
	tok := p.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid")["access_token"].(string)
	cases := []struct {
		name, path string
		form       url.Values
		basic      []string // client_id, secret: HTTP Basic
	}{
		{"token, wrong secret in the body", "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt_x"}, "client_id": {"mcp-client"}, "client_secret": {"bad"}}, nil},
		{"token, no client", "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt_x"}}, nil},
		{"token, unknown client in the body", "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt_x"}, "client_id": {"nobody"}}, nil},
		{"token, wrong secret as Basic", "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt_x"}}, []string{"mcp-client", "bad"}},
		{"introspection, no client", "/oauth/introspect", url.Values{"token": {tok}}, nil},
		{"introspection, public client", "/oauth/introspect", url.Values{"token": {tok}, "client_id": {"pub-client"}}, nil},
		{"introspection, wrong secret in the body", "/oauth/introspect", url.Values{"token": {tok}, "client_id": {"mcp-client"}, "client_secret": {"bad"}}, nil},
		{"revocation, no client", "/revoke", url.Values{"token": {tok}}, nil},
		{"revocation, another client's token, client in the body", "/revoke", url.Values{"token": {tok}, "client_id": {"other-client"}, "client_secret": {"s2"}}, nil},
		{"revocation, another client's token, Basic", "/revoke", url.Values{"token": {tok}}, []string{"other-client", "s2"}},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(http.MethodPost, p.URL+c.path, strings.NewReader(c.form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if c.basic != nil {
			req.SetBasicAuth(c.basic[0], c.basic[1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Errorf("%s: %d %v, want 401 invalid_client", c.name, resp.StatusCode, body)
			continue
		}
		if got := resp.Header.Values("WWW-Authenticate"); len(got) != 1 || !strings.HasPrefix(got[0], `Basic realm="xaa-idp"`) {
			t.Errorf("%s: WWW-Authenticate %q, want one Basic challenge (RFC 9110 section 15.5.2)", c.name, got)
		}
	}
}

// TestEndSession_UnknownClientNoBasicChallenge: end_session is a page a
// relying party's sign-out link opens in the browser, where no client
// authenticates: its 401 invalid_client (an unregistered client_id)
// carries no Basic challenge, which would open the browser's own password
// dialog over the answer. The challenge added to every 401 of the token,
// introspection and revocation endpoints (2026-12-06) reached it through
// the shared error writer.
func TestEndSession_UnknownClientNoBasicChallenge(t *testing.T) {
	p := startConformanceIdP(t)
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		var req *http.Request
		if method == http.MethodGet {
			req, _ = http.NewRequest(method, p.URL+"/end_session?client_id=nobody", nil)
		} else {
			req, _ = http.NewRequest(method, p.URL+"/end_session", strings.NewReader("client_id=nobody"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Errorf("%s: %d %v, want 401 invalid_client", method, resp.StatusCode, body)
		}
		if got := resp.Header.Values("WWW-Authenticate"); len(got) != 0 {
			t.Errorf("%s: WWW-Authenticate %q at end_session, want none (a browser would ask for a password)", method, got)
		}
	}
}
