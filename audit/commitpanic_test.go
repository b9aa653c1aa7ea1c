package audit_test

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
)

// TestGroupCommit_PanicFailsItsBatchAndTheNextWorks: a panic in a batch's commit (here its fsync)
// left the batch's done channel open, so every append waiting in that batch, and every later
// batch's leader waiting for it, hung for ever. Every append of the batch now gets an error (no
// event is acknowledged that may not be durable), and the next batch commits.
func TestGroupCommit_PanicFailsItsBatchAndTheNextWorks(t *testing.T) {
	l := openLog(t, audit.Options{Path: tempPath(t)})
	gate := make(chan struct{})
	var syncs atomic.Int32
	audit.SetSyncHook(l, func(f *os.File) error {
		switch syncs.Add(1) {
		case 1:
			<-gate // the first batch holds the log while the next one gathers appends
		case 2:
			panic("injected: the fsync panicked")
		}
		return f.Sync()
	})
	type result struct {
		err      error
		panicked any
	}
	append1 := func(i int) (r result) {
		defer func() { r.panicked = recover() }()
		_, r.err = l.Append(audit.Event{Type: audit.TypeLogin, User: fmt.Sprint("u", i)})
		return r
	}
	results := make(chan result, 6)
	var wg sync.WaitGroup
	wg.Go(func() { results <- append1(0) })
	for syncs.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	for i := 1; i < 6; i++ {
		wg.Go(func() { results <- append1(i) })
	}
	time.Sleep(100 * time.Millisecond) // the five queue up in the second batch
	close(gate)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("appends of a batch whose commit panicked still wait after 10 s")
	}
	close(results)
	failed := 0
	for r := range results {
		if r.panicked != nil {
			t.Errorf("Append panicked: %v; want an error", r.panicked)
		}
		if r.err != nil {
			failed++
		}
	}
	if failed == 0 {
		t.Error("no append of the batch whose commit panicked got an error")
	}
	next := make(chan error, 1)
	go func() { _, err := l.Append(audit.Event{Type: audit.TypeLogin, User: "after"}); next <- err }()
	select {
	case err := <-next:
		if err != nil {
			t.Errorf("the append after the panicked batch: %v, want it committed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the append after the panicked batch still waits after 10 s")
	}
}
