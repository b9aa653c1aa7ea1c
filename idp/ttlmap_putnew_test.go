package idp

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// PutNewEvicting adds a key once among callers racing with it (two
// end_session requests for one session: one audits and pushes the end),
// and again once the entry has expired.
func TestTTLMap_PutNewEvictingAddsOnce(t *testing.T) {
	m, c := newTestTTLMap(4)
	var added atomic.Int32
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, _ := m.PutNewEvicting("sid", "x", c.t.Add(time.Minute)); ok {
				added.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := added.Load(); n != 1 {
		t.Fatalf("%d callers added the key, want 1", n)
	}
	c.t = c.t.Add(2 * time.Minute)
	if ok, _ := m.PutNewEvicting("sid", "x", c.t.Add(time.Minute)); !ok {
		t.Error("an expired key was not added again")
	}
	for _, k := range []string{"a", "b", "c"} {
		m.Put(k, k, c.t.Add(time.Hour))
	}
	if ok, evicted := m.PutNewEvicting("d", "d", c.t.Add(time.Hour)); !ok || !evicted {
		t.Errorf("a new key in a full map: added %v, evicted %v; want both", ok, evicted)
	}
}
