package authserver_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// TestReplayFile_RevocationOutlivesAClockMovedAhead: a user revoked by a
// pushed SET was kept in the replay file until the revocation's expiry on
// the IdP-following clock alone. Moving that clock past it, a compaction
// and a restart dropped the record, and with the clock back the revoked
// user's ID-JAGs issued before the revocation were accepted again. It is
// kept, as a jti is, until the wall clock has passed its expiry too.
func TestReplayFile_RevocationOutlivesAClockMovedAhead(t *testing.T) {
	file := filepath.Join(t.TempDir(), "replay.jsonl")
	e := newEnv(t, func(c *authserver.Config) {
		c.Wall = time.Now // only the server's clock moves
		c.ReplayFile = file
	})
	jag := e.jag(t, nil) // alice's, before the revocation
	e.pushRevocation(t)
	refused := func(when string) {
		t.Helper()
		if r := e.post(t, grant(jag)); r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" || !strings.Contains(r.str("error_description"), "revoked") {
			t.Errorf("the revoked user's ID-JAG %s: HTTP %d %s, want 400 invalid_grant, revoked", when, r.status, r.raw)
		}
	}
	refused("after the SET")

	// Past the revocation's expiry on the IdP's clock (an access token's
	// lifetime and a little), not on the wall clock.
	e.clock.Advance(3 * time.Hour)
	if err := authserver.CompactReplayFile(e.as); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(file); err != nil || !strings.Contains(string(data), `"kind":"revoked"`) {
		t.Errorf("the replay file after the compaction: %v\n%s\nwant the revoked record kept", err, data)
	}
	e.restart(t)
	e.clock.Advance(-3 * time.Hour)
	refused("after the clock went ahead, a compaction, a restart and the clock back")
	e.restart(t)
	refused("after another restart")
}

// TestReplayFile_FloorOutlivesAClockMovedAhead: the floor a start raises
// after losing a line was dropped, like a revocation, once the IdP's
// clock passed its expiry, so that a compaction and a restart with the
// clock moved back accepted an ID-JAG made before it. It is kept on both
// clocks.
func TestReplayFile_FloorOutlivesAClockMovedAhead(t *testing.T) {
	file := filepath.Join(t.TempDir(), "replay.jsonl")
	e := newEnv(t, func(c *authserver.Config) {
		c.Wall = time.Now // only the server's clock moves
		c.ReplayFile = file
	})
	// Two made before the floor: a refused one's jti is recorded, so
	// each is sent once.
	first, jag := e.jag(t, nil), e.jag(t, nil)
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"kind":"jti","key":"abc`)
	f.Close()
	e.restart(t) // loses a line: raises the floor
	refused := func(jag, when string) {
		t.Helper()
		if r := e.post(t, grant(jag)); r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" {
			t.Errorf("an ID-JAG made before the floor %s: HTTP %d %s, want 400 invalid_grant", when, r.status, r.raw)
		}
	}
	refused(first, "after the start that lost a line")
	e.clock.Advance(48 * time.Hour)
	if err := authserver.CompactReplayFile(e.as); err != nil {
		t.Fatal(err)
	}
	e.restart(t)
	e.clock.Advance(-48 * time.Hour)
	e.restart(t)
	refused(jag, "after the clock went ahead, a compaction, restarts and the clock back")
}
