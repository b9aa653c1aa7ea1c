package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServe_IssuerWithAPath: `serve --issuer http://HOST:PORT/idp` (or
// `issuer:` with a path, a file without tenants) advertised /idp/... in
// discovery and on the landing page, and every one of those URLs answered
// 404, while the endpoints were served at the root, and /authorize sent the
// browser to the absolute /login. Now the IdP is served under its issuer's
// path, as a tenant is under its own: discovery's every URL, the login
// page and its cookie are under /idp, a real login and token exchange
// work against it, and the root answers the landing page, /healthz,
// /metrics and the path-insertion discovery documents.
func TestServe_IssuerWithAPath(t *testing.T) {
	port := freePort(t)
	want := fmt.Sprintf("http://127.0.0.1:%d/idp", port)
	stderr := &syncBuffer{}
	issuer, _ := startBinary(t, stderr, "serve", "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--issuer", want)
	if issuer != want {
		t.Fatalf("serve printed %q, want %s\n%s", issuer, want, stderr)
	}
	root := strings.TrimSuffix(issuer, "/idp")
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(u string) *http.Response {
		t.Helper()
		resp, err := hc.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}

	var meta map[string]any
	resp, err := http.Get(issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.NewDecoder(resp.Body).Decode(&meta); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("discovery at %s: %d %v", issuer, resp.StatusCode, err)
	}
	resp.Body.Close()
	if meta["issuer"] != issuer {
		t.Errorf("discovery issuer %v, want %s", meta["issuer"], issuer)
	}
	for _, k := range []string{"authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint", "end_session_endpoint", "revocation_endpoint", "introspection_endpoint"} {
		u, _ := meta[k].(string)
		if !strings.HasPrefix(u, issuer+"/") {
			t.Errorf("%s %q is not under the issuer", k, u)
			continue
		}
		if got := get(u).StatusCode; got == http.StatusNotFound {
			t.Errorf("%s %s: 404", k, u)
		}
	}
	if got := get(issuer + "/admin/").StatusCode; got != http.StatusSeeOther {
		t.Errorf("GET %s/admin/: %d, want 303 to the console's sign-in", issuer, got)
	}
	for _, u := range []string{issuer + "/", issuer + "/healthz", root + "/", root + "/healthz", root + "/metrics",
		root + "/.well-known/oauth-authorization-server/idp", root + "/.well-known/openid-configuration/idp", issuer + "/.well-known/oauth-authorization-server"} {
		if got := get(u).StatusCode; got != http.StatusOK {
			t.Errorf("GET %s: %d, want 200", u, got)
		}
	}
	for _, u := range []string{root + "/authorize", root + "/oauth/token", root + "/keys", root + "/login"} {
		if got := get(u).StatusCode; got != http.StatusNotFound {
			t.Errorf("GET %s at the root: %d, want 404 (the IdP is under %s)", u, got, issuer)
		}
	}

	// A browser's login: every redirect and the SSO cookie stay under /idp.
	q := url.Values{"response_type": {"code"}, "client_id": {"mcp-client"}, "redirect_uri": {"http://127.0.0.1:8301/callback"}, "scope": {"openid"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGlSstw-cM"}, "code_challenge_method": {"S256"}, "state": {"s"}}
	resp = get(issuer + "/authorize?" + q.Encode())
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc == nil || !strings.HasPrefix(loc.Path, "/idp/login") {
		t.Fatalf("/authorize: %d Location %q, want the login page under /idp", resp.StatusCode, resp.Header.Get("Location"))
	}
	login := resp.Request.URL.ResolveReference(loc).String()
	if got := get(login).StatusCode; got != http.StatusOK {
		t.Errorf("the login page %s: %d", login, got)
	}
	form := url.Values{"authRequestID": {loc.Query().Get("authRequestID")}, "username": {"alice"}, "password": {"alice"}}
	resp, err = hc.PostForm(issuer+"/login", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if l := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.HasPrefix(l, issuer+"/") {
		t.Errorf("the login's answer: %d Location %q, want a redirect under the issuer", resp.StatusCode, l)
	}
	for _, c := range resp.Cookies() {
		if c.Path != "/idp/" {
			t.Errorf("cookie %s has Path %q, want /idp/", c.Name, c.Path)
		}
	}

	// The CLI's browserless login and a token exchange, as clients do.
	code, idToken, errOut := runCLI(t, "login", "--issuer", issuer, "--client-id", "mcp-client", "--client-secret", "mcp-secret", "--username", "alice", "--password", "alice", "--print", "id_token")
	if code != 0 {
		t.Fatalf("login against %s: exit %d: %s", issuer, code, errOut)
	}
	code, out, errOut := runCLI(t, "exchange", "--issuer", issuer, "--client-id", "mcp-client", "--client-secret", "mcp-secret", "--id-token", strings.TrimSpace(idToken),
		"--audience", "http://127.0.0.1:8101", "--resource", "http://127.0.0.1:8201/mcp", "--decode")
	if code != 0 || !strings.Contains(out, `"iss": "`+issuer+`"`) {
		t.Errorf("exchange against %s: exit %d: %s%s", issuer, code, out, errOut)
	}
}

// TestCheckAndServe_IssuerPathsThatCannotBeServedAreRefused: the issuer's
// path is now where the IdP is served, so it must be one that a tenant's
// path could be: `check` and `serve` name the file and line, or the flag.
func TestCheckAndServe_IssuerPathsThatCannotBeServedAreRefused(t *testing.T) {
	file := filepath.Join(t.TempDir(), "issuer.yaml")
	if err := os.WriteFile(file, []byte("users: []\nissuer: http://127.0.0.1:1/admin/idp\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"check", "--config", file}, {"serve", "--addr", "127.0.0.1:0", "--config", file}} {
		if code, _, stderr := runCLI(t, args...); code != exitUsage || !strings.Contains(stderr, file+":2:") || !strings.Contains(stderr, "/admin") {
			t.Errorf("%s with issuer /admin/idp: exit %d, want %d naming %s:2: %s", args[0], code, exitUsage, file, stderr)
		}
	}
	if code, _, stderr := runCLI(t, "serve", "--addr", "127.0.0.1:0", "--issuer", "http://127.0.0.1:1/a;b"); code != exitUsage || !strings.Contains(stderr, "--issuer") || !strings.Contains(stderr, "';'") {
		t.Errorf("serve --issuer with ';' in its path: exit %d, want %d naming the flag: %s", code, exitUsage, stderr)
	}
}
