package app_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestExpiredAccess_EachEntryAuditedOnce: docs/configuration.md promises
// one access_request event with outcome expired per expired entry. Two
// entries of one server that name the same users and end at the same
// instant, but give other scopes (two approvals of bob's requests for
// chat.read and chat.write in one second, for one duration), were taken
// for one: the second was never audited. The periodic look is due at
// once and again at every tick here; each entry gets its event, once.
func TestExpiredAccess_EachEntryAuditedOnce(t *testing.T) {
	yaml := strings.NewReplacer(
		"scopes: [chat.read]\n", "scopes: [chat.read, chat.write]\n",
		`      - {users: [bob], scopes: [chat.read], expires: "2020-01-01T00:00:00Z"}`,
		`      - {users: [bob], scopes: [chat.read], expires: "2020-01-01T00:00:00Z"}
      - {users: [bob], scopes: [chat.write], expires: "2020-01-01T00:00:00Z"}
      - {users: [bob], scopes: [chat.write], clients: [mcp-client], expires: "2020-01-01T00:00:00Z"}`,
		"users:\n", "users:\n  - {username: alice, password: alice, admin: true}\n",
	).Replace(expiryYAML)
	store, err := policy.NewStore([]byte(yaml), "expiry.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ts, _ := startPushing(t, store, 10*time.Millisecond)
	expired := func() map[string]int {
		t.Helper()
		resp, body := send(t, ts, http.MethodGet, "/admin/api/audit?type=access_request&outcome=expired", ts.Listener.Addr().String(), nil,
			"Authorization", basic("alice", "alice"))
		var evs []struct{ Rule string }
		if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &evs) != nil {
			t.Fatalf("GET audit: %s %s", resp.Status, body)
		}
		rules := map[string]int{}
		for _, ev := range evs {
			rules[ev.Rule]++
		}
		return rules
	}
	// The minute only guards against a hang: 5 s, on a loaded machine,
	// could end before the look that audits the third entry.
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline) && len(expired()) < 3; {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // ten more looks: none writes another
	if rules := expired(); len(rules) != 3 || rules["chat access[0]"] != 1 || rules["chat access[1]"] != 1 || rules["chat access[2]"] != 1 {
		t.Errorf("access_request expired events by rule: %v, want one for each of chat access[0], [1] and [2]", rules)
	}
}
