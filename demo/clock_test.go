package demo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idpclient"
)

const clockConfig = `
signing: {id_token_alg: ES256}
users:
  - {username: alice, password: alice, sub: 00u-alice, admin: true}
  - {username: bob, password: bob, sub: 00u-bob}
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
      - users: [alice]
        scopes: [crm.read]
`

// TestStack_FollowsTheIdPClock: the demo servers run on the IdP's clock.
// Bob's access is approved for 30 minutes; an admin advances the IdP's
// clock by 45 (PUT /admin/api/clock). The SET the IdP then signs, with
// an iat 45 minutes ahead of the wall clock, must be accepted by the demo
// authorization server (which revokes bob's token, still within its hour,
// so that the MCP server's 401 comes from the push), and a new ID-JAG
// for alice must not be refused as not yet valid. Before Stack took the
// IdP's clock, both were refused.
func TestStack_FollowsTheIdPClock(t *testing.T) {
	l := startLoop(t, clockConfig, 20*time.Millisecond)
	srv, idpURL, asURL, mcpURL := l.srv, l.idpURL, l.asURL, l.mcpURL

	do := func(method, u, user, bearer, body string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, u, strings.NewReader(body))
		if user != "" {
			req.SetBasicAuth(user, user)
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode/100 != 2 {
			t.Fatalf("%s %s: HTTP %d %s", method, u, resp.StatusCode, b)
		}
		var out map[string]any
		_ = json.NewDecoder(bytes.NewReader(b)).Decode(&out)
		return out
	}
	ctx := context.Background()
	login := func(user string) idpclient.Tokens {
		t.Helper()
		l, err := idpclient.Login(ctx, idpclient.LoginOptions{Issuer: idpURL, ClientID: "mcp-client", ClientSecret: "mcp-secret", Username: user, Password: user})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	// accessToken gets user an ID-JAG and trades it at the demo
	// authorization server.
	accessToken := func(user string) string {
		t.Helper()
		jag, err := idpclient.Exchange(ctx, idpclient.ExchangeOptions{Issuer: idpURL, ClientID: "mcp-client", ClientSecret: "mcp-secret",
			SubjectToken: login(user).IDToken(), Audience: asURL, Resource: mcpURL + "/mcp", Scopes: []string{"crm.read"}})
		if err != nil {
			t.Fatalf("%s's exchange: %v", user, err)
		}
		form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {jag["access_token"].(string)}}
		req, _ := http.NewRequest(http.MethodPost, asURL+"/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("mcp-client-at-crm", "mcp-secret")
		tok, err := postToken(req)
		if err != nil {
			t.Fatalf("%s's ID-JAG at the authorization server (IdP clock %s): %v", user, srv.Now().Format(time.RFC3339), err)
		}
		return tok
	}
	call := func(tok string) int {
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
		return resp.StatusCode
	}

	// Bob asks, alice approves for 30 minutes, bob connects.
	ar := do(http.MethodPost, idpURL+"/me/access-requests", "", login("bob")["access_token"].(string), `{"server": "crm", "scopes": ["crm.read"]}`)
	do(http.MethodPost, idpURL+"/admin/api/access-requests/"+ar["id"].(string)+"/approve", "alice", "", `{"expires_in": "30m"}`)
	bobs := accessToken("bob")
	if got := call(bobs); got != http.StatusOK {
		t.Fatalf("bob before the expiry: HTTP %d", got)
	}

	do(http.MethodPut, idpURL+"/admin/api/clock", "alice", "", `{"advance": "45m"}`)
	deadline := time.Now().Add(10 * time.Second)
	var pushes []audit.Event
	for len(pushes) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		pushes = srv.Audit().Query(audit.Filter{Type: audit.TypeEventPush})
	}
	if len(pushes) != 1 || pushes[0].Outcome != audit.Allowed || pushes[0].User != "bob" {
		t.Fatalf("event_push audit after the expiry: %+v", pushes)
	}
	if got := call(bobs); got != http.StatusUnauthorized {
		t.Errorf("bob after the expiry and the push: HTTP %d, want 401", got)
	}
	if got := call(accessToken("alice")); got != http.StatusOK {
		t.Errorf("alice, with an ID-JAG issued on the advanced clock: HTTP %d, want 200", got)
	}
}
