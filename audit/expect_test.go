package audit_test

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
)

// delayTimer replaces a log's commit delay timer: it reports each wait's bound on waits and
// fires only when the test sends on fire.
type delayTimer struct {
	waits chan time.Duration
	fire  chan time.Time
}

func newDelayTimer(l *audit.Log) *delayTimer {
	d := &delayTimer{waits: make(chan time.Duration, 16), fire: make(chan time.Time)}
	audit.SetDelayTimer(l, func(bound time.Duration) <-chan time.Time {
		d.waits <- bound
		return d.fire
	})
	return d
}

// waiting returns once a leader has started to wait for expected appends, or fails the test.
func (d *delayTimer) waiting(t *testing.T) {
	t.Helper()
	select {
	case bound := <-d.waits:
		if bound != audit.MaxCommitDelay {
			t.Errorf("the leader waits up to %v, want %v", bound, audit.MaxCommitDelay)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no leader waited for the expected appends")
	}
}

// noWait makes any wait for expected appends fail the test.
func noWait(t *testing.T, l *audit.Log) {
	audit.SetDelayTimer(l, func(time.Duration) <-chan time.Time {
		t.Error("a commit waited for expected appends")
		return time.After(0)
	})
}

// appendAsync runs append on a goroutine; its result arrives on the returned channel.
func appendAsync(append func(audit.Event) (audit.Event, error), e audit.Event) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := append(e)
		done <- err
	}()
	return done
}

func wantNotDone(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		t.Fatalf("Append returned (%v) while the leader should be waiting", err)
	default:
	}
}

func wantDone(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Append did not return")
	}
}

func wantCounts(t *testing.T, l *audit.Log, syncs, delays, expected int64) {
	t.Helper()
	if got := l.Syncs(); got != syncs {
		t.Errorf("%d fsyncs, want %d", got, syncs)
	}
	if got := audit.Delays(l); got != delays {
		t.Errorf("%d commits waited for expected appends, want %d", got, delays)
	}
	if got := audit.Expected(l); got != expected {
		t.Errorf("%d appends still expected, want %d", got, expected)
	}
}

func TestExpect_LoneAppendCommitsAtOnce(t *testing.T) {
	l := openLog(t, audit.Options{Path: tempPath(t)})
	noWait(t, l)
	mustAppend(t, l, audit.Event{Type: audit.TypeLogin, Reason: "unannounced"})
	// An expectation whose own Append is the only one in flight: it ends as the event joins the
	// batch, so its leader finds nothing more to wait for.
	x := l.Expect()
	if _, err := x.Append(audit.Event{Type: audit.TypeLogin, Reason: "announced"}); err != nil {
		t.Fatal(err)
	}
	x.End() // deferred by callers: after Append it does nothing
	x.End()
	wantCounts(t, l, 2, 0, 0)
}

