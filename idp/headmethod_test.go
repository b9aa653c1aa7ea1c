package idp_test

import (
	"net/http"
	"net/url"
	"testing"
)

// HEAD is GET without a body (RFC 9110 §9.3.2) where a GET only reads:
// /userinfo and the /me endpoints answered it 405 with an Allow that
// omitted it, while discovery, /keys and /healthz answer it. Where a GET
// changes state (/authorize starts a sign-in, /login with an SSO session
// completes one, /end_session ends it) HEAD stays 405, with an Allow
// that names what is taken, and does nothing.
func TestHead_AnsweredAsGetWhereGetOnlyReads(t *testing.T) {
	p := startConformanceIdP(t)
	tok := p.login(t, "mcp-client", "s1", "bob", "bob-pw")
	at, _ := tok["access_token"].(string)
	idToken, _ := tok["id_token"].(string)
	do := func(method, path, bearer string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, p.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, path := range []string{"/userinfo", "/me/mcp-servers", "/me/access-requests"} {
		get, head := do(http.MethodGet, path, at), do(http.MethodHead, path, at)
		if get.StatusCode != http.StatusOK || head.StatusCode != get.StatusCode ||
			head.Header.Get("Content-Type") != get.Header.Get("Content-Type") ||
			head.Header.Get("Cache-Control") != get.Header.Get("Cache-Control") {
			t.Errorf("HEAD %s: %d %q %q; GET: %d %q %q", path, head.StatusCode, head.Header.Get("Content-Type"), head.Header.Get("Cache-Control"),
				get.StatusCode, get.Header.Get("Content-Type"), get.Header.Get("Cache-Control"))
		}
		head = do(http.MethodHead, path, "")
		if head.StatusCode != http.StatusUnauthorized || head.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("HEAD %s without a token: %d, WWW-Authenticate %q; want 401 with it", path, head.StatusCode, head.Header.Get("WWW-Authenticate"))
		}
		if put := do(http.MethodPut, path, at); put.StatusCode != http.StatusMethodNotAllowed || put.Header.Get("Allow") == "" {
			t.Errorf("PUT %s: %d, Allow %q", path, put.StatusCode, put.Header.Get("Allow"))
		} else if allow := put.Header.Get("Allow"); allow != "GET, HEAD" && allow != "GET, HEAD, POST" {
			t.Errorf("PUT %s: Allow %q, want HEAD in it", path, allow)
		}
	}
	q := url.Values{"client_id": {"mcp-client"}, "redirect_uri": {"http://127.0.0.1/callback"}, "response_type": {"code"}, "scope": {"openid"}}
	for _, path := range []string{"/authorize?" + q.Encode(), "/login?authRequestID=x", "/end_session?id_token_hint=" + idToken} {
		resp := do(http.MethodHead, path, "")
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, POST" {
			t.Errorf("HEAD %s: %d, Allow %q; want 405 and Allow GET, POST", path, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
	// The session the HEAD at /end_session named is not ended.
	if resp := do(http.MethodGet, "/userinfo", at); resp.StatusCode != http.StatusOK {
		t.Errorf("after HEAD /end_session, GET /userinfo: %d, want 200", resp.StatusCode)
	}
}
