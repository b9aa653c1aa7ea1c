package idp

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestFaultFollowFiresTimes: requests that fire a fault while renames
// make it follow its user (the file's fault and one added at runtime) fire
// it times in all. The follower was a copy of the counters, and a request
// holding the list from before the rename fired the old fault once more.
func TestFaultFollowFiresTimes(t *testing.T) {
	const times = 2000
	fault := func(user string) policy.Fault {
		return policy.Fault{ID: "file", Match: policy.FaultMatch{User: user}, Error: policy.FaultError{Code: "invalid_grant"}, Times: times}
	}
	var fs faultSet
	fs.loadConfig([]policy.Fault{fault("carol")}, nil)
	rt := fault("carol")
	rt.ID = "rt"
	if _, err := fs.add([]policy.Fault{rt}); err != nil {
		t.Fatal(err)
	}
	var fired atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, f := range fs.list() {
					if f.take() {
						fired.Add(1)
					}
				}
			}
		}()
	}
	names := []string{"carol", "caroline"}
	for i := 0; fired.Load() < 2*times; i++ {
		from, to := names[i%2], names[(i+1)%2]
		fs.loadConfig([]policy.Fault{fault(to)}, map[string]string{from: to})
	}
	close(stop)
	wg.Wait()
	if got := fired.Load(); got != 2*times {
		t.Errorf("the faults fired %d times, want %d", got, 2*times)
	}
	for _, f := range fs.list() {
		if st := f.status(); st.Fired != times || *st.Remaining != 0 {
			t.Errorf("fault %s: fired %d, remaining %d", st.ID, st.Fired, *st.Remaining)
		}
	}
}