func TestExpect_ExpectedAppendsShareOneSync(t *testing.T) {
	path := tempPath(t)
	l := openLog(t, audit.Options{Path: path})
	newDelayTimer(l) // never fires: only the last expected append can end the wait
	const n = 8
	xs := make([]audit.Expectation, n)
	for i := range xs {
		xs[i] = l.Expect()
	}
	var wg sync.WaitGroup
	for i, x := range xs {
		wg.Go(func() {
			defer x.End()
			if _, err := x.Append(audit.Event{Type: audit.TypeTokenExchange, Reason: fmt.Sprint(i)}); err != nil {
				t.Error(err)
			}
		})
	}
	all := make(chan error)
	go func() {
		wg.Wait()
		close(all)
	}()
	wantDone(t, all)
	wantCounts(t, l, 1, 1, 0)
	evs := fileEvents(t, path)
	if len(evs) != n {
		t.Fatalf("%d events in the file, want %d", len(evs), n)
	}
	if !slices.IsSortedFunc(evs, func(a, b audit.Event) int { return cmpString(a.ID, b.ID) }) {
		t.Errorf("IDs not in file order: %v", evs)
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestExpect_EndReleasesWaitingLeader(t *testing.T) {
	l := openLog(t, audit.Options{Path: tempPath(t)})
	timer := newDelayTimer(l)
	abandoned := l.Expect() // a handler that will return without appending
	x := l.Expect()
	done := appendAsync(x.Append, audit.Event{Type: audit.TypeTokenExchange})
	timer.waiting(t)
	wantNotDone(t, done)
	abandoned.End()
	wantDone(t, done)
	abandoned.End()
	x.End()
	wantCounts(t, l, 1, 1, 0)

	// Nothing is expected any more: the next Append does not wait.
	audit.SetDelayTimer(l, nil)
	noWait(t, l)
	mustAppend(t, l, audit.Event{Type: audit.TypeLogin})
	wantCounts(t, l, 2, 1, 0)
}

func TestExpect_WaitEndsAtTheBound(t *testing.T) {
	l := openLog(t, audit.Options{Path: tempPath(t)})
	timer := newDelayTimer(l)
	never := l.Expect() // announced, never appended, not yet ended
	done := appendAsync(l.Append, audit.Event{Type: audit.TypeLogin})
	timer.waiting(t)
	wantNotDone(t, done)
	timer.fire <- time.Now()
	wantDone(t, done)
	wantCounts(t, l, 1, 1, 1)

	// Still expected, so the next commit waits again, up to the bound again.
	done = appendAsync(l.Append, audit.Event{Type: audit.TypeLogin})
	timer.waiting(t)
	timer.fire <- time.Now()
	wantDone(t, done)
	never.End()
	wantCounts(t, l, 2, 2, 0)
}

// TestExpect_RealTimerBound runs the bound on the real timer, reused from one wait to the next: an
// Append that waits for an expected append that never comes returns, no sooner than the bound.
func TestExpect_RealTimerBound(t *testing.T) {
	l := openLog(t, audit.Options{Path: tempPath(t)})
	never := l.Expect()
	defer never.End()
	for range 3 {
		start := time.Now()
		mustAppend(t, l, audit.Event{Type: audit.TypeLogin})
		if waited := time.Since(start); waited < audit.MaxCommitDelay {
			t.Errorf("Append returned after %v, before the bound %v", waited, audit.MaxCommitDelay)
		}
	}
	wantCounts(t, l, 3, 3, 1)
}

func TestExpect_CloseEndsTheWait(t *testing.T) {
	path := tempPath(t)
	l := openLog(t, audit.Options{Path: path})
	timer := newDelayTimer(l)
	never := l.Expect()
	defer never.End()
	done := appendAsync(l.Append, audit.Event{Type: audit.TypeLogin, Reason: "in the batch"})
	timer.waiting(t)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	wantDone(t, done) // committed, not refused: it was in a batch before Close
	if got := reasons(fileEvents(t, path)); !slices.Equal(got, []string{"in the batch"}) {
		t.Errorf("file holds %q", got)
	}
	if _, err := never.Append(audit.Event{Type: audit.TypeLogin}); err != audit.ErrClosed {
		t.Errorf("Append after Close: %v, want ErrClosed", err)
	}
	if n := audit.Expected(l); n != 0 {
		t.Errorf("%d appends still expected after the refused Append", n)
	}
}

// TestExpect_FailedAppendEndsExpectation: an Append refused before it joins a batch ends its
// expectation all the same.
func TestExpect_FailedAppendEndsExpectation(t *testing.T) {
	l := openLog(t, audit.Options{Path: tempPath(t)})
	x := l.Expect()
	if _, err := x.Append(audit.Event{Type: audit.TypeLogin, Details: map[string]any{"f": func() {}}}); err == nil {
		t.Fatal("Append of unencodable details succeeded")
	}
	wantCounts(t, l, 0, 0, 0)
}

func TestExpect_TenantViewSharesTheCount(t *testing.T) {
	l := openLog(t, audit.Options{Path: tempPath(t)})
	timer := newDelayTimer(l)
	view := l.Tenant("acme")
	x := view.Expect()
	done := appendAsync(l.Append, audit.Event{Type: audit.TypeLogin}) // another tenant's, or none
	timer.waiting(t)
	got, err := x.Append(audit.Event{Type: audit.TypeTokenExchange})
	if err != nil {
		t.Fatal(err)
	}
	if got.Tenant != "acme" {
		t.Errorf("the view's expected event has tenant %q, want acme", got.Tenant)
	}
	wantDone(t, done)
	wantCounts(t, l, 1, 1, 0)
	if view.Syncs() != 1 {
		t.Errorf("the view reports %d fsyncs, want the shared log's 1", view.Syncs())
	}
}

func TestExpect_MemoryLogNeverWaits(t *testing.T) {
	l := openLog(t, audit.Options{})
	noWait(t, l)
	never := l.Expect()
	defer never.End()
	mustAppend(t, l, audit.Event{Type: audit.TypeLogin})
	x := l.Expect()
	if _, err := x.Append(audit.Event{Type: audit.TypeLogin}); err != nil {
		t.Fatal(err)
	}
	wantCounts(t, l, 0, 0, 0)
	var zero audit.Expectation
	zero.End() // expects nothing
}

// fakeClock is the clock a leader reads to tell whether the log committed recently: it moves only
// when advanced.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock(l *audit.Log) *fakeClock {
	c := new(fakeClock)
	c.ns.Store(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC).UnixNano())
	audit.SetClock(l, func() time.Time { return time.Unix(0, c.ns.Load()) })
	return c
}

