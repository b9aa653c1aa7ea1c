package app_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/app"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/internal/secevent"
	"github.com/xaa-idp/xaa-idp/policy"
	"github.com/xaa-idp/xaa-idp/push"
)

// subChangeYAML: bob reaches chat, which takes revocation pushes at
// RECEIVER.
const subChangeYAML = `
users:
  - {username: alice, password: alice, admin: true}
  - {username: bob, password: bob, sub: u-bob}
clients:
  - {client_id: mcp-client, client_secret: s1, redirect_uris: ["http://127.0.0.1/callback"], token_exchange: true}
mcp_servers:
  - id: chat
    issuer: https://as.chat.example
    resources: [https://mcp.chat.example/mcp]
    scopes: [chat.read]
    events_endpoint: RECEIVER/events
    clients: {mcp-client: mcp-client-at-chat}
    access:
      - {users: [bob], scopes: [chat.read]}
`

// TestPush_SubChangedRevokesTheOldSubject: an admin gives bob another sub
// through the admin API. The IdP no longer knows u-bob (its ID tokens get
// no ID-JAG), but the authorization servers revoke by sub: unless the old
// subject's access is pushed as revoked, the access tokens they issued to
// u-bob live on until they expire, as those of a removed user would.
func TestPush_SubChangedRevokesTheOldSubject(t *testing.T) {
	got := make(chan string, 10)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- string(b)
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(rcv.Close)
	store, err := policy.NewStore([]byte(strings.Replace(subChangeYAML, "RECEIVER", rcv.URL, 1)), "sub.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ts, _ := startPushing(t, store, 0)

	resp, body := send(t, ts, http.MethodPut, "/admin/api/users/bob", ts.Listener.Addr().String(),
		strings.NewReader(`{"username":"bob","sub":"u-bob-2"}`),
		"Authorization", basic("alice", "alice"), "Content-Type", "application/json")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT user: %s %s", resp.Status, body)
	}
	select {
	case set := <-got:
		payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(set, ".")[1])
		var claims struct {
			SubID  struct{ Sub string } `json:"sub_id"`
			Events map[string]json.RawMessage
		}
		_ = json.Unmarshal(payload, &claims)
		if claims.SubID.Sub != "u-bob" || claims.Events[secevent.SessionRevoked] == nil {
			t.Errorf("SET claims %s, want session-revoked for the old sub u-bob", payload)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no SET for u-bob after bob's sub changed: the old subject's tokens stay valid at chat")
	}
}

// startPushing starts the product on store's configuration, with the admin
// API and a Pusher that looks for expiry every checkEvery (0: its
// default), and returns its server and IdP.
func startPushing(t *testing.T, store *policy.Store, checkEvery time.Duration) (*httptest.Server, *idp.Server) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	issuer := "http://" + ts.Listener.Addr().String()
	srv, err := idp.New(idp.Options{Config: store.Config(), Issuer: issuer})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	p, err := push.New(push.Options{Issuer: issuer, Signer: srv, Audit: srv.Audit(), Config: store.Config(), Now: srv.Now, CheckEvery: checkEvery})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	ts.Config.Handler = app.New(app.Options{IdP: srv, Store: store, Push: p})
	ts.Start()
	t.Cleanup(ts.Close)
	return ts, srv
}
