package idp_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/idp"
)

// TestStores_StepUpsAndRevocationsSweptWithoutUse: a step-up refusal and
// a revocation pushed to an MCP server are remembered, and /metrics counts
// them; once they can matter no more (the SSO sessions of the login ended,
// the second passed) the sweeper forgets them, though no exchange and no
// sign-in comes. Until 2026-12-06 they were forgotten only when their set
// was full, and /metrics did not show them.
func TestStores_StepUpsAndRevocationsSweptWithoutUse(t *testing.T) {
	clock := idp.NewClock(nil)
	clock.Set(time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC))
	clock.Freeze()
	p := startIdP(t, conformanceConfig(t), func(o *idp.Options) { o.Clock, o.SweepInterval = clock, 5*time.Millisecond })
	tokens := newBrowser(p).codeTokens(t)
	clock.Advance(6 * time.Minute) // the vault's max_auth_age is 5m
	form := b(tokens["id_token"].(string), set("audience", "https://as.vault.example"), set("resource", "https://mcp.vault.example/mcp"), set("scope", "vault.read"))
	if resp, body := p.postToken(t, form, basic("mcp-client", "s1")); resp.StatusCode != http.StatusBadRequest || body["error"] != "insufficient_user_authentication" {
		t.Fatalf("the 6-minute-old login: %d %v; want 400 insufficient_user_authentication", resp.StatusCode, body)
	}
	p.Server.NoteRevocation("u-alice", "https://as.vault.example", clock.Now())
	series := []string{`xaa_idp_store_entries{store="step_ups"}`, `xaa_idp_store_entries{store="revocation_seconds"}`}
	m := scrape(t, p.URL)
	for _, s := range series {
		if n, ok := m[s]; !ok || n != 1 {
			t.Errorf("%s = %v (published: %v), want 1", s, n, ok)
		}
	}
	clock.Advance(13 * time.Hour)
	deadline := time.Now().Add(30 * time.Second)
	for _, s := range series {
		for scrape(t, p.URL)[s] != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%s = %v after the sweeps, want 0", s, scrape(t, p.URL)[s])
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
