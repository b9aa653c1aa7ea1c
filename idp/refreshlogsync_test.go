package idp_test

import (
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/xaa-idp/xaa-idp/idp"
)

// TestRefreshLog_RevocationSyncsWithoutHoldingTheGrants: revoking a
// refresh token (and with it its grant), as a reused one or a replayed
// code does, syncs refresh-tokens.jsonl, and the revoked login's record
// in ended-logins.jsonl, without holding the lock every code redemption
// and refresh of every user takes: on a slow disk they all waited for
// that fsync, as end_session already does not make them (the ended
// login's until 2026-12-06).
func TestRefreshLog_RevocationSyncsWithoutHoldingTheGrants(t *testing.T) {
	dir := t.TempDir()
	p := startIdP(t, conformanceConfig(t), func(o *idp.Options) { o.StateDir = dir })
	rt := newBrowser(p).codeTokens(t)["refresh_token"].(string)
	var mu sync.Mutex
	records, held := 0, 0
	for file, on := range map[string]func(*idp.Server, func(bool)){"refresh-tokens.jsonl": idp.OnRefreshRecord, "ended-logins.jsonl": idp.OnEndedRecord} {
		on(p.Server, func(free bool) {
			mu.Lock()
			defer mu.Unlock()
			records++
			if !free {
				held++
				t.Errorf("an append to %s held the grants' lock across its sync", file)
			}
		})
	}
	postJSON(t, p.URL+"/revoke", url.Values{"token": {rt}}, basicS1, http.StatusOK)
	mu.Lock()
	defer mu.Unlock()
	if records == 0 {
		t.Fatal("the revocation recorded nothing")
	}
	if held != 0 {
		t.Errorf("%d of the revocation's %d appends held the grants' lock across their sync", held, records)
	}
	resp, body := p.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basicS1)
	if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("the revoked refresh token: %d %v, want 400 invalid_grant", resp.StatusCode, body)
	}
}
