package cimd_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/cimd"
)

// TestResolve_RemembersFailuresForAWhile: a URL whose document could not
// be fetched or was refused is not fetched again for FailureCacheTTL: each
// request naming it gets the same error without a fetch, so that one
// request cannot make the IdP fetch once (up to 5 s) again and again. After
// that the URL is fetched again, and a document fixed meanwhile resolves.
func TestResolve_RemembersFailuresForAWhile(t *testing.T) {
	s := newSite(t)
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	r := cimd.New(cimd.DefaultConfig(), &cimd.Options{Now: clock.Now})
	missing := s.URL + "/missing.json" // 404
	broken := s.publish("/broken.json", map[string]any{"client_id": s.URL + "/broken.json"}, "")
	for _, tt := range []struct {
		id, path string
		kind     error
		fix      func()
	}{
		{missing, "/missing.json", cimd.ErrFetch, func() { s.publish("/missing.json", publicDoc(missing), "") }},
		{broken, "/broken.json", cimd.ErrInvalidDocument, func() { s.publish("/broken.json", publicDoc(broken), "") }},
	} {
		t.Run(tt.path, func(t *testing.T) {
			_, first := r.Resolve(t.Context(), tt.id)
			if !errors.Is(first, tt.kind) {
				t.Fatalf("first resolution: %v, want %v", first, tt.kind)
			}
			clock.Advance(cimd.FailureCacheTTL - time.Second)
			for range 3 {
				if _, err := r.Resolve(t.Context(), tt.id); !errors.Is(err, tt.kind) || err.Error() != first.Error() {
					t.Fatalf("within the failure's time: %v, want the first error again: %v", err, first)
				}
			}
			if n := s.requests(tt.path); n != 1 {
				t.Fatalf("%d fetches for 4 resolutions within %s, want 1", n, cimd.FailureCacheTTL)
			}
			tt.fix()
			clock.Advance(time.Second)
			c, err := r.Resolve(t.Context(), tt.id)
			if err != nil || c.ClientID != tt.id {
				t.Fatalf("after %s, with the document fixed: %+v, %v", cimd.FailureCacheTTL, c, err)
			}
			if n := s.requests(tt.path); n != 2 {
				t.Errorf("%d fetches, want 2", n)
			}
		})
	}
}

// TestResolve_FailureMemoryIsBounded: with room for two failures, a third
// forgets the one closest to expiry, which is fetched again.
func TestResolve_FailureMemoryIsBounded(t *testing.T) {
	s := newSite(t)
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	r := cimd.New(cimd.DefaultConfig(), &cimd.Options{Now: clock.Now, FailureCacheSize: 2})
	ids := make([]string, 3)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s/gone%d.json", s.URL, i)
	}
	for _, i := range []int{0, 1, 2, 1, 2, 0} {
		clock.Advance(time.Second)
		if _, err := r.Resolve(t.Context(), ids[i]); !errors.Is(err, cimd.ErrFetch) {
			t.Fatal(err)
		}
	}
	if got := [3]int{s.requests("/gone0.json"), s.requests("/gone1.json"), s.requests("/gone2.json")}; got != [3]int{2, 1, 1} {
		t.Errorf("fetches of gone0, gone1, gone2 = %v, want [2 1 1]: gone0, the soonest to expire, is forgotten for gone2", got)
	}
}

// TestResolve_SharesConcurrentFailingFetches: many resolutions of one URL
// whose fetch fails cause one request, and all get its error.
func TestResolve_SharesConcurrentFailingFetches(t *testing.T) {
	noGoroutineLeak(t)
	s := newSite(t)
	r := cimd.New(cimd.DefaultConfig(), nil)
	arrived, release := make(chan struct{}), make(chan struct{})
	id := s.handle("/failing.json", func(w http.ResponseWriter, _ *http.Request) {
		close(arrived)
		<-release
		http.Error(w, "down", http.StatusServiceUnavailable)
	})
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := r.Resolve(context.Background(), id)
			errs <- err
		})
	}
	<-arrived
	time.Sleep(20 * time.Millisecond) // the others join the fetch in flight
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, cimd.ErrFetch) {
			t.Errorf("err = %v, want ErrFetch", err)
		}
	}
	if got := s.requests("/failing.json"); got != 1 {
		t.Errorf("%d requests for one failing URL resolved %d times at once, want 1", got, n)
	}
	s.waitClosed(t)
}

// TestResolve_FailureMemoryIsBoundedInBytes: failing URLs as long as a
// request allows are remembered up to MaxFailureCacheBytes in all, the
// soonest to expire forgotten first.
func TestResolve_FailureMemoryIsBoundedInBytes(t *testing.T) {
	s := newSite(t)
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	r := cimd.New(cimd.DefaultConfig(), &cimd.Options{Now: clock.Now})
	long := strings.Repeat("x", 150<<10)
	path := func(i int) string { return fmt.Sprintf("/%d/%s", i, long) }
	const n = 20 // about 300 KiB each: more than MaxFailureCacheBytes
	for i := range n {
		clock.Advance(time.Second)
		if _, err := r.Resolve(t.Context(), s.URL+path(i)); !errors.Is(err, cimd.ErrFetch) {
			t.Fatal(err)
		}
	}
	for _, i := range []int{n - 1, 0} {
		if _, err := r.Resolve(t.Context(), s.URL+path(i)); !errors.Is(err, cimd.ErrFetch) {
			t.Fatal(err)
		}
	}
	if got := [2]int{s.requests(path(0)), s.requests(path(n - 1))}; got != [2]int{2, 1} {
		t.Errorf("fetches of the first and the last URL = %v, want [2 1]: the first is forgotten to stay within %d bytes", got, cimd.MaxFailureCacheBytes)
	}
}
