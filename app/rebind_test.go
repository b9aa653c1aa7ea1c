package app_test

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/app"
	"github.com/xaa-idp/xaa-idp/fixtures"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/policy"
)

// rebindProduct serves the demo configuration, editable (a Store), under
// an issuer whose host is a name, idp.test, while listening on loopback:
// requests reach it whatever Host they carry, as a page whose name an
// attacker rebound to 127.0.0.1 reaches it.
func rebindProduct(t *testing.T) (ts *httptest.Server, issuer string, store *policy.Store) {
	t.Helper()
	store, err := policy.NewStore(fixtures.Demo, fixtures.DemoFile)
	if err != nil {
		t.Fatal(err)
	}
	ts = httptest.NewUnstartedServer(nil)
	_, port, _ := net.SplitHostPort(ts.Listener.Addr().String())
	issuer = "http://idp.test:" + port
	srv, err := idp.New(idp.Options{Config: store.Config(), Issuer: issuer})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ts.Config.Handler = app.New(app.Options{IdP: srv, Store: store, Hosts: []string{"idp-addr.test"}})
	ts.Start()
	t.Cleanup(ts.Close)
	return ts, issuer, store
}

// send sends a request to ts with the Host and headers given (name, value
// pairs) and returns the answer and its body.
func send(t *testing.T, ts *httptest.Server, method, path, host string, body io.Reader, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// chromeUA is the User-Agent of Debian's Chromium.
const chromeUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"

func basic(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

// TestDNSRebinding_AdminAPI: a web page whose name (evil.example) an
// attacker rebound to the IdP's address reaches it as the same origin, so
// its Origin and Host agree; with the demo's known passwords (alice:alice)
// it could read and change the configuration. A browser's request (it
// carries Origin or Sec-Fetch-*) under a host name the IdP does not
// answer to is refused with 403, and nothing changes; scripts (neither
// header) are never refused, whatever Host they send; a browser at the
// issuer's host, localhost, an IP literal or the host of --addr is served.
func TestDNSRebinding_AdminAPI(t *testing.T) {
	ts, issuer, store := rebindProduct(t)
	_, port, _ := net.SplitHostPort(ts.Listener.Addr().String())
	evil := "evil.example:" + port
	user := `{"username": "eve2", "password": "eve2-pw", "admin": true}`

	resp, body := send(t, ts, "PUT", "/admin/api/users/eve2", evil, strings.NewReader(user),
		"Authorization", basic("alice", "alice"), "Content-Type", "application/json", "Origin", "http://"+evil)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "evil.example") || !strings.Contains(resp.Header.Get("Content-Type"), "json") {
		t.Fatalf("rebound PUT: %d %s %s, want 403 JSON naming the host", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if store.Config().User("eve2") != nil {
		t.Fatal("the rebound page added a user")
	}
	// A read by a browser that says so (Fetch Metadata) is refused too.
	resp, body = send(t, ts, "GET", "/admin/api/config", evil, nil,
		"Authorization", basic("alice", "alice"), "Sec-Fetch-Site", "same-origin", "Sec-Fetch-Mode", "cors")
	if resp.StatusCode != http.StatusForbidden || strings.Contains(body, "mcp-secret") {
		t.Fatalf("rebound GET: %d %s, want 403", resp.StatusCode, body)
	}
	// A same-origin GET over plain http carries neither Origin nor Fetch
	// Metadata (browsers send these only to trustworthy origins); the
	// browser's User-Agent, which a page cannot change, still marks it.
	resp, body = send(t, ts, "GET", "/admin/api/config/yaml", evil, nil,
		"Authorization", basic("alice", "alice"), "User-Agent", chromeUA)
	if resp.StatusCode != http.StatusForbidden || strings.Contains(body, "mcp-secret") {
		t.Fatalf("rebound GET over plain http: %d %s, want 403", resp.StatusCode, body)
	}
	// The console's pages too.
	for _, path := range []string{"/admin/", "/admin/signin"} {
		resp, body = send(t, ts, "GET", path, evil, nil, "Sec-Fetch-Site", "same-origin", "Sec-Fetch-Mode", "navigate")
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "evil.example") {
			t.Errorf("rebound GET %s: %d %s, want 403 naming the host", path, resp.StatusCode, body)
		}
	}

	// A script (no browser header) is never refused, whatever its Host:
	// a container's service name, a proxy's upstream name.
	resp, body = send(t, ts, "GET", "/admin/api/config", "idp:8080", nil, "Authorization", basic("alice", "alice"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("script GET with Host idp:8080: %d %s, want 200", resp.StatusCode, body)
	}

	// Browsers at the names the IdP answers to by design.
	iss, _ := url.Parse(issuer)
	for i, host := range []string{iss.Host, "localhost:" + port, "127.0.0.1:" + port, "[::1]:" + port, "idp-addr.test:" + port} {
		name := []string{"m0", "m1", "m2", "m3", "m4"}[i]
		resp, body = send(t, ts, "PUT", "/admin/api/users/"+name, host,
			strings.NewReader(`{"username": "`+name+`", "password": "pw-`+name+`"}`),
			"Authorization", basic("alice", "alice"), "Content-Type", "application/json", "Origin", "http://"+host, "Sec-Fetch-Site", "same-origin")
		if resp.StatusCode/100 != 2 {
			t.Errorf("browser PUT at Host %s: %d %s, want 2xx", host, resp.StatusCode, body)
		}
	}
	// A proxy that passes on its upstream's name as Host: the browser's
	// Origin names the issuer.
	resp, body = send(t, ts, "GET", "/admin/api/config", "idp:8080", nil,
		"Authorization", basic("alice", "alice"), "Origin", issuer, "Sec-Fetch-Site", "same-origin")
	if resp.StatusCode != http.StatusOK {
		t.Errorf("proxied browser GET (Host idp:8080, Origin the issuer): %d %s, want 200", resp.StatusCode, body)
	}
}

// TestDNSRebinding_Login: with a demo password, a rebound page could sign
// in at the login form under its own name and act as the user (its own
// SSO session, codes for any client). The form's post under a name the
// IdP does not answer to is refused: no session cookie, no code.
func TestDNSRebinding_Login(t *testing.T) {
	ts, _, _ := rebindProduct(t)
	_, port, _ := net.SplitHostPort(ts.Listener.Addr().String())
	evil := "evil.example:" + port
	sum := sha256.Sum256([]byte("verifier-verifier-verifier-verifier-verifier"))
	q := url.Values{"client_id": {"mcp-public"}, "redirect_uri": {"http://127.0.0.1/callback"}, "response_type": {"code"},
		"scope": {"openid"}, "state": {"s"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	login := func(host string, header ...string) *http.Response {
		resp, _ := send(t, ts, "GET", "/authorize?"+q.Encode(), host, nil)
		loc, _ := url.Parse(resp.Header.Get("Location"))
		id := loc.Query().Get("authRequestID")
		if id == "" {
			t.Fatalf("/authorize: %d Location %q, want the login page", resp.StatusCode, resp.Header.Get("Location"))
		}
		form := url.Values{"authRequestID": {id}, "username": {"alice"}, "password": {"alice"}}
		resp, _ = send(t, ts, "POST", "/login", host, strings.NewReader(form.Encode()),
			append([]string{"Content-Type", "application/x-www-form-urlencoded"}, header...)...)
		return resp
	}
	resp := login(evil, "Origin", "http://"+evil)
	if resp.StatusCode != http.StatusForbidden || len(resp.Header.Values("Set-Cookie")) != 0 || strings.Contains(resp.Header.Get("Location"), "code=") {
		t.Fatalf("rebound login: %d Location %q cookies %v, want 403 without either", resp.StatusCode, resp.Header.Get("Location"), resp.Header.Values("Set-Cookie"))
	}
	if resp := login(evil); resp.StatusCode != http.StatusFound {
		t.Errorf("script login with Host %s: %d, want 302", evil, resp.StatusCode)
	}
	if resp := login("127.0.0.1:"+port, "Origin", "http://127.0.0.1:"+port); resp.StatusCode != http.StatusFound {
		t.Errorf("browser login at 127.0.0.1: %d, want 302", resp.StatusCode)
	}
}

// TestDNSRebinding_Tenants: every tenant's admin API and the root's list
// of consoles refuse a rebound browser; a script is served.
func TestDNSRebinding_Tenants(t *testing.T) {
	ts, _, _ := startTenants(t)
	_, port, _ := net.SplitHostPort(ts.Listener.Addr().String())
	evil := "evil.example:" + port
	for _, path := range []string{"/t/acme/admin/api/config", "/admin/"} {
		resp, body := send(t, ts, "GET", path, evil, nil, "Authorization", basic("alice", "alice"), "Origin", "http://"+evil)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("rebound GET %s: %d %s, want 403", path, resp.StatusCode, body)
		}
		if resp, body := send(t, ts, "GET", path, evil, nil, "Authorization", basic("alice", "alice")); resp.StatusCode == http.StatusForbidden {
			t.Errorf("script GET %s: %d %s, want it served", path, resp.StatusCode, body)
		}
	}
}
