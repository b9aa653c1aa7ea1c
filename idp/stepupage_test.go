package idp_test

import (
	"strings"
	"testing"
	"time"
)

// TestExchange_AStepUpRefusalSaysHowOldTheLoginWas: the description of
// insufficient_user_authentication named the max_auth_age alone, so a
// client whose login was minutes old, refused because an admin had moved
// the IdP's clock ahead, could not tell why; the audit's reason said the
// login's age, the client's answer did not. It says it, and on which
// clock.
func TestExchange_AStepUpRefusalSaysHowOldTheLoginWas(t *testing.T) {
	p := startConformanceIdP(t)
	p.Clock().Freeze()
	login := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	p.Clock().Set(login)
	tokens := newBrowser(p).codeTokens(t)
	p.Clock().Set(login.Add(30 * time.Minute))
	form := b(tokens["id_token"].(string), set("audience", vaultAS), set("resource", vaultMCP), set("scope", "vault.read"))
	resp, body := p.postToken(t, form, basic("mcp-client", "s1"))
	d, _ := body["error_description"].(string)
	if resp.StatusCode != 400 || body["error"] != "insufficient_user_authentication" ||
		!strings.Contains(d, "requires a login within the last 5m, and the login was 30m ago on the IdP's clock") {
		t.Errorf("a login 30m old for max_auth_age 5m: %d %v %q, want insufficient_user_authentication saying the login was 30m ago on the IdP's clock", resp.StatusCode, body["error"], d)
	}
}
