package idp_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestTokenExchange_ClientNotEnabledSaysWhichSwitch: a client registered
// with token_exchange: false is refused unauthorized_client, as before,
// with a description that names the switch an administrator sets; it
// said only that the client "is not enabled for token exchange (ID-JAG)".
func TestTokenExchange_ClientNotEnabledSaysWhichSwitch(t *testing.T) {
	f := newFixture(t, conformanceConfig(t))
	other := f.loginAs(t, "other-client", "s2", "alice", "alice-pw")
	resp, body := f.exchange(t, b(other.IDToken()), basic("other-client", "s2"))
	desc, _ := body["error_description"].(string)
	if resp.StatusCode != http.StatusBadRequest || body["error"] != "unauthorized_client" || !strings.Contains(desc, "token_exchange: true") {
		t.Errorf("%d %v; want 400 unauthorized_client naming token_exchange: true", resp.StatusCode, body)
	}
}
