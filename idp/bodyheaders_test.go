package idp_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

func gzipped(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := io.WriteString(zw, s); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestBodyHeaders_RefusedAsWhatTheyAre: a form body with a Content-Encoding
// (gzip, deflate) was read as if plain and refused for what it then lacked
// ("grant_type is missing", "token is missing"); a request with two
// Content-Type headers was read as the first said. The IdP decodes no
// content coding: such a body is 400 invalid_request naming the coding
// (RFC 6749 section 5.2; RFC 9110 section 8.4.1), with Accept-Encoding:
// identity, and two Content-Type headers are 400 invalid_request, as two
// Authorization headers are. Content-Encoding: identity is a plain body.
func TestBodyHeaders_RefusedAsWhatTheyAre(t *testing.T) {
	cfg, err := policy.Parse([]byte(appsConfig), "apps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	tok := p.login(t, "mcp-client", "s1", "bob", "bob-pw", "openid", "offline_access")
	at, _ := tok["access_token"].(string)
	rt, _ := tok["refresh_token"].(string)
	basic := [2]string{"Authorization", "Basic " + basicCreds("mcp-client", "s1")}
	refresh := "grant_type=refresh_token&refresh_token=" + url.QueryEscape(rt)
	for _, c := range []struct{ path, form string }{
		{"/oauth/token", refresh},
		{"/oauth/introspect", "token=" + url.QueryEscape(at)},
		{"/revoke", "token=" + url.QueryEscape(rt)},
	} {
		for _, coding := range []string{"gzip", "deflate", "identity, gzip"} {
			resp, body := send(t, http.MethodPost, p.URL+c.path, gzipped(t, c.form), [][2]string{basic, {"Content-Encoding", coding}})
			desc, _ := body["error_description"].(string)
			if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_request" || !strings.Contains(desc, "Content-Encoding") ||
				resp.Header.Get("Accept-Encoding") != "identity" {
				t.Errorf("%s with Content-Encoding %s: %d %v (Accept-Encoding %q), want 400 invalid_request naming the Content-Encoding",
					c.path, coding, resp.StatusCode, body, resp.Header.Get("Accept-Encoding"))
			}
		}
		for _, types := range [][2]string{{"application/x-www-form-urlencoded", "text/plain"}, {"text/plain", "application/x-www-form-urlencoded"}} {
			req, _ := http.NewRequest(http.MethodPost, p.URL+c.path, strings.NewReader(c.form))
			req.Header.Add("Content-Type", types[0])
			req.Header.Add("Content-Type", types[1])
			req.Header.Set(basic[0], basic[1])
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(raw), `"invalid_request"`) || !strings.Contains(string(raw), "more than one Content-Type header") {
				t.Errorf("%s with Content-Type %q: %d %s, want 400 invalid_request naming the two headers", c.path, types, resp.StatusCode, raw)
			}
		}
	}
	// Nothing was used, and identity is no coding: the refresh token works.
	resp, body := send(t, http.MethodPost, p.URL+"/oauth/token", refresh, [][2]string{basic, {"Content-Encoding", "identity"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh with Content-Encoding: identity after the refusals: %d %v", resp.StatusCode, body)
	}
}

// TestLogin_BodyHeadersRefused: the login form posted compressed is 415
// (RFC 9110 section 15.5.16) with a page saying so, not "this sign-in
// request is unknown"; posted with two Content-Type headers, 400.
func TestLogin_BodyHeadersRefused(t *testing.T) {
	cfg, err := policy.Parse([]byte(appsConfig), "apps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	form := "authRequestID=x&username=bob&password=bob-pw"
	for _, c := range []struct {
		name   string
		header [][2]string
		body   string
		status int
		says   string
	}{
		{"gzip", [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}, {"Content-Encoding", "gzip"}}, gzipped(t, form), http.StatusUnsupportedMediaType, "compressed"},
		{"two types", [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}, {"Content-Type", "text/plain"}}, form, http.StatusBadRequest, "Content-Type"},
	} {
		req, _ := http.NewRequest(http.MethodPost, p.URL+"/login", strings.NewReader(c.body))
		for _, h := range c.header {
			req.Header.Add(h[0], h[1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(raw), c.says) {
			t.Errorf("login, %s: %d %s\n%s\nwant %d, a page saying %q", c.name, resp.StatusCode, resp.Header.Get("Content-Type"), raw, c.status, c.says)
		}
	}
}
