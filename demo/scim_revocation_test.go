package demo_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idpclient"
)

// Deprovisioning by SCIM (active: false) is disabling the user: the
// revocation push goes out, the demo authorization server revokes the
// user's token, and the MCP server refuses the next call.
func TestRevocationPush_SCIMDeprovisioning(t *testing.T) {
	config := strings.Replace(loopConfig, "  - {username: bob, password: bob, sub: 00u-bob, admin: true}",
		"  - {username: alice, password: alice, admin: true}\n  - {username: bob, password: bob, sub: 00u-bob}", 1)
	l := startLoop(t, config, 0)
	ctx := context.Background()
	login, err := idpclient.Login(ctx, idpclient.LoginOptions{Issuer: l.idpURL, ClientID: "mcp-client", ClientSecret: "mcp-secret", Username: "bob", Password: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	jag, err := idpclient.Exchange(ctx, idpclient.ExchangeOptions{Issuer: l.idpURL, ClientID: "mcp-client", ClientSecret: "mcp-secret",
		SubjectToken: login.IDToken(), Audience: l.asURL, Resource: l.mcpURL + "/mcp", Scopes: []string{"crm.read"}})
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {jag["access_token"].(string)}}
	req, _ := http.NewRequest(http.MethodPost, l.asURL+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("mcp-client-at-crm", "mcp-secret")
	tok, err := postToken(req)
	if err != nil {
		t.Fatal(err)
	}
	call := func() *http.Response {
		t.Helper()
		body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
		req, _ := http.NewRequest(http.MethodPost, l.mcpURL+"/mcp", strings.NewReader(body))
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
		t.Fatalf("before the deprovisioning: HTTP %d", resp.StatusCode)
	}

	req, _ = http.NewRequest(http.MethodPatch, l.idpURL+"/admin/api/scim/v2/Users/00u-bob", strings.NewReader(
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}`))
	req.Header.Set("Content-Type", "application/scim+json")
	req.SetBasicAuth("alice", "alice")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("SCIM PATCH active=False: %d", resp.StatusCode)
	}
	deadline := time.Now().Add(60 * time.Second)
	for l.pusher.Pending() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if resp := call(); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("after the deprovisioning: HTTP %d %q, want 401 invalid_token", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	if evs := l.srv.Audit().Query(audit.Filter{Type: audit.TypeEventPush}); len(evs) != 1 || evs[0].Outcome != audit.Allowed || evs[0].User != "bob" {
		t.Errorf("event_push audit: %+v", evs)
	}
	if evs := l.srv.Audit().Query(audit.Filter{Type: audit.TypeAdminChange}); len(evs) != 1 || evs[0].User != "bob" || evs[0].Details["via"] != "scim" {
		t.Errorf("admin_change audit: %+v", evs)
	}
}
