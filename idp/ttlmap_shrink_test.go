package idp

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

// TestTTLMap_ShrinksAfterABurst: a Go map keeps the table it grew to when
// its entries are deleted, so a store that a burst filled (used codes and
// rotated refresh tokens live 10 min and up to the refresh token lifetime,
// 100,000 of each) held some 13 MB each for the life of the process after
// every entry had expired. Once the sweep finds the map at a quarter of the
// most it has held, it copies it into a table of its size.
func TestTTLMap_ShrinksAfterABurst(t *testing.T) {
	now := time.Unix(1e9, 0)
	m := newTTLMap[string, string](maxTokens, func() time.Time { return now })
	const n = 50_000
	before := heapAlloc()
	for i := range n {
		// Keep five entries past the burst: a map that still holds some.
		exp := now.Add(time.Minute)
		if i%(n/5) == 0 {
			exp = now.Add(time.Hour)
		}
		m.Put(fmt.Sprintf("%064d", i), "grant", exp)
	}
	full := heapAlloc()
	now = now.Add(2 * time.Minute)
	m.Sweep()
	after := heapAlloc()
	if m.Len() != 5 {
		t.Fatalf("%d entries after the sweep, want 5", m.Len())
	}
	grown := int64(full) - int64(before)
	if kept := int64(after) - int64(before); kept > grown/20 {
		t.Errorf("the swept map still holds %d KB of the %d KB the burst grew the heap by", kept>>10, grown>>10)
	}
	for i := 0; i < n; i += n / 5 {
		if _, ok := m.Get(fmt.Sprintf("%064d", i)); !ok {
			t.Errorf("entry %d, still live, was lost by the shrink", i)
		}
	}
	runtime.KeepAlive(m)
}

// TestTTLMap_SweepForgetsTheGroupsOfExpiredEntries: a store that never
// held minShrink entries keeps its table, but not the keys its groupings
// listed for entries gone: a sweep that leaves them the most of what is
// listed makes the lists anew. Before, each grouping of each store kept up
// to minShrink stale keys and their groups (a sid or a user each) once
// every entry had expired: after a soak of two tenants, some 1.6 MB of
// lists for stores holding nothing.
func TestTTLMap_SweepForgetsTheGroupsOfExpiredEntries(t *testing.T) {
	now := time.Unix(1e9, 0)
	m := newTTLMap[string, string](maxTokens, func() time.Time { return now }).groupedBy(func(v string) string { return v })
	for i := range minShrink / 2 {
		m.Put(fmt.Sprintf("k%d", i), fmt.Sprintf("sid%d", i), now.Add(time.Minute))
	}
	m.Put("live", "sid-live", now.Add(time.Hour))
	now = now.Add(2 * time.Minute)
	m.Sweep()
	g := m.groupings[0]
	if m.Len() != 1 || g.listed != 1 || len(g.lists) != 1 || len(g.lists["sid-live"]) != 1 {
		t.Errorf("after the sweep: %d entries, %d keys listed in %d groups; want 1, 1, 1", m.Len(), g.listed, len(g.lists))
	}
	if got := m.DeleteGroup("sid-live"); got != 1 {
		t.Errorf("DeleteGroup of the live entry's group removed %d, want 1", got)
	}
}