func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// expectedBatch commits n announced appends in one batch, as n requests in flight do, and
// checks that this sets the batch target to n.
func expectedBatch(t *testing.T, l *audit.Log, timer *delayTimer, n int) {
	t.Helper()
	syncs := l.Syncs()
	xs := make([]audit.Expectation, n)
	for i := range xs {
		xs[i] = l.Expect()
	}
	dones := make([]<-chan error, n)
	for i, x := range xs {
		dones[i] = appendAsync(x.Append, audit.Event{Type: audit.TypeTokenExchange, Reason: fmt.Sprint("expected ", i)})
	}
	if n > 1 {
		timer.waiting(t) // the first leader waits for the others
	}
	for _, done := range dones {
		wantDone(t, done)
	}
	if got := l.Syncs() - syncs; got != 1 {
		t.Fatalf("%d expected appends took %d fsyncs, want 1", n, got)
	}
	if got := audit.Target(l); got != n {
		t.Fatalf("batch target %d after a batch of %d, want %d", got, n, n)
	}
}

// TestExpect_TargetWaitsForTheRequestsInFlight: after a batch of three, the next leader waits,
// though nothing is announced, until its batch holds three events, and commits them with one
// fsync as soon as it does, before the bound.
func TestExpect_TargetWaitsForTheRequestsInFlight(t *testing.T) {
	path := tempPath(t)
	l := openLog(t, audit.Options{Path: path})
	timer := newDelayTimer(l) // fires only when the test says
	newFakeClock(l)           // stands still: the last commit is always recent
	expectedBatch(t, l, timer, 3)

	first := appendAsync(l.Append, audit.Event{Type: audit.TypeLogin, Reason: "first"})
	timer.waiting(t)
	wantNotDone(t, first)
	second := appendAsync(l.Append, audit.Event{Type: audit.TypeLogin, Reason: "second"})
	third := appendAsync(l.Append, audit.Event{Type: audit.TypeLogin, Reason: "third"})
	wantDone(t, first)
	wantDone(t, second)
	wantDone(t, third)
	wantCounts(t, l, 2, 2, 0)
	if got := len(fileEvents(t, path)); got != 6 {
		t.Errorf("%d events in the file, want 6", got)
	}
	if got := audit.Target(l); got != 3 {
		t.Errorf("batch target %d, want 3", got)
	}
}

// TestExpect_TargetFallsAtTheBound: when fewer requests are in flight than the target says, one
// batch waits the bound, and sets the target to its size: the next one commits at once.
func TestExpect_TargetFallsAtTheBound(t *testing.T) {
	l := openLog(t, audit.Options{Path: tempPath(t)})
	timer := newDelayTimer(l)
	newFakeClock(l)
	expectedBatch(t, l, timer, 4)

	done := appendAsync(l.Append, audit.Event{Type: audit.TypeLogin, Reason: "alone now"})
	timer.waiting(t)
	wantNotDone(t, done)
	timer.fire <- time.Now()
	wantDone(t, done)
	if got := audit.Target(l); got != 1 {
		t.Errorf("batch target %d after a batch of 1 reached the bound, want 1", got)
	}
	noWait(t, l)
	mustAppend(t, l, audit.Event{Type: audit.TypeLogin, Reason: "at once"})
	wantCounts(t, l, 3, 2, 0)
}

// TestExpect_NoTargetAfterAPause: the first request after a pause is not held back by the size of
// the batches before it, and sets the target to its own batch's size.
func TestExpect_NoTargetAfterAPause(t *testing.T) {
	l := openLog(t, audit.Options{Path: tempPath(t)})
	timer := newDelayTimer(l)
	clock := newFakeClock(l)
	expectedBatch(t, l, timer, 5)

	clock.advance(audit.RecentCommit)
	noWait(t, l)
	mustAppend(t, l, audit.Event{Type: audit.TypeLogin, Reason: "after a pause"})
	wantCounts(t, l, 2, 1, 0)
	if got := audit.Target(l); got != 1 {
		t.Errorf("batch target %d after a lone append, want 1", got)
	}
	// Now recent again, but the target is one: no wait either.
	mustAppend(t, l, audit.Event{Type: audit.TypeLogin, Reason: "right after"})
	wantCounts(t, l, 3, 1, 0)
}

// TestExpect_TargetWithTheRealClock: requests in a closed loop, as a load generator's or an MCP
// client's in flight, share fsyncs well beyond what announcing them alone gives, with the real
// clock and timer. Each of the n goroutines appends only after its previous append returned, so
// no batch can hold more than n; without the target they alternate between two batches of about
// n/2. On a machine busy with other tests a goroutine may be held up past recentCommit, so the
// run is tried up to three times.
func TestExpect_TargetWithTheRealClock(t *testing.T) {
	const n, rounds = 6, 50
	want := 0.75 * n
	var best float64
	for range 3 {
		l := openLog(t, audit.Options{Path: tempPath(t)})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				for j := range rounds {
					if _, err := l.Append(audit.Event{Type: audit.TypeLogin, Reason: fmt.Sprint(i, "/", j)}); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		perSync := float64(n*rounds) / float64(l.Syncs())
		t.Logf("%d appends in %d fsyncs: %.1f per fsync", n*rounds, l.Syncs(), perSync)
		best = max(best, perSync)
		if best >= want {
			return
		}
	}
	t.Errorf("at best %.1f appends per fsync from %d in a loop, want at least %.1f", best, n, want)
}
