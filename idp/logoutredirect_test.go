package idp_test

import (
	"net/http"
	"net/url"
	"testing"
)

// TestEndSession_PostLogoutRedirectURIExactMatch: post_logout_redirect_uri
// is matched like redirect_uri at /authorize (docs/http.md): exactly, but
// for the port of a loopback IP literal (RFC 8252 section 7.3); another
// host (localhost for 127.0.0.1), scheme, userinfo or a fragment is
// refused with 400 and no redirect, and the session stays.
func TestEndSession_PostLogoutRedirectURIExactMatch(t *testing.T) {
	p := startConformanceIdP(t)
	idToken := newBrowser(p).codeTokens(t)["id_token"].(string)
	for _, c := range []struct {
		uri  string
		want int
	}{
		{"http://localhost/callback", http.StatusBadRequest},
		{"http://localhost:9999/callback", http.StatusBadRequest},
		{"http://u@127.0.0.1:9999/callback", http.StatusBadRequest},
		{"https://127.0.0.1/callback", http.StatusBadRequest},
		{"http://127.0.0.1/callback#x", http.StatusBadRequest},
		{"http://[::1]/callback", http.StatusBadRequest},
		{"http://127.0.0.1:9999/callback", http.StatusFound},
		{"https://app.example/cb", http.StatusFound},
	} {
		for _, by := range []url.Values{{"client_id": {"mcp-client"}}, {"id_token_hint": {idToken}}} {
			t.Run(c.uri, func(t *testing.T) {
				br := newBrowser(p)
				br.codeTokens(t)
				q := url.Values{"post_logout_redirect_uri": {c.uri}}
				for k, v := range by {
					q[k] = v
				}
				resp, err := br.signOut(p.URL + "/end_session?" + q.Encode())
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != c.want {
					t.Fatalf("status %d Location %q, want %d", resp.StatusCode, resp.Header.Get("Location"), c.want)
				}
				if c.want != http.StatusBadRequest {
					return
				}
				if loc := resp.Header.Get("Location"); loc != "" {
					t.Errorf("redirected to %s", loc)
				}
				_, ch := pkce()
				params := authParams(callback, ch)
				params.Set("prompt", "none")
				if res := br.authorize(t, params, "", ""); res.location == nil || res.location.Query().Get("code") == "" {
					t.Errorf("a refused end_session ended the session: %+v", res)
				}
			})
		}
	}
}
