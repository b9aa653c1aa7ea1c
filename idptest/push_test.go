package idptest_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/idptest"
)

const pushConfig = `
users:
  - {username: bob, password: bob}
clients:
  - client_id: app
    client_secret: app-secret
    redirect_uris: [http://127.0.0.1/callback]
    token_exchange: true
mcp_servers:
  - id: crm
    issuer: https://as.crm.example
    resources: [https://mcp.crm.example/mcp]
    scopes: [crm.read]
    clients: {app: app-at-crm}
%s    access:
      - users: [bob]
        scopes: [crm.read]
%s`

// pushYAML is pushConfig with an events_endpoint and an expires when given.
func pushYAML(endpoint string, expires time.Time) string {
	var events, exp string
	if endpoint != "" {
		events = "    events_endpoint: " + endpoint + "\n"
	}
	if !expires.IsZero() {
		exp = "        expires: " + expires.Format(time.RFC3339) + "\n"
	}
	return fmt.Sprintf(pushConfig, events, exp)
}

// TestAccessExpired_AuditedBeforeTheRefusal: README "Request, approve, revoke", "an
// access_request event with outcome expired is written when a decision
// first finds it expired, or earlier", holds for idptest's IdP as for
// serve's: the exchange that finds bob's entry expired is refused, and the
// audit log already has the entry's expired event. idptest's IdP used to
// write none (it had no revocation push, which writes them).
func TestAccessExpired_AuditedBeforeTheRefusal(t *testing.T) {
	srv := idptest.New(t, idptest.WithConfigYAML(pushYAML("", time.Time{})))
	clock := srv.Clock()
	clock.Freeze()
	expires := clock.Now().Add(time.Hour).Truncate(time.Second).UTC()
	srv.SetConfig(pushYAML("", expires))
	tok := srv.LoginVia("app", "bob")
	if _, err := srv.Exchange(tok, "crm"); err != nil {
		t.Fatalf("before the expiry: %v", err)
	}
	clock.Set(expires)
	_, err := srv.Exchange(tok, "crm")
	if oe, ok := err.(*idpclient.Error); !ok || oe.Code != "access_denied" {
		t.Fatalf("at the expiry: %v, want access_denied", err)
	}
	evs := srv.Audit(audit.Filter{Type: audit.TypeAccessRequest, Outcome: audit.Expired})
	if len(evs) != 1 || evs[0].Rule != "crm access[0]" || evs[0].User != "bob" || evs[0].Details["expires"] != expires.Format(time.RFC3339) {
		t.Fatalf("access_request expired events %+v, want one of crm access[0] for bob, expires %s", evs, expires.Format(time.RFC3339))
	}
}

// TestSetConfig_PushesTheRevocation: README "Request, approve, revoke", a user who loses the
// last entry that gave access to a server with an events_endpoint is
// pushed a session-revoked SET, under idptest too (a Go test of an
// authorization server's revocation handling runs against it): SetConfig
// takes bob's entry away, and the receiver gets the SET for bob, signed
// ES256 with typ secevent+jwt. idptest's IdP used to push nothing.
func TestSetConfig_PushesTheRevocation(t *testing.T) {
	sets := make(chan *http.Request, 4)
	bodies := make(chan string, 4)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted)
		sets <- r
		bodies <- string(body)
	}))
	defer receiver.Close()
	endpoint := receiver.URL + "/events"
	srv := idptest.New(t, idptest.WithConfigYAML(pushYAML(endpoint, time.Time{})))
	sub := srv.Config().User("bob").Sub
	cfg := pushYAML(endpoint, time.Time{})
	srv.SetConfig(strings.Replace(cfg, "    access:\n      - users: [bob]\n        scopes: [crm.read]\n", "", 1))
	var r *http.Request
	select {
	case r = <-sets:
	case <-time.After(30 * time.Second):
		t.Fatal("no SET pushed within 30 s of bob losing crm")
	}
	body := <-bodies
	if r.Method != http.MethodPost || r.URL.Path != "/events" || r.Header.Get("Content-Type") != "application/secevent+jwt" {
		t.Fatalf("push: %s %s %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
	}
	parts := strings.Split(body, ".")
	if len(parts) != 3 {
		t.Fatalf("the SET is not a JWS: %q", body)
	}
	var header, claims map[string]any
	for i, v := range []*map[string]any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatal(err)
		}
	}
	if header["alg"] != "ES256" || header["typ"] != "secevent+jwt" || claims["aud"] != "https://as.crm.example" || !strings.Contains(parts[1]+string(mustJSON(t, claims)), sub) {
		t.Fatalf("SET header %v claims %v, want ES256 secevent+jwt for https://as.crm.example naming %s", header, claims, sub)
	}
	if _, ok := claims["events"].(map[string]any)["https://schemas.openid.net/secevent/caep/event-type/session-revoked"]; !ok {
		t.Fatalf("SET events %v, want CAEP session-revoked", claims["events"])
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
