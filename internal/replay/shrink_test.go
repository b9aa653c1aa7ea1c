package replay

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestCache_ShrinksAfterABurst: a Go map keeps the table it grew to, and
// a slice its array, when entries leave them, and the queue's array kept
// the keys popped off its end; so a cache a burst filled held its peak
// for the life of the process. Once a purge leaves a quarter of the most
// it has held, both are copied to their size.
func TestCache_ShrinksAfterABurst(t *testing.T) {
	now := time.Unix(1e9, 0)
	c := New(0)
	const n = 50_000
	before := heapAlloc()
	for i := range n {
		until := now.Add(time.Minute)
		if i%(n/5) == 0 {
			until = now.Add(time.Hour)
		}
		if err := c.Use(fmt.Sprintf("%0128d", i), until, now); err != nil {
			t.Fatal(err)
		}
	}
	full := heapAlloc()
	c.Purge(now.Add(2 * time.Minute))
	after := heapAlloc()
	if c.Len() != 5 {
		t.Fatalf("%d entries after the purge, want 5", c.Len())
	}
	grown := int64(full) - int64(before)
	if kept := int64(after) - int64(before); kept > grown/20 {
		t.Errorf("the purged cache still holds %d KB of the %d KB the burst grew the heap by", kept>>10, grown>>10)
	}
	for i := 0; i < n; i += n / 5 {
		if err := c.Use(fmt.Sprintf("%0128d", i), now.Add(time.Hour), now.Add(2*time.Minute)); err != ErrReplayed {
			t.Errorf("entry %d, still live, after the shrink: %v, want ErrReplayed", i, err)
		}
	}
	runtime.KeepAlive(c)
}
