package idp_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

// FuzzIdPEndpoints throws an arbitrary body or query at the IdP's public
// endpoints besides /authorize and the token endpoint: introspection and
// revocation (as a client with its secret), the access requests of
// /me/access-requests and /userinfo (with a user's access token), and
// end_session. Whatever comes in, no 5xx, and a refusal of the OAuth
// endpoints is their JSON error without a token in it.
func FuzzIdPEndpoints(f *testing.F) {
	for _, s := range []string{
		`token=x&token_type_hint=access_token`,
		`token=rt_x&token_type_hint=refresh_token`,
		`{"server": "wiki", "reason": "docs"}`,
		`{"server": "wiki", "scopes": ["wiki.read"], "reason": "docs", "resource": "https://mcp.wiki.example/mcp"}`,
		`{"server": "hr", "scopes": [], "reason": "payroll"}`,
		`{"server": "crm", "scopes": ["crm.write"], "duration": "1h"}`,
		`id_token_hint=a.b.c&post_logout_redirect_uri=http://127.0.0.1/callback&state=s&client_id=mcp-client`,
		`client_id=mcp-client&logout_hint=bob&ui_locales=fr`,
		`schema=openid&access_token=x`,
		`%zz`,
		``,
	} {
		f.Add(s, "application/x-www-form-urlencoded")
		f.Add(s, "application/json")
	}
	cfg, err := policy.Parse([]byte(appsConfig), "apps.yaml")
	if err != nil {
		f.Fatal(err)
	}
	p := startIdP(f, cfg)
	at, _ := p.login(f, "mcp-client", "s1", "bob", "bob-pw")["access_token"].(string)
	f.Fuzz(func(t *testing.T, body, contentType string) {
		send := func(method, target string, header ...string) *httptest.ResponseRecorder {
			req := httptest.NewRequest(method, target, nil)
			if method == http.MethodPost {
				req = httptest.NewRequest(method, target, strings.NewReader(body))
				req.Header.Set("Content-Type", contentType)
			} else {
				req.URL.RawQuery = body
			}
			for i := 0; i+1 < len(header); i += 2 {
				req.Header.Set(header[i], header[i+1])
			}
			rec := httptest.NewRecorder()
			p.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s %s %q: %d %s", method, target, body, rec.Code, rec.Body)
			}
			return rec
		}
		oauth := func(rec *httptest.ResponseRecorder, what string) {
			t.Helper()
			var m map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
				t.Fatalf("%s %q: %d, not JSON: %s", what, body, rec.Code, rec.Body)
			}
			if rec.Code >= 400 && (m["error"] == nil || strings.Contains(rec.Body.String(), at)) {
				t.Fatalf("%s %q: %d, not a JSON error, or one holding the token: %s", what, body, rec.Code, rec.Body)
			}
		}
		basic := []string{"Authorization", "Basic bWNwLWNsaWVudDpzMQ=="} // mcp-client:s1
		bearer := []string{"Authorization", "Bearer " + at}
		oauth(send(http.MethodPost, "/oauth/introspect", basic...), "introspect")
		oauth(send(http.MethodPost, "/me/access-requests", bearer...), "access request")
		oauth(send(http.MethodGet, "/userinfo", bearer...), "userinfo")
		if rec := send(http.MethodPost, "/revoke", basic...); rec.Code != http.StatusOK {
			oauth(rec, "revoke")
		}
		send(http.MethodGet, "/end_session")
		send(http.MethodPost, "/end_session")
	})
}
