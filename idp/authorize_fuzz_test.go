package idp_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

// FuzzAuthorize throws arbitrary queries (and form bodies) at the
// authorization endpoint, which anyone can reach. Whatever comes in, no
// 5xx but the documented 503 of a full store, a refusal without a redirect
// is the JSON error, a redirect goes to the IdP's own sign-in or to a
// redirect_uri registered for the client named (never elsewhere: RFC 6749
// section 4.1.2.1), and what goes back to the client without a sign-in is
// an error, never a code.
func FuzzAuthorize(f *testing.F) {
	base := url.Values{
		"client_id": {"mcp-client"}, "redirect_uri": {"http://127.0.0.1/callback"}, "response_type": {"code"},
		"scope": {"openid email"}, "state": {"s-1"}, "nonce": {"n-1"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"},
	}
	with := func(kv ...string) string {
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		return q.Encode()
	}
	for _, s := range []string{
		with(),
		with("redirect_uri", "https://app.example/cb"),
		with("redirect_uri", "http://127.0.0.1:8400/callback", "prompt", "none"),
		with("prompt", "login", "max_age", "0", "login_hint", "alice", "ui_locales", "fr"),
		with("response_type", "token"),
		with("response_mode", "form_post"),
		with("request_uri", "urn:ietf:params:oauth:request_uri:x"),
		with("request", "eyJhbGciOiJub25lIn0.e30."),
		with("id_token_hint", "a.b.c", "prompt", "none"),
		with("resource", "https://mcp.chat.example/mcp") + "&resource=https://mcp.files.example/mcp",
		with("authorization_details", `[{"type":"x"}]`, "claims", `{"id_token":{"email":null}}`),
		with("code_challenge_method", "plain", "max_age", "-1"),
		with("client_id", "pub-client", "scope", "openid offline_access"),
		with("client_id", "https://client.example/meta.json"),
		with("redirect_uri", "http://evil.example/callback"),
		"client_id=mcp-client&client_id=other-client&redirect_uri=http://127.0.0.1/callback",
		"%zz",
		"",
	} {
		f.Add(s, false)
	}
	f.Add(with(), true)
	cfg := loadConfig(f, "testdata/conformance.yaml")
	// No metadata document is fetched: a fuzzed client_id URL would go to
	// the network.
	cfg.CIMD = policy.CIMD{Allow: []string{}}
	p := startIdP(f, cfg)
	registered := map[string][]string{}
	for _, c := range cfg.Clients {
		registered[c.ClientID] = c.RedirectURIs
	}
	f.Fuzz(func(t *testing.T, query string, post bool) {
		req := httptest.NewRequest(http.MethodGet, "/authorize", nil)
		req.URL.RawQuery = query
		if post {
			req = httptest.NewRequest(http.MethodPost, "/authorize", strings.NewReader(query))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, req)
		var resp map[string]any
		switch {
		case rec.Code == http.StatusServiceUnavailable:
			if json.Unmarshal(rec.Body.Bytes(), &resp) != nil || resp["error"] != "temporarily_unavailable" || rec.Header().Get("Retry-After") == "" {
				t.Fatalf("503 that is not temporarily_unavailable with Retry-After: %s", rec.Body)
			}
		case rec.Code >= 500:
			t.Fatalf("%q: status %d: %s", query, rec.Code, rec.Body)
		case rec.Code >= 300 && rec.Code < 400:
			to, err := url.Parse(rec.Header().Get("Location"))
			if err != nil {
				t.Fatalf("%q: %d to %q", query, rec.Code, rec.Header().Get("Location"))
			}
			if !to.IsAbs() || strings.HasPrefix(to.String(), p.URL+"/") {
				return // the IdP's own sign-in
			}
			// To the client: the request named it and one of its
			// redirect URIs (a loopback IP's port aside).
			// The query, or the body (the handler has read it).
			form, _ := url.ParseQuery(query)
			back := *to
			back.RawQuery = ""
			if back.Hostname() == "127.0.0.1" {
				back.Host = "127.0.0.1"
			}
			if !slices.Contains(registered[form.Get("client_id")], back.String()) || !strings.HasPrefix(to.String(), form.Get("redirect_uri")) {
				t.Fatalf("%q: %d to %s, not a redirect_uri registered for client %q", query, rec.Code, to, form.Get("client_id"))
			}
			if to.Query().Get("error") == "" || to.Query().Has("code") {
				t.Fatalf("%q: back to the client without a sign-in and without an error: %s", query, to)
			}
		case rec.Code >= 400:
			if json.Unmarshal(rec.Body.Bytes(), &resp) != nil || resp["error"] == nil {
				t.Fatalf("%q: status %d without a JSON error: %s", query, rec.Code, rec.Body)
			}
		}
	})
}
