package replay_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/replay"
)

var t0 = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

func TestUse_SecondUseWhileLiveIsReplayed(t *testing.T) {
	c := replay.New(10)
	if err := c.Use("a", t0.Add(time.Minute), t0); err != nil {
		t.Fatal(err)
	}
	if err := c.Use("a", t0.Add(time.Minute), t0.Add(time.Second)); !errors.Is(err, replay.ErrReplayed) {
		t.Fatalf("second use: %v, want ErrReplayed", err)
	}
	// After it expires the identifier is forgotten: the token it belongs
	// to is refused on its own expiry by then.
	if err := c.Use("a", t0.Add(3*time.Minute), t0.Add(2*time.Minute)); err != nil {
		t.Fatalf("use after expiry: %v", err)
	}
}

func TestUse_FullCacheRefusesInsteadOfEvicting(t *testing.T) {
	c := replay.New(2)
	_ = c.Use("a", t0.Add(time.Minute), t0)
	_ = c.Use("b", t0.Add(2*time.Minute), t0)
	err := c.Use("c", t0.Add(time.Minute), t0)
	var full *replay.FullError
	if !errors.As(err, &full) || full.Size != 2 || full.RetryAfter != time.Minute {
		t.Fatalf("full cache: %v, want *FullError{2, 1m}", err)
	}
	// The live entries survived the refusal.
	if err := c.Use("a", t0.Add(time.Minute), t0); !errors.Is(err, replay.ErrReplayed) {
		t.Fatalf("a after refusal: %v, want ErrReplayed", err)
	}
	// Once one expires there is room again.
	if err := c.Use("c", t0.Add(5*time.Minute), t0.Add(90*time.Second)); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
}

func TestPurge_ReturnsToEmpty(t *testing.T) {
	c := replay.New(0)
	for i := range 1000 {
		_ = c.Use(string(rune('a'+i%26))+time.Duration(i).String(), t0.Add(time.Minute), t0)
	}
	if c.Len() != 1000 {
		t.Fatalf("Len = %d", c.Len())
	}
	c.Purge(t0.Add(time.Minute))
	if c.Len() != 0 {
		t.Fatalf("Len after purge = %d, want 0", c.Len())
	}
}

func TestUse_ConcurrentCallersClaimOnce(t *testing.T) {
	c := replay.New(0)
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if c.Use("jti", t0.Add(time.Minute), t0) == nil {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d callers used the same jti, want 1", wins.Load())
	}
}

// TestCache_Forget undoes the Use it names, and only that one: a caller
// that records one use in two caches undoes the first when the second
// refuses it.
func TestCache_Forget(t *testing.T) {
	c := replay.New(1)
	until := t0.Add(time.Minute)
	if err := c.Use("a", until, t0); err != nil {
		t.Fatal(err)
	}
	c.Forget("a", until.Add(time.Second)) // another use's time: kept
	if err := c.Use("a", until, t0); !errors.Is(err, replay.ErrReplayed) {
		t.Fatalf("after a Forget of another time: %v, want ErrReplayed", err)
	}
	c.Forget("a", until)
	if err := c.Use("b", until, t0); err != nil {
		t.Fatalf("after Forget, the slot is free: %v", err)
	}
	c.Purge(until) // the forgotten entry's queue slot goes without harm
	if err := c.Use("a", until.Add(time.Minute), until); err != nil {
		t.Fatal(err)
	}
}

// TestUseShared_OwnerShareFollowsExpiry: once the cache is half full, an
// owner holding its share is refused while other owners are recorded; its
// entries that expire stop counting, so it is recorded again once it holds
// less than its share, however full the cache is of others'.
func TestUseShared_OwnerShareFollowsExpiry(t *testing.T) {
	c := replay.New(100)
	now := time.Now()
	soon, later := now.Add(time.Minute), now.Add(time.Hour)
	for i := range 10 {
		if err := c.UseShared(fmt.Sprint("a", i), "alice", soon, now); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 40 {
		if err := c.UseShared(fmt.Sprint("b", i), "bob"+fmt.Sprint(i%5), later, now); err != nil {
			t.Fatal(err)
		}
	}
	var full *replay.FullError
	if err := c.UseShared("a-more", "alice", soon, now); !errors.As(err, &full) || full.Owner != "alice" {
		t.Fatalf("alice at her share of a half-full cache: %v, want a FullError for alice", err)
	}
	if err := c.UseShared("b-more", "bob0", later, now); err != nil {
		t.Fatalf("bob0 below his share: %v", err)
	}
	now = soon.Add(time.Second) // alice's entries expire
	for i := range 10 {
		if err := c.UseShared(fmt.Sprint("c", i), fmt.Sprint("carol", i), later, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.UseShared("a-again", "alice", later, now); err != nil {
		t.Fatalf("alice once her entries expired, the cache half full of others': %v", err)
	}
}
