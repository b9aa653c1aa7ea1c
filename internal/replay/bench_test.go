package replay_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/replay"
)

// BenchmarkCache_UseFull is a jti recorded while the cache holds its bound
// of entries, the oldest of which has just expired: each Use purges one
// and records one, as a load that keeps the cache full does.
func BenchmarkCache_UseFull(b *testing.B) {
	now := t0
	c := replay.New(replay.DefaultSize)
	i := 0
	use := func() {
		if err := c.Use(strconv.Itoa(i), now.Add(time.Duration(replay.DefaultSize)*time.Millisecond), now); err != nil {
			b.Fatal(err)
		}
		now = now.Add(time.Millisecond)
		i++
	}
	for range replay.DefaultSize {
		use()
	}
	for b.Loop() {
		use()
	}
	if c.Len() != replay.DefaultSize {
		b.Fatalf("%d entries, want %d", c.Len(), replay.DefaultSize)
	}
}
