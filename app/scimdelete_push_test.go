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

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestPush_SCIMDeleteRevokes: a SCIM DELETE of a user that an access
// entry names (bob, whose request was approved), and of a group that
// another entry names (carol's), was refused 400; both kept the server.
// The deletions now go through, and each user's access is pushed as
// revoked.
func TestPush_SCIMDeleteRevokes(t *testing.T) {
	got := make(chan string, 10)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- string(b)
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(rcv.Close)
	yaml := strings.Replace(subChangeYAML, "  - {username: bob, password: bob, sub: u-bob}\n",
		"  - {username: bob, password: bob, sub: u-bob}\n  - {username: carol, password: carol, sub: u-carol, groups: [eng]}\ngroups:\n  - {name: eng}\n", 1)
	yaml = strings.Replace(yaml, "      - {users: [bob], scopes: [chat.read]}\n", "      - {users: [bob], scopes: [chat.read]}\n      - {groups: [eng], scopes: [chat.read]}\n", 1)
	store, err := policy.NewStore([]byte(strings.Replace(yaml, "RECEIVER", rcv.URL, 1)), "del.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ts, _ := startPushing(t, store, 0)
	for _, c := range []struct{ path, sub string }{{"/Users/u-bob", "u-bob"}, {"/Groups/eng", "u-carol"}} {
		resp, body := send(t, ts, http.MethodDelete, "/admin/api/scim/v2"+c.path, ts.Listener.Addr().String(), nil,
			"Authorization", basic("alice", "alice"))
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("DELETE %s: %s %s", c.path, resp.Status, body)
		}
		select {
		case set := <-got:
			payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(set, ".")[1])
			var claims struct {
				SubID struct{ Sub string } `json:"sub_id"`
			}
			_ = json.Unmarshal(payload, &claims)
			if claims.SubID.Sub != c.sub {
				t.Errorf("SET after DELETE %s: %s, want one for %s", c.path, payload, c.sub)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no SET for %s after DELETE %s", c.sub, c.path)
		}
	}
}
