package main

import (
	"bufio"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawResponse is what rawRequest read back.
type rawResponse struct {
	status int
	header http.Header
	body   string
}

// rawRequest sends request line and headers as written, byte for byte, to
// addr (a path Go's client would clean or escape reaches the server as a
// stranger types it) and reads one answer.
func rawRequest(t *testing.T, addr, method, target string, headers []string, body string) rawResponse {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	var b strings.Builder
	b.WriteString(method + " " + target + " HTTP/1.1\r\nConnection: close\r\n")
	hasHost := false
	for _, h := range headers {
		hasHost = hasHost || strings.HasPrefix(strings.ToLower(h), "host:")
		b.WriteString(h + "\r\n")
	}
	if !hasHost {
		b.WriteString("Host: " + addr + "\r\n")
	}
	if body != "" || method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch {
		b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	}
	b.WriteString("\r\n" + body)
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%s %q: no answer: %v", method, target, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: string(data)}
}

func basicAuth(user, password string) string {
	return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

// The routes of a tenant's admin API, console, IdP, and the root's, as the
// muxes register them (admin, web, idp, app), with ids that exist in the
// tenants sample where a route takes one.
var (
	adminAPIRoutes = []string{
		"/admin/api/", "/admin/api/audit", "/admin/api/explain", "/admin/api/config", "/admin/api/config/yaml",
		"/admin/api/status", "/admin/api/clock", "/admin/api/keys", "/admin/api/keys/rotate",
		"/admin/api/servers", "/admin/api/servers/notes", "/admin/api/servers/notes/access", "/admin/api/servers/notes/deny",
		"/admin/api/users", "/admin/api/users/alice", "/admin/api/groups", "/admin/api/groups/g",
		"/admin/api/clients", "/admin/api/clients/desktop", "/admin/api/access-requests", "/admin/api/access-requests/ar_x",
		"/admin/api/access-requests/ar_x/approve", "/admin/api/access-requests/ar_x/deny",
		"/admin/api/faults", "/admin/api/faults/f", "/admin/api/scim/v2/Users", "/admin/api/scim/v2/Users/u-alice",
		"/admin/api/scim/v2/Groups", "/admin/api/scim/v2/Groups/g", "/admin/api/scim/v2/ServiceProviderConfig",
		"/admin/api/scim/v2/Schemas", "/admin/api/scim/v2/ResourceTypes", "/admin/api/nothing",
	}
	consoleRoutes = []string{
		"/admin/", "/admin/servers", "/admin/servers/notes", "/admin/servers/notes/access", "/admin/servers/notes/deny",
		"/admin/access-requests/ar_x/approve", "/admin/access-requests/ar_x/deny", "/admin/users", "/admin/audit",
		"/admin/audit/export", "/admin/audit/stream", "/admin/explain", "/admin/onboarding", "/admin/config.yaml",
		"/admin/nothing",
	}
	idpRoutes = []string{
		"/", "/healthz", "/ready", "/.well-known/openid-configuration", "/.well-known/oauth-authorization-server",
		"/.well-known/openid-configuration/", "/oauth/token", "/keys", "/metrics", "/login", "/logged-out",
		"/end_session", "/authorize", "/authorize/callback", "/oauth/introspect", "/userinfo", "/revoke",
		"/me/mcp-servers", "/me/access-requests", "/apps", "/device_authorization", "/oauth2/v1/token",
		"/admin/signin", "/admin/callback", "/admin/signed-out", "/admin/signout", "/admin/static/console.css",
	}
	rootRoutes = []string{
		"/", "/healthz", "/metrics", "/admin/", "/admin/api/", "/.well-known/openid-configuration",
		"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration/t/acme", "/nothing",
	}
	anyMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "FROB"}
)

// pathVariants are spellings of path a stranger tries: a trailing slash,
// doubled and dot segments, percent-encoded dots and slashes, upper case,
// a ;param, a NUL and a control byte percent-encoded.
func pathVariants(path string) []string {
	dir, last := path[:strings.LastIndex(path, "/")], path[strings.LastIndex(path, "/")+1:]
	return []string{
		path, path + "/", dir + "//" + last, dir + "/./" + last, dir + "/x/../" + last, dir + "/x/%2e%2e/" + last,
		dir + "%2f" + last, strings.ToUpper(path), path + ";x=1", path + "%00", path + "%01", path + "?%zz",
	}
}

// TestRoutes_AStrangerGetsNoAdminAnswerAndNo500 is a stranger's walk
// over every route of `xaa-idp demo` with tenants (the IdP's, the admin
// API's, the console's, the root's and the demo servers'), with every
// method and the path spellings of pathVariants: no answer is a 5xx,
// no admin route answers 2xx without credentials, a 405 has Allow and
// the admin API's 401 has WWW-Authenticate (docs/http.md, "Error codes").
func TestRoutes_AStrangerGetsNoAdminAnswerAndNo500(t *testing.T) {
	_, stdout := startBinary(t, &syncBuffer{}, "demo", "--addr", "127.0.0.1:0", "--config", tenantsConfig(t))
	banner := waitFor(t, stdout, "Ctrl-C stops everything.")
	idpAddr, asAddr, mcpAddr := demoAddrs(t, banner)

	check := func(t *testing.T, addr, method, target string, admin bool, headers ...string) {
		t.Helper()
		r := rawRequest(t, addr, method, target, headers, "")
		switch {
		case r.status >= 500:
			t.Errorf("%s %s %v: %d %.200s", method, target, headers, r.status, r.body)
		case admin && r.status >= 200 && r.status < 300:
			t.Errorf("%s %s %v: %d without credentials: %.200s", method, target, headers, r.status, r.body)
		case r.status == http.StatusMethodNotAllowed && r.header.Get("Allow") == "":
			t.Errorf("%s %s: 405 without Allow", method, target)
		case r.status == http.StatusUnauthorized && strings.Contains(target, "/admin/api/") && r.header.Get("WWW-Authenticate") == "":
			t.Errorf("%s %s: 401 without WWW-Authenticate", method, target)
		}
	}
	t.Run("admin", func(t *testing.T) {
		for _, base := range []string{"/t/acme", "/issuers/acme", ""} {
			for _, route := range append(append([]string{}, adminAPIRoutes...), consoleRoutes...) {
				if base == "" && route == "/admin/" {
					continue // the root's list of the tenants' consoles, public
				}
				for _, method := range anyMethods {
					for _, target := range pathVariants(base + route) {
						check(t, idpAddr, method, target, true)
					}
				}
				// A method override is no method.
				check(t, idpAddr, http.MethodPost, base+route, true, "X-HTTP-Method-Override: GET")
			}
		}
	})
	t.Run("credentials in the wrong place", func(t *testing.T) {
		issuer := "http://" + idpAddr + "/t/acme"
		code, idToken, stderr := runBinary(t, "login", "--issuer", issuer, "--client-id", "desktop", "--client-secret", "acme-desktop-secret",
			"--username", "alice", "--password", "alice", "--print", "id_token")
		if code != 0 {
			t.Fatalf("login: exit %d: %s", code, stderr)
		}
		for _, tt := range []struct {
			name, header string
			route        string
		}{
			{"another tenant's admin", basicAuth("bob", "bob"), "/admin/api/users"},
			{"another tenant's admin at SCIM", basicAuth("bob", "bob"), "/admin/api/scim/v2/Users"},
			{"an admin's ID token as Bearer", "Authorization: Bearer " + strings.TrimSpace(idToken), "/admin/api/config/yaml"},
			{"an admin's ID token as Bearer at SCIM", "Authorization: Bearer " + strings.TrimSpace(idToken), "/admin/api/scim/v2/Users"},
			{"the admin's Basic at the console", basicAuth("alice", "alice"), "/admin/config.yaml"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				r := rawRequest(t, idpAddr, http.MethodGet, "/t/acme"+tt.route, []string{tt.header}, "")
				if r.status != http.StatusUnauthorized && r.status != http.StatusSeeOther {
					t.Errorf("GET %s: %d %.200s; want 401 (the console: 303 to its sign-in)", tt.route, r.status, r.body)
				}
			})
		}
	})
	// An admin's browser that remembers the Basic credentials sends them
	// with a form another site posts; Origin and Sec-Fetch-Site say so,
	// but a browser or an extension may send neither. A form's
	// Content-Type is what a script calling the API never needs to send.
	t.Run("a form posted to the admin API", func(t *testing.T) {
		keys := func() string {
			return rawRequest(t, idpAddr, http.MethodGet, "/t/acme/admin/api/keys", []string{basicAuth("alice", "alice")}, "").body
		}
		before := keys()
		for _, ct := range []string{"application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain", "Text/Plain;charset=UTF-8", "text/plain; ="} {
			for _, route := range []string{"/admin/api/keys/rotate", "/admin/api/access-requests/ar_x/approve", "/admin/api/faults"} {
				r := rawRequest(t, idpAddr, http.MethodPost, "/t/acme"+route,
					[]string{basicAuth("alice", "alice"), "Content-Type: " + ct, "Referer: http://evil.example/", "User-Agent: Mozilla/5.0"}, "")
				if r.status != http.StatusForbidden || !strings.Contains(r.body, `"csrf"`) || !strings.Contains(r.body, "application/json") {
					t.Errorf("POST %s as %s: %d %.300s; want 403 csrf, saying to send JSON", route, ct, r.status, r.body)
				}
			}
		}
		if after := keys(); after != before {
			t.Errorf("a form rotated the keys:\n%s\n%s", before, after)
		}
		// A script's POST without a body, with or without JSON's type, rotates.
		for _, h := range [][]string{{basicAuth("alice", "alice")}, {basicAuth("alice", "alice"), "Content-Type: application/json"}} {
			if r := rawRequest(t, idpAddr, http.MethodPost, "/t/acme/admin/api/keys/rotate", h, ""); r.status != http.StatusOK {
				t.Errorf("POST keys/rotate %v: %d %.300s", h, r.status, r.body)
			}
		}
	})
	t.Run("public", func(t *testing.T) {
		for _, route := range idpRoutes {
			for _, method := range anyMethods {
				for _, target := range pathVariants("/t/okta" + route) {
					check(t, idpAddr, method, target, false)
				}
			}
		}
		for _, route := range rootRoutes {
			for _, method := range anyMethods {
				check(t, idpAddr, method, route, false)
			}
		}
		for addr, routes := range map[string][]string{
			asAddr:  {"/token", "/jwks", "/introspect", "/authorize", "/events", "/.well-known/oauth-authorization-server", "/.well-known/openid-configuration", "/"},
			mcpAddr: {"/mcp", "/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp", "/"},
		} {
			for _, route := range routes {
				for _, method := range anyMethods {
					for _, target := range pathVariants(route) {
						check(t, addr, method, target, false)
					}
				}
			}
		}
	})
}

// demoAddrs are the host:port of the IdP, the authorization server and
// the MCP server in the banner of `xaa-idp demo` with tenants.
func demoAddrs(t *testing.T, banner string) (idpAddr, asAddr, mcpAddr string) {
	t.Helper()
	for _, line := range strings.Split(banner, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 4 && f[0] == "acme":
			idpAddr = hostOf(t, f[2])
		case len(f) == 4 && f[0] == "notes":
			asAddr, mcpAddr = hostOf(t, f[2]), hostOf(t, f[3])
		}
	}
	if idpAddr == "" || asAddr == "" || mcpAddr == "" {
		t.Fatalf("no IdP, authorization server or MCP server in the banner:\n%s", banner)
	}
	return idpAddr, asAddr, mcpAddr
}

func hostOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}
