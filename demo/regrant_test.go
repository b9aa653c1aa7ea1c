package demo_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/policy"
	"github.com/xaa-idp/xaa-idp/push"
)

// TestRevocationPush_AccessGivenBackInTheSameSecondConnects: a user who
// loses an MCP server and gets it back within one second (a SCIM client
// moving the user between two groups that both grant it: "remove from A",
// then "add to B") connects at once. The demo authorization server
// refuses what was issued up to the second of the revocation (iat has
// whole seconds), so an ID-JAG issued later in that second was refused as
// "issued before" the revocation until the user retried a second later.
func TestRevocationPush_AccessGivenBackInTheSameSecondConnects(t *testing.T) {
	l := startLoop(t, loopConfig, 0)
	ctx := context.Background()
	login, err := idpclient.Login(ctx, idpclient.LoginOptions{Issuer: l.idpURL, ClientID: "mcp-client", ClientSecret: "mcp-secret", Username: "bob", Password: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	// Early in a second, so that the revocation, its delivery and the
	// exchange after it all fall in that second.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 50*time.Millisecond)))
	if _, err := l.store.UpdateServerAccess("crm", nil, "*"); err != nil {
		t.Fatal(err)
	}
	waitDelivered(t, l.pusher)
	if _, err := l.store.UpdateServerAccess("crm", []policy.Access{{Users: []string{"bob"}, Scopes: []string{"crm.read"}}}, "*"); err != nil {
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
		t.Fatalf("the ID-JAG issued after the access was given back: %v", err)
	}
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	req, _ = http.NewRequest(http.MethodPost, l.mcpURL+"/mcp", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("MCP call with the new access token: HTTP %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}

// TestRevocationPush_AccessGivenBackWhileTheReceiverWasDownConnects: the
// revocation reaches the authorization server late (it was down; the push
// retried), in a later second than the one it was queued in, after the
// user got the access back. The exchange in the second of the delivery
// waits for the next one too, else its ID-JAG is refused as "issued
// before" the revocation the server just took.
func TestRevocationPush_AccessGivenBackWhileTheReceiverWasDownConnects(t *testing.T) {
	var down atomic.Bool
	down.Store(true)
	wrap := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/events") && down.Load() {
				http.Error(w, "down", http.StatusServiceUnavailable)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	l := startLoopWith(t, loopConfig, push.Options{FirstRetry: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}, wrap)
	ctx := context.Background()
	login, err := idpclient.Login(ctx, idpclient.LoginOptions{Issuer: l.idpURL, ClientID: "mcp-client", ClientSecret: "mcp-secret", Username: "bob", Password: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.store.UpdateServerAccess("crm", nil, "*"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.store.UpdateServerAccess("crm", []policy.Access{{Users: []string{"bob"}, Scopes: []string{"crm.read"}}}, "*"); err != nil {
		t.Fatal(err)
	}
	// The receiver comes back early in a later second than the revocation.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 50*time.Millisecond)))
	down.Store(false)
	waitDelivered(t, l.pusher)
	jag, err := idpclient.Exchange(ctx, idpclient.ExchangeOptions{Issuer: l.idpURL, ClientID: "mcp-client", ClientSecret: "mcp-secret",
		SubjectToken: login.IDToken(), Audience: l.asURL, Resource: l.mcpURL + "/mcp", Scopes: []string{"crm.read"}})
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {jag["access_token"].(string)}}
	req, _ := http.NewRequest(http.MethodPost, l.asURL+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("mcp-client-at-crm", "mcp-secret")
	if _, err := postToken(req); err != nil {
		t.Fatalf("the ID-JAG issued after the late revocation: %v", err)
	}
}

// waitDelivered waits until the pusher has delivered every event. After
// 5 s these tests went on as if it had, so that on a loaded machine the
// exchange could come before the revocation reached the authorization
// server, and the test fail for the machine's sake. The minute only
// guards against a hang.
func waitDelivered(t *testing.T, p *push.Pusher) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); p.Pending() > 0; time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d events still to deliver after a minute", p.Pending())
		}
	}
}
