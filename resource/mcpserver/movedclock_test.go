package mcpserver_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestMCPServer_ATokenLiveOnItsClockIsServedWhateverTheWallClockSays: the
// MCP server judges a token's exp on its Now, the demo's IdP clock, which
// an admin may move back (PUT /admin/api/clock, serve --clock 1971-...)
// or freeze. The SDK's RequireBearerToken checked the TokenInfo's
// Expiration a second time against time.Now, so every token its verifier
// took under a clock moved back by more than the token's lifetime was
// refused with a plain-text "token expired" 401, no error code, and a
// client had no way to get one it would take.
func TestMCPServer_ATokenLiveOnItsClockIsServedWhateverTheWallClockSays(t *testing.T) {
	for _, moved := range []time.Duration{-48 * time.Hour, -366 * 24 * time.Hour} {
		e := newEnv(t)
		e.clock.mu.Lock()
		e.clock.t = e.clock.t.Add(moved)
		e.clock.mu.Unlock()
		r := e.callTool(t, "whoami", "Bearer "+e.accessToken("issues.read"))
		if r.status != http.StatusOK || !strings.Contains(r.body, alice) {
			t.Errorf("a token live for an hour on a clock moved %s: HTTP %d %q, want 200", moved, r.status, r.body)
		}
	}
}
