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

	"github.com/xaa-idp/xaa-idp/internal/secevent"
	"github.com/xaa-idp/xaa-idp/policy"
)

// cimdPushYAML: bob reaches chat through a metadata document client only
// (the product contract, section 7, lets a metadata document client be
// named in clients: and in an access entry's clients:); chat takes revocation pushes at RECEIVER.
const cimdPushYAML = `
users:
  - {username: alice, password: alice, admin: true}
  - {username: bob, password: bob, sub: u-bob}
mcp_servers:
  - id: chat
    issuer: https://as.chat.example
    resources: [https://mcp.chat.example/mcp]
    scopes: [chat.read]
    events_endpoint: RECEIVER/events
    clients: {"http://127.0.0.1:9/client.json": cimd-at-chat}
    access:
      - {users: [bob], scopes: [chat.read], clients: ["http://127.0.0.1:9/client.json"]}
`

// TestPush_MetadataDocumentClientAccessRevoked: bob's only way to chat is a
// metadata document client. Removing his entry, or disabling him, must
// push a SET as for a configured client (the contract's section 10); the
// pusher took a client_id that no clients: entry defines for one that
// cannot exchange, found bob never reached chat, and sent nothing, so
// chat's authorization server kept his access tokens.
func TestPush_MetadataDocumentClientAccessRevoked(t *testing.T) {
	for _, c := range []struct {
		name, path, body, event string
	}{
		{"access removed", "/admin/api/servers/chat/access", `[]`, secevent.SessionRevoked},
		{"user disabled", "/admin/api/users/bob", `{"username":"bob","sub":"u-bob","disabled":true}`, secevent.AccountDisabled},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := make(chan string, 10)
			rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				got <- string(b)
				w.WriteHeader(http.StatusAccepted)
			}))
			t.Cleanup(rcv.Close)
			store, err := policy.NewStore([]byte(strings.Replace(cimdPushYAML, "RECEIVER", rcv.URL, 1)), "cimd.yaml")
			if err != nil {
				t.Fatal(err)
			}
			ts, _ := startPushing(t, store, 0)
			resp, body := send(t, ts, http.MethodPut, c.path, ts.Listener.Addr().String(), strings.NewReader(c.body),
				"Authorization", basic("alice", "alice"), "Content-Type", "application/json")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("PUT %s: %s %s", c.path, resp.Status, body)
			}
			select {
			case set := <-got:
				payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(set, ".")[1])
				var claims struct {
					SubID  struct{ Sub string } `json:"sub_id"`
					Events map[string]json.RawMessage
				}
				_ = json.Unmarshal(payload, &claims)
				if claims.SubID.Sub != "u-bob" || claims.Events[c.event] == nil {
					t.Errorf("SET claims %s, want %s for u-bob", payload, c.event)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("no SET for bob, who reached chat through a metadata document client")
			}
		})
	}
}
