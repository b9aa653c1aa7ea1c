package cimd

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// wantCached fails t unless c holds exactly the live client_ids want.
func wantCached(t *testing.T, c *boundedCache, now time.Time, want ...string) {
	t.Helper()
	if len(c.entries) != len(want) {
		t.Errorf("%d entries, want %d (%v)", len(c.entries), len(want), want)
	}
	for _, id := range want {
		if _, ok := c.get(id, now); !ok {
			t.Errorf("%s was dropped", id)
		}
	}
}

// TestBoundedCache_FullDropsTheExpiredThenTheSoonest: a put into a full
// cache drops the expired entries, then the one closest to expiry, by the
// expiry each entry has now (one stored again with another expiry moves),
// and no more than it must.
func TestBoundedCache_FullDropsTheExpiredThenTheSoonest(t *testing.T) {
	now := time.Unix(1e9, 0)
	at := func(d time.Duration) entry { return entry{expires: now.Add(d)} }
	c := newBoundedCache(3, 0)
	c.put("a", at(time.Minute), now)
	c.put("b", at(2*time.Minute), now)
	c.put("c", at(3*time.Minute), now)
	c.put("a", at(4*time.Minute), now) // a moves behind c
	c.put("d", at(5*time.Minute), now) // b goes
	wantCached(t, c, now, "a", "c", "d")
	c.put("d", at(30*time.Second), now) // d moves first
	c.put("e", at(6*time.Minute), now)  // d goes
	wantCached(t, c, now, "a", "c", "e")
	now = now.Add(200 * time.Second) // c has expired, a has not
	c.put("f", at(time.Minute), now)
	wantCached(t, c, now, "a", "e", "f")
}

// TestBoundedCache_BytesDropTheSoonestUntilThereIsRoom: a large failure
// drops as many of the entries closest to expiry as its bytes need.
func TestBoundedCache_BytesDropTheSoonestUntilThereIsRoom(t *testing.T) {
	now := time.Unix(1e9, 0)
	fail := func(d time.Duration, n int) entry {
		return entry{err: errors.New(strings.Repeat("x", n)), expires: now.Add(d)}
	}
	c := newBoundedCache(10, 100)
	c.put("a", fail(3*time.Minute, 19), now) // 20 bytes each
	c.put("b", fail(1*time.Minute, 19), now)
	c.put("c", fail(4*time.Minute, 19), now)
	c.put("d", fail(2*time.Minute, 19), now)
	c.put("e", fail(5*time.Minute, 59), now) // 60 bytes: b and d go
	wantCached(t, c, now, "a", "c", "e")
	if c.bytes != 100 {
		t.Errorf("%d bytes counted, want 100", c.bytes)
	}
}

// TestBoundedCache_OrderStaysBounded: URLs stored again and again, with
// new expiries, leave the order of expiry no larger than the bound allows.
func TestBoundedCache_OrderStaysBounded(t *testing.T) {
	now := time.Unix(1e9, 0)
	c := newBoundedCache(10, 0)
	for i := range 100_000 {
		c.put(strconv.Itoa(i%10), entry{expires: now.Add(time.Hour + time.Duration(i))}, now)
	}
	if n := len(c.byExp); n > 2*c.size+minRebuild {
		t.Errorf("the order of expiry holds %d items for %d entries", n, len(c.entries))
	}
}

// BenchmarkBoundedCache_PutFull is a fetched client_id stored while the
// cache holds its bound of live entries: one must go to make room.
func BenchmarkBoundedCache_PutFull(b *testing.B) {
	now := time.Unix(1e9, 0)
	c := newBoundedCache(DefaultCacheSize, 0)
	i := 0
	put := func() {
		c.put("https://client.example/"+strconv.Itoa(i), entry{expires: now.Add(time.Hour + time.Duration(i)*time.Millisecond)}, now)
		i++
	}
	for range DefaultCacheSize {
		put()
	}
	for b.Loop() {
		put()
	}
	if len(c.entries) != DefaultCacheSize {
		b.Fatalf("%d entries, want %d", len(c.entries), DefaultCacheSize)
	}
}

// TestBoundedCache_SweepGivesBackABurst: once a sweep leaves a quarter of
// the most entries the cache held, the order of expiry (and the table)
// shrinks to what is left.
func TestBoundedCache_SweepGivesBackABurst(t *testing.T) {
	now := time.Unix(1e9, 0)
	c := newBoundedCache(1000, 0)
	for i := range 1000 {
		c.put(strconv.Itoa(i), entry{expires: now.Add(time.Minute)}, now)
	}
	c.put("last", entry{expires: now.Add(time.Hour)}, now)
	c.sweep(now.Add(2 * time.Minute))
	wantCached(t, c, now, "last")
	if n := cap(c.byExp); n > 1 {
		t.Errorf("the order of expiry keeps room for %d items after the sweep, want 1", n)
	}
}
