package admin_test

import (
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestAdminAPI_ClockChangeWithoutItsEventIsUndone: a PUT /admin/api/clock
// whose admin_change cannot be written (a full disk) answers 500 and
// leaves the clock as it was, as every other admin change is not made
// without its event. Before, the clock moved and the answer said so: a
// change of every token's iat and exp that the audit log never saw.
func TestAdminAPI_ClockChangeWithoutItsEventIsUndone(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip(err) // Linux's always-full device
	}
	store, err := policy.NewStore([]byte(editConfig), "edit.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := serveStore(t, store, "/dev/full")
	for _, body := range []string{`{"advance": "1h"}`, `{"frozen": true}`, `{"time": "2030-01-01T00:00:00Z", "frozen": true}`} {
		resp, b := p.send(t, http.MethodPut, "/admin/api/clock", "alice", body)
		if resp.StatusCode != http.StatusInternalServerError {
			t.Errorf("PUT %s with a full audit log: %d %s, want 500", body, resp.StatusCode, b)
		}
		c := p.srv.Clock()
		if off := c.Offset(); off < -time.Second || off > time.Second || c.Frozen() {
			t.Errorf("after PUT %s refused: the clock is %v off, frozen %v; want it as it was", body, off, c.Frozen())
		}
	}
}
