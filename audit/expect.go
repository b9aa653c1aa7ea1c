package audit

import (
	"sync/atomic"
	"time"
)

// Commit delay, after PostgreSQL's commit_delay and commit_siblings. Group commit alone batches
// only the appends that arrive while the previous batch is being synced; when requests each take
// about as much CPU as an fsync and the cores are busy with them, few arrive in that window and
// most fsyncs carry one or two events. A leader therefore waits, before it takes its batch, for
// appends that are on their way:
//
//   - Appends announced by [Log.Expect]: a token request being handled appends its event within a
//     fraction of a millisecond.
//   - Appends not yet announced, by the batch target. Clients that keep a number of requests in
//     flight send each next one soon after the previous one is answered, so a batch of n events
//     is followed by n more within the time the server takes to handle them. After a batch that
//     waited only for announced appends, or not at all, the next leader finds half of them at
//     most: the others are in the client, or in a socket, where no one can announce them. So a
//     leader waits until its batch is as large as the batch target, which learnTarget keeps at
//     the size batches have recently reached, and so one fsync covers every request in flight.
//
// Neither holds a lone request back. Nothing announced, nothing waited for; the target counts
// only while the log has committed within the last recentCommit, so the first request after a
// pause commits at once, and a batch that falls short of the target at the bound sets it to its
// own size.
//
// The wait ends when the batch has what it waits for (the last announced append joins it or gives
// up with Expectation.End, and the batch reaches the target), or when the log closes, all of which
// wake the leader with one send on Log.wake, or at maxCommitDelay. Only a log with a regular file
// waits: memory and pipes have no fsync to share.

// maxCommitDelay bounds a leader's wait for expected appends. An expected request normally
// arrives in less: its remaining CPU, shared with the others in flight (8 requests of 100 µs on
// 2 cores take 400 µs). The bound is for one that does not come, held up by the network (a client
// metadata document being fetched) or starved: then the events already in the batch are late by
// at most the bound. 1 ms is a few fsyncs on this kind of disk (200-300 µs wall on a busy VM
// disk, 20 µs on a fast NVMe one), what PostgreSQL suggests as the upper end of commit_delay, and
// small next to the tens of milliseconds a token request takes over a network.
const maxCommitDelay = time.Millisecond

// recentCommit is how recently the log must have committed for a leader to wait for the batch
// target: clients in a loop are back within a fraction of a millisecond. After a longer pause a
// batch commits with what it has, and sets the target to its size.
const recentCommit = maxCommitDelay

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
	l.wakeIfSatisfied()
}

// wakeLeader ends the wait of a leader in delayCommit, if one waits, whether or not it has what
// it waits for (Close). l.mu must be held.
func (l *Log) wakeLeader() {
	if l.leading != nil {
		select {
		case l.wake <- struct{}{}:
		default: // already woken
		}
	}
}

// delayCommit is called by b's leader with l.mu held, once the previous batch is done and before
// it takes b. It waits, with l.mu released and at most maxCommitDelay, while appends are expected
// or, if the log has committed within recentCommit, while b is smaller than the batch target
// (see learnTarget). It returns with l.mu held.
//
// What the leader waits for is read under l.mu, and whatever could satisfy it (an append joining
// b, the last expectation ending, Close) takes l.mu to see l.leading: it either comes before the
// leader looks, and nothing is waited for, or finds l.leading set and wakes the leader.
func (l *Log) delayCommit(b *batch) {
	if l.wake == nil {
		return
	}
	recent := !l.lastCommit.IsZero() && l.clock().Sub(l.lastCommit) < recentCommit
	l.want = 0
	if recent {
		l.want = l.target
	}
	timedOut := false
	if !l.closed && l.failed == nil && !l.satisfied(b) {
		l.leading = b
		l.mu.Unlock()
		timeout, stop := l.startDelay(maxCommitDelay)
		select {
		case <-l.wake:
		case <-timeout:
			timedOut = true
		}
		stop()
		l.delays.Add(1)
		l.mu.Lock()
		l.leading = nil
		select {
		case <-l.wake: // sent after the timeout, before leading was cleared: not for the next leader
		default:
		}
	}
	l.learnTarget(len(b.reqs), recent, timedOut)
}

// learnTarget sets the batch target from the size n of the batch just taken: a batch larger than
// the target raises it; one that waited for nothing (the log had not committed recently) or that
// waited the whole bound sets it, so that the target falls as soon as fewer requests are in flight.
func (l *Log) learnTarget(n int, recent, timedOut bool) {
	if n > l.target || !recent || timedOut {
		l.target = n
	}
}

// satisfied reports whether the leader of b, in delayCommit, has what it waits for: b as full as
// a batch may be (later appends go to the next batch), or else no expected append still on its
// way and b at the size the leader wants. l.mu must be held.
func (l *Log) satisfied(b *batch) bool {
	if len(b.reqs) >= maxBatchEvents || b.bytes >= maxBatchBytes {
		return true
	}
	return l.expected.Load() <= 0 && len(b.reqs) >= l.want
}

// wakeIfSatisfied wakes a leader waiting in delayCommit once it has what it waits for. l.mu must
// be held.
func (l *Log) wakeIfSatisfied() {
	if l.leading != nil && l.satisfied(l.leading) {
		l.wakeLeader()
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
