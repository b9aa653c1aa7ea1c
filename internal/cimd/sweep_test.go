package cimd_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/cimd"
)

// TestSweep_ForgetsWhatExpired: the clients cached and the failing URLs
// remembered leave the Resolver once they expire, when nothing asks for
// them again. Before Sweep they stayed until the cache was full, so a
// burst of client_id URLs kept its memory for the life of the process
// (a 12-minute soak of 800 URLs: 2 MB, still held an hour later).
func TestSweep_ForgetsWhatExpired(t *testing.T) {
	s := newSite(t)
	s.handle("/client.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=300")
		_ = json.NewEncoder(w).Encode(publicDoc(s.URL + r.URL.RequestURI()))
	})
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	r := cimd.New(cimd.DefaultConfig(), &cimd.Options{Now: clock.Now})
	const n = 200
	for i := range n {
		if _, err := r.Resolve(t.Context(), fmt.Sprintf("%s/client.json?v=%d", s.URL, i)); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Resolve(t.Context(), fmt.Sprintf("%s/missing-%d.json", s.URL, i)); err == nil {
			t.Fatal("a missing document resolved")
		}
	}
	if c, f := r.Len(); c != n || f != n {
		t.Fatalf("Len = %d clients, %d failures; want %d, %d", c, f, n, n)
	}
	clock.Advance(cimd.FailureCacheTTL)
	r.Sweep()
	if c, f := r.Len(); c != n || f != 0 {
		t.Errorf("after %s: Len = %d clients, %d failures; want %d, 0", cimd.FailureCacheTTL, c, f, n)
	}
	clock.Advance(5 * time.Minute)
	r.Sweep()
	if c, f := r.Len(); c != 0 || f != 0 {
		t.Errorf("after 5m: Len = %d clients, %d failures; want 0, 0", c, f)
	}
	// What was swept is fetched again when asked for.
	id := s.URL + "/client.json?v=0"
	if _, err := r.Resolve(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if got := s.requests("/client.json"); got != n+1 {
		t.Errorf("%d fetches, want %d", got, n+1)
	}
}
