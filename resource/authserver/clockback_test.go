package authserver_test

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// TestReplay_AClockMovedAheadAndBackKeepsARedeemedIDJAGRedeemed: the demo
// authorization server judges ID-JAGs on the IdP's clock, which an admin
// can move. Moving it past an ID-JAG's exp purged its jti (on the next
// redemption, or the replay file's rewrite at a restart); moving it back
// then made the redeemed ID-JAG redeemable again. A jti is kept until
// exp + skew has passed on the wall clock as well as on the server's.
func TestReplay_AClockMovedAheadAndBackKeepsARedeemedIDJAGRedeemed(t *testing.T) {
	for _, withFile := range []bool{false, true} {
		name := "in memory"
		if withFile {
			name = "across a restart"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, func(c *authserver.Config) {
				c.Wall = time.Now // only the server's clock moves
				if withFile {
					c.ReplayFile = filepath.Join(t.TempDir(), "replay.jsonl")
				}
			})
			jag := e.jag(t, nil)
			if r := e.post(t, grant(jag)); r.status != http.StatusOK {
				t.Fatalf("first redemption: HTTP %d %s", r.status, r.raw)
			}
			e.clock.Advance(time.Hour)
			// Another redemption an hour later purges what expired by
			// the clock.
			if r := e.post(t, grant(e.jag(t, nil))); r.status != http.StatusOK {
				t.Fatalf("an ID-JAG an hour later: HTTP %d %s", r.status, r.raw)
			}
			if withFile {
				e.restart(t)
			}
			e.clock.Advance(-time.Hour)
			r := e.post(t, grant(jag))
			if r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" || !strings.Contains(r.str("error_description"), "already redeemed") {
				t.Errorf("the ID-JAG redeemed again after the clock went ahead and back: HTTP %d %q %q, want invalid_grant already redeemed", r.status, r.str("error"), r.str("error_description"))
			}
		})
	}
}
