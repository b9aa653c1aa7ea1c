package audit

import (
	"sync/atomic"
	"time"
)

// Commit delay, after PostgreSQL's commit_delay and commit_siblings. Group commit alone batches
// only the appends that arrive while the previous batch is being synced; when requests each take
// about as much CPU as an fsync and the cores are busy with them, few arrive in that window and
// most fsyncs carry one or two events. Yet the caller often knows that more are on their way: a
// token request being handled appends its event within a fraction of a millisecond. [Log.Expect]
// announces such an append; a leader that finds appends announced but not yet in a batch waits
// for them, so that one write and one fsync cover every request in flight. Nothing announced,
// nothing waited for: a lone Append commits at once, as without this.
//
// The wait ends when the last announced append joins a batch or gives up (Expectation.End), or
// when the log closes, all of which wake the leader with one send on Log.wake, or at
// maxCommitDelay. Only a log with a regular file waits: memory and pipes have no fsync to share.

// maxCommitDelay bounds a leader's wait for expected appends. An expected request normally
// arrives in less: its remaining CPU, shared with the others in flight (8 requests of 100 µs on
// 2 cores take 400 µs). The bound is for one that does not come, held up by the network (a client
// metadata document being fetched) or starved: then the events already in the batch are late by
// at most the bound. 1 ms is a few fsyncs on this kind of disk (200-300 µs wall on a busy VM
// disk, 20 µs on a fast NVMe one), what PostgreSQL suggests as the upper end of commit_delay, and
// small next to the tens of milliseconds a token request takes over a network.
const maxCommitDelay = time.Millisecond

// An Expectation announces an [Log.Append] on its way: see [Log.Expect]. Its zero value expects
// nothing and must not Append.
type Expectation struct {
	l *Log    // Expect's receiver, so that a tenant's view stamps the event
	t *ticket // nil when the log waits for nothing
}

// ticket is an announced append, counted in the root log's expected until ended.
type ticket struct {
	ended atomic.Bool
}

// Expect announces that an Append will follow shortly: a request handler calls it when it starts
// work that ends in an audit event, then appends the event with the Expectation's Append. While an
// Expectation has neither appended nor ended, a batch's commit waits for it, up to a bound of a
// millisecond, so that one fsync covers it together with the others in flight; an Append with
// nothing expected commits at once. Call End when the handler returns (defer it): it ends an
// Expectation that did not append, so that no commit waits for it any longer. End after Append
// does nothing; either may be called from any goroutine.
//
// Announce only appends that follow without waiting for another append (the Expectation's own
// included): an Append on the same goroutine in between would wait the bound for it. A log
// without a file waits for nothing, and its Expect costs nothing.
func (l *Log) Expect() Expectation {
	root := l.root()
	if root.wake == nil {
		return Expectation{l: l}
	}
	root.expected.Add(1)
	return Expectation{l: l, t: new(ticket)}
}

// Append is [Log.Append] of the expected event; the expectation ends as the event joins a batch
// (or fails before it could).
func (x Expectation) Append(ev Event) (Event, error) {
	return x.l.append(ev, x.t)
}

// End ends the expectation if Append has not: no commit waits for it any longer. It may be
// called any number of times.
func (x Expectation) End() {
	if x.t != nil {
		x.l.root().end(x.t, false)
	}
}

func (l *Log) root() *Log {
	if l.shared != nil {
		return l.shared // Tenant makes views of the root only
	}
	return l
}

// end ends t, once, and wakes a leader waiting for the expected appends if t was the last one.
// locked says whether the caller holds l.mu.
func (l *Log) end(t *ticket, locked bool) {
	if t == nil || !t.ended.CompareAndSwap(false, true) {
		return
	}
	if l.expected.Add(-1) != 0 {
		return
	}
	if !locked {
		l.mu.Lock()
		defer l.mu.Unlock()
	}
	l.wakeLeader()
}

// wakeLeader ends the wait of a leader in delayCommit, if one waits. l.mu must be held.
func (l *Log) wakeLeader() {
	if l.waiting {
		select {
		case l.wake <- struct{}{}:
		default: // already woken
		}
	}
}

// delayCommit is called by a batch's leader with l.mu held, once the previous batch is done and
// before it takes its batch: while appends are expected it waits, up to maxCommitDelay, with
// l.mu released, so that they join the batch. It returns with l.mu held.
//
// expected is read under l.mu and the last end takes l.mu to see waiting: an end either comes
// before the read (then nothing is waited for) or finds waiting set, and wakes the leader.
func (l *Log) delayCommit() {
	if l.wake == nil || l.expected.Load() <= 0 || l.closed || l.failed != nil {
		return
	}
	l.waiting = true
	l.mu.Unlock()
	timeout, stop := l.startDelay(maxCommitDelay)
	select {
	case <-l.wake:
	case <-timeout:
	}
	stop()
	l.delays.Add(1)
	l.mu.Lock()
	l.waiting = false
	select {
	case <-l.wake: // sent after the timeout, before waiting was cleared: not for the next leader
	default:
	}
}

// startDelay starts the leader's timer for d: the Log's one timer, reused, since leaders take
// turns. Tests replace it (Log.newDelay) to decide themselves when the bound is reached.
func (l *Log) startDelay(d time.Duration) (<-chan time.Time, func()) {
	if l.newDelay != nil {
		return l.newDelay(d), func() {}
	}
	if l.timer == nil {
		l.timer = time.NewTimer(d)
	} else {
		l.timer.Reset(d)
	}
	return l.timer.C, func() { l.timer.Stop() }
}
