package demo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/app"
	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/demo"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/policy"
	"github.com/xaa-idp/xaa-idp/push"
)

const loopConfig = `
signing: {id_token_alg: ES256}
users:
  - {username: bob, password: bob, sub: 00u-bob, admin: true}
clients:
  - client_id: mcp-client
    client_secret: mcp-secret
    redirect_uris: [http://127.0.0.1/callback]
    token_exchange: true
mcp_servers:
  - id: crm
    name: CRM
    issuer: AS
    resources: [MCP/mcp]
    scopes: [crm.read]
    clients: {mcp-client: mcp-client-at-crm}
    access:
      - users: [bob]
        scopes: [crm.read]
`

// serve serves h on ln until the test ends.
func serve(t *testing.T, ln net.Listener, h http.Handler) {
	t.Helper()
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { hs.Close() })
}

func listen(t *testing.T) (net.Listener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln, "http://" + ln.Addr().String()
}

// startLoop serves, on loopback, the IdP of config (its AS and MCP
// placeholders replaced by the servers' URLs) with the revocation push
// (checking expiries every checkEvery; 0 for the default), and its one MCP
// server's demo authorization server and MCP server, all on the IdP's
// clock.
// loop is what startLoop serves.
type loop struct {
	srv                   *idp.Server
	store                 *policy.Store
	pusher                *push.Pusher
	idpURL, asURL, mcpURL string
}

func startLoop(t *testing.T, config string, checkEvery time.Duration) *loop {
	t.Helper()
	return startLoopWith(t, config, push.Options{CheckEvery: checkEvery}, nil)
}

// startLoopWith is startLoop with the Pusher's retry options of o, and the
// demo authorization server behind wrap (nil: none).
func startLoopWith(t *testing.T, config string, o push.Options, wrap func(http.Handler) http.Handler) *loop {
	t.Helper()
	idpLn, idpURL := listen(t)
	asLn, asURL := listen(t)
	mcpLn, mcpURL := listen(t)
	store, err := policy.NewStore([]byte(strings.NewReplacer("AS", asURL, "MCP", mcpURL).Replace(config)), "demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := store.Config()
	srv, err := idp.New(idp.Options{Config: cfg, Issuer: idpURL})
	if err != nil {
		t.Fatal(err)
	}
	o.Issuer, o.Signer, o.Audit, o.Config, o.Now, o.Endpoint = idpURL, srv, srv.Audit(), cfg, srv.Now, demo.EventsEndpoints(cfg)
	pusher, err := push.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pusher.Close)
	serve(t, idpLn, app.New(app.Options{IdP: srv, Store: store, Push: pusher}))
	stack, err := demo.Stack(cfg, idpURL, srv.Now)
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range stack {
		if svc.Role == "authorization server" {
			h := svc.Handler
			if wrap != nil {
				h = wrap(h)
			}
			serve(t, asLn, h)
		} else {
			serve(t, mcpLn, svc.Handler)
		}
	}
	return &loop{srv: srv, store: store, pusher: pusher, idpURL: idpURL, asURL: asURL, mcpURL: mcpURL}
}

// TestRevocationPush_TheWholeLoop: bob connects to the CRM's demo MCP
// server; an admin removes his access through the Store; the IdP pushes a
// SET to the demo authorization server, which verifies it and revokes his
// token, so the MCP server answers his next call with 401 invalid_token.
// An issuer ending with "/" gets its SETs at the same /events (not //events).
func TestRevocationPush_TheWholeLoop(t *testing.T) {
	for name, slash := range map[string]string{"issuer": "", "issuer with a trailing slash": "/"} {
		t.Run(name, func(t *testing.T) { wholeLoop(t, slash) })
	}
}

func wholeLoop(t *testing.T, slash string) {
	l := startLoop(t, strings.Replace(loopConfig, "issuer: AS", "issuer: AS"+slash, 1), 0)
	srv, store, pusher, idpURL, asURL, mcpURL := l.srv, l.store, l.pusher, l.idpURL, l.asURL, l.mcpURL

	ctx := context.Background()
	login, err := idpclient.Login(ctx, idpclient.LoginOptions{Issuer: idpURL, ClientID: "mcp-client", ClientSecret: "mcp-secret", Username: "bob", Password: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	jag, err := idpclient.Exchange(ctx, idpclient.ExchangeOptions{Issuer: idpURL, ClientID: "mcp-client", ClientSecret: "mcp-secret",
		SubjectToken: login.IDToken(), Audience: asURL + slash, Resource: mcpURL + "/mcp", Scopes: []string{"crm.read"}})
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {jag["access_token"].(string)}}
	req, _ := http.NewRequest(http.MethodPost, asURL+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("mcp-client-at-crm", "mcp-secret")
	tok, err := postToken(req)
	if err != nil {
		t.Fatal(err)
	}
	call := func() *http.Response {
		t.Helper()
		body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
		req, _ := http.NewRequest(http.MethodPost, mcpURL+"/mcp", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := call(); resp.StatusCode != http.StatusOK {
		t.Fatalf("before the revocation: HTTP %d", resp.StatusCode)
	}

	if _, err := store.UpdateServerAccess("crm", nil, "*"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for pusher.Pending() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	resp := call()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("after the revocation: HTTP %d %q, want 401 invalid_token", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	evs := srv.Audit().Query(audit.Filter{Type: audit.TypeEventPush})
	if len(evs) != 1 || evs[0].Outcome != audit.Allowed || evs[0].Details["endpoint"] != asURL+"/events" {
		t.Errorf("event_push audit: %+v", evs)
	}
}

// postToken posts a token request and returns the access token.
func postToken(req *http.Request) (string, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.AccessToken == "" {
		return "", fmt.Errorf("token endpoint: HTTP %d: %v", resp.StatusCode, err)
	}
	return body.AccessToken, nil
}
