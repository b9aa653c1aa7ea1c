package cimd_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/cimd"
)

// TestRefetch_OncePerIntervalPerClient: Refetch fetches a cached client's
// document again and caches what it says now; another Refetch of that
// client within cimd.RefetchInterval fetches nothing, concurrent ones
// share one fetch, and a client not cached is not fetched. A document
// that no longer resolves leaves the cached client in place.
func TestRefetch_OncePerIntervalPerClient(t *testing.T) {
	noGoroutineLeak(t)
	s := newSite(t)
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	r := cimd.New(cimd.DefaultConfig(), &cimd.Options{Now: clock.Now})
	doc := func(name string) map[string]any {
		d := publicDoc(s.URL + "/c.json")
		d["client_name"] = name
		return d
	}
	id := s.publish("/c.json", doc("first"), "max-age=3600")
	if c, ok := refetched(r.Refetch(t.Context(), id, clock.Now())); ok || c != nil {
		t.Fatalf("Refetch of a client not cached: %v %v, want nothing", c, ok)
	}
	if s.requests("/c.json") != 0 {
		t.Fatalf("a client not cached was fetched")
	}
	asked := clock.Now()
	if _, err := r.Resolve(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	s.publish("/c.json", doc("second"), "max-age=3600")
	// Fetched since the caller asked (by its own Resolve): as new as a
	// refetch would get.
	if c, ok := refetched(r.Refetch(t.Context(), id, asked)); ok || c != nil || s.requests("/c.json") != 1 {
		t.Fatalf("Refetch of a document fetched since asked: %v %v, %d requests, want none", c, ok, s.requests("/c.json"))
	}
	clock.Advance(time.Second)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if c, ok := refetched(r.Refetch(t.Context(), id, clock.Now())); ok && c.ClientName != "second" {
				t.Errorf("refetched %q, want second", c.ClientName)
			}
		})
	}
	wg.Wait()
	if n := s.requests("/c.json"); n != 2 {
		t.Errorf("%d requests after concurrent refetches, want 2", n)
	}
	if c, err := r.Resolve(t.Context(), id); err != nil || c.ClientName != "second" {
		t.Errorf("cached after the refetch: %v %v, want second", c, err)
	}
	s.publish("/c.json", doc("third"), "max-age=3600")
	clock.Advance(cimd.RefetchInterval - time.Second)
	if _, ok := refetched(r.Refetch(t.Context(), id, clock.Now())); ok || s.requests("/c.json") != 2 {
		t.Errorf("Refetch within the interval: ok %v, %d requests, want none", ok, s.requests("/c.json"))
	}
	clock.Advance(time.Second)
	if c, ok := refetched(r.Refetch(t.Context(), id, clock.Now())); !ok || c.ClientName != "third" || s.requests("/c.json") != 3 {
		t.Errorf("Refetch after the interval: %v %v, %d requests", c, ok, s.requests("/c.json"))
	}

	// The document breaks: the cached client stays, and the broken one
	// is not fetched again within the interval.
	s.handle("/c.json", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "gone", http.StatusNotFound) })
	clock.Advance(cimd.RefetchInterval)
	if _, ok := refetched(r.Refetch(t.Context(), id, clock.Now())); ok {
		t.Errorf("Refetch of a broken document: ok")
	}
	if c, err := r.Resolve(t.Context(), id); err != nil || c.ClientName != "third" {
		t.Errorf("after a failed refetch: %v %v, want the cached client", c, err)
	}
	if _, ok := refetched(r.Refetch(t.Context(), id, clock.Now())); ok || s.requests("/c.json") != 4 {
		t.Errorf("Refetch again after a failed one: ok %v, %d requests, want 4", ok, s.requests("/c.json"))
	}
	s.waitClosed(t)
}

// refetched is Refetch's result as "fetched or not".
func refetched(c *cimd.Client, _ error) (*cimd.Client, bool) { return c, c != nil }
