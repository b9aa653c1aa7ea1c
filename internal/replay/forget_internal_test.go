package replay

import (
	"fmt"
	"testing"
	"time"
)

// TestForget_QueueStaysBounded: every Use that a Forget undoes leaves its
// entry in the expiry queue until that entry's time. A caller that
// records one use in two caches undoes the first each time the second
// refuses it, which a client can make happen at will (the demo
// authorization server with a frozen clock keeps a redeemed ID-JAG's jti
// on that clock forever, and on the wall clock only for its lifetime:
// each replay of it is recorded, then forgotten). The queue must stay
// within a bound of the live entries, not grow with every request.
func TestForget_QueueStaysBounded(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	c := New(100)
	until := t0.Add(5 * time.Minute)
	if err := c.Use("live", until, t0); err != nil {
		t.Fatal(err)
	}
	for i := range 50_000 {
		key := fmt.Sprintf("replayed-%d", i%7)
		if err := c.Use(key, until, t0); err != nil {
			t.Fatal(err)
		}
		c.Forget(key, until)
	}
	if n := len(c.queue); n > 2*minShrink {
		t.Errorf("the expiry queue holds %d entries for %d live ones", n, len(c.expires))
	}
	if err := c.Use("live", until, t0); err == nil {
		t.Error("the live entry was lost")
	}
	c.Purge(until)
	if err := c.Use("live", until.Add(time.Minute), until); err != nil {
		t.Errorf("the live entry did not expire: %v", err)
	}
}
