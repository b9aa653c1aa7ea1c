package main

import (
	"context"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// proxyConfig is the minimal sample with a SCIM token: a provisioning
// client (an HR system) reaches the IdP through the same proxy as
// everyone else.
const proxyConfig = `users:
  - {username: dev, password: dev, admin: true}
clients:
  - client_id: my-mcp-client
    client_secret: change-me
    redirect_uris: [http://127.0.0.1/callback]
    token_exchange: true
mcp_servers:
  - id: notes
    name: Notes
    issuer: http://127.0.0.1:9101
    resources: [http://127.0.0.1:9201/mcp]
    scopes: [notes.read]
    clients: {my-mcp-client: my-mcp-client-at-notes}
    access:
      - users: [dev]
        scopes: [notes.read]
scim:
  tokens:
    - {name: hr, token: hr-provisioning-token-0123456789}
`

// behindProxy is the README's nginx example ("Behind a reverse proxy")
// in Go: TLS ends at the proxy, which forwards /xaa/ unstripped to the
// IdP on plain http, passes the browser's Host on and appends the peer to
// X-Forwarded-For ($proxy_add_x_forwarded_for). It returns the public
// base URL (https://127.0.0.1:PORT), the proxy's CA certificate in a
// file, and a client that dials the proxy from the loopback address from.
type behindProxy struct {
	public string
	caFile string
	srv    *httptest.Server
}

func startProxy(t *testing.T, idpAddr string) *behindProxy {
	t.Helper()
	target := &url.URL{Scheme: "http", Host: idpAddr}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.Host = pr.In.Host
		pr.Out.Header["X-Forwarded-For"] = pr.In.Header["X-Forwarded-For"]
		pr.SetXForwarded()
	}}
	mux := http.NewServeMux()
	mux.Handle("/xaa/", rp)
	// RFC 8414 section 3.1's and OIDC's path-insertion discovery.
	mux.Handle("GET /.well-known/oauth-authorization-server/xaa", rp)
	mux.Handle("GET /.well-known/openid-configuration/xaa", rp)
	srv := httptest.NewUnstartedServer(mux)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caFile := filepath.Join(t.TempDir(), "proxy-ca.pem")
	writeFile(t, caFile, pemCert(srv.Certificate().Raw))
	return &behindProxy{public: srv.URL, caFile: caFile, srv: srv}
}

// client dials the proxy from the loopback address from (127.0.0.2, ...),
// so that the proxy sees clients at distinct addresses.
func (p *behindProxy) client(from string) *http.Client {
	tr := p.srv.Client().Transport.(*http.Transport).Clone()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	tr.DialContext = d.DialContext
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// idpBehindProxy starts `serve` on idpAddr behind a proxy, with an
// issuer under the proxy's /xaa, and the extra flags.
func idpBehindProxy(t *testing.T, idpAddr string, flags ...string) (issuer string, p *behindProxy, stderr *syncBuffer) {
	t.Helper()
	p = startProxy(t, idpAddr)
	file := filepath.Join(t.TempDir(), "idp.yaml")
	writeFile(t, file, []byte(proxyConfig))
	stderr = &syncBuffer{}
	want := p.public + "/xaa"
	issuer, _ = startBinary(t, stderr, append([]string{"serve", "--addr", idpAddr, "--issuer", want, "--config", file}, flags...)...)
	if issuer != want {
		t.Fatalf("serve printed %q, want %s\n%s", issuer, want, stderr)
	}
	return issuer, p, stderr
}

func scimGet(t *testing.T, c *http.Client, u, token string, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), "GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestServe_BehindProxy_StrangerCannotLockOutSCIM: behind a reverse
// proxy every client's TCP peer is the proxy, so the SCIM bearer tokens'
// throttle, counted per client address, counted every client as one: a
// stranger's 5 wrong tokens sent through the proxy refused the HR
// system's right token with 429 for as long as the stranger kept
// guessing. With --trusted-proxies naming the proxy, the address the
// proxy appends to X-Forwarded-For is the client's: the stranger backs
// off alone, and what it writes in X-Forwarded-For itself (through the
// proxy, or straight to the IdP) frames no one.
func TestServe_BehindProxy_StrangerCannotLockOutSCIM(t *testing.T) {
	idpAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	issuer, p, stderr := idpBehindProxy(t, idpAddr, "--trusted-proxies", "127.0.0.1")
	users := issuer + "/admin/api/scim/v2/Users"
	stranger, hr := p.client("127.0.0.2"), p.client("127.0.0.3")
	direct := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext}}

	// The stranger guesses until it is backed off, writing the HR
	// system's address in X-Forwarded-For; each wrong guess after a
	// back-off counts again, so a slow machine gets there too.
	backedOff := false
	for i := 0; i < 50 && !backedOff; i++ {
		c, u := stranger, users
		if i%2 == 1 {
			c, u = direct, "http://"+idpAddr+"/xaa/admin/api/scim/v2/Users"
		}
		resp := scimGet(t, c, u, fmt.Sprintf("wrong-token-%026d", i), "X-Forwarded-For", "127.0.0.3")
		switch resp.StatusCode {
		case http.StatusUnauthorized:
		case http.StatusTooManyRequests:
			backedOff = true
		default:
			t.Fatalf("wrong token %d: %s\n%s", i, resp.Status, stderr)
		}
	}
	if !backedOff {
		t.Fatalf("50 wrong tokens, and the stranger was never backed off\n%s", stderr)
	}
	if resp := scimGet(t, hr, users, "hr-provisioning-token-0123456789"); resp.StatusCode != http.StatusOK {
		t.Fatalf("the HR system's right token after a stranger's guesses: %s (Retry-After %q), want 200 OK",
			resp.Status, resp.Header.Get("Retry-After"))
	}
}

// TestServe_TrustedProxiesBadValue: a value that is no address or
// network is bad usage naming it, from the flag and from its variable.
func TestServe_TrustedProxiesBadValue(t *testing.T) {
	var out, errOut strings.Builder
	if code := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--trusted-proxies", "10.0.0.1,proxy.internal"}, &out, &errOut); code != exitUsage {
		t.Fatalf("exit %d, want %d\n%s", code, exitUsage, errOut.String())
	}
	if s := errOut.String(); !strings.Contains(s, `"proxy.internal"`) || !strings.Contains(s, "--trusted-proxies") {
		t.Errorf("stderr does not name the value and the flag:\n%s", s)
	}
	errOut.Reset()
	t.Setenv("XAA_IDP_TRUSTED_PROXIES", "10.0.0.0/40")
	if code := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0"}, &out, &errOut); code != exitUsage {
		t.Fatalf("exit %d, want %d\n%s", code, exitUsage, errOut.String())
	}
	if s := errOut.String(); !strings.Contains(s, `"10.0.0.0/40"`) || !strings.Contains(s, "XAA_IDP_TRUSTED_PROXIES") {
		t.Errorf("stderr does not name the value and the variable:\n%s", s)
	}
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
