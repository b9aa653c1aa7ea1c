package audit

import (
	"os"
	"time"
)

// BufferCaps reports the capacities of the buffers l keeps between batches, so that a test can
// check that a burst does not leave them large. Call it only when no Append is in flight.
func BufferCaps(l *Log) (lines, events int) { return cap(l.buf), cap(l.stored) }

// Delays reports how many commits waited for expected appends.
func Delays(l *Log) int64 { return l.delays.Load() }

// Expected reports how many expected appends have neither joined a batch nor ended.
func Expected(l *Log) int64 { return l.root().expected.Load() }

// SetDelayTimer makes a leader that waits for expected appends call newDelay with the bound
// instead of starting a timer, and stop waiting when the returned channel fires. Call it before
// any Append.
func SetDelayTimer(l *Log, newDelay func(d time.Duration) <-chan time.Time) { l.newDelay = newDelay }

// MaxCommitDelay is the bound of a leader's wait for expected appends.
const MaxCommitDelay = maxCommitDelay

// Count is how many keys and elements a Details value holds at every depth (bound.go's count).
func Count(v any) int { return count(v) }

// SetClock replaces the clock that tells a leader whether the log has committed recently (the
// batch target counts only then). Call it before any Append.
func SetClock(l *Log, now func() time.Time) { l.clock = now }

// Target reports the batch target. Call it only when no Append is in flight.
func Target(l *Log) int { return l.target }

// RecentCommit is how recently the log must have committed for a leader to wait for the target.
const RecentCommit = recentCommit

// SetSyncFailure makes every later fsync of l's file fail with err, as a failing disk would. Call
// it before any Append.
func SetSyncFailure(l *Log, err error) { l.syncHook = func(*os.File) error { return err } }

// IndexLines reports how many events l's index holds and the bytes of their lines.
func IndexLines(l *Log) (n, bytes int) {
	l.index.mu.Lock()
	defer l.index.mu.Unlock()
	for i := range l.index.n {
		bytes += len(l.index.lines[l.index.pos(i)])
	}
	return l.index.n, bytes
}

// SetPipeProbed makes Open call f after it found that a named pipe has a
// reader and before it opens the pipe for the log, until restore is called.
func SetPipeProbed(f func()) (restore func()) {
	old := pipeProbed
	pipeProbed = f
	return func() { pipeProbed = old }
}

// SetSyncHook replaces the fsync of l's file with f, which may fail or panic as a broken disk or
// driver would. Call it before any Append.
func SetSyncHook(l *Log, f func(*os.File) error) { l.syncHook = f }

// SetTornSync makes Open call f, instead of syncing the file itself, after it cut off a torn last
// line, until restore is called.
func SetTornSync(f func(*os.File) error) (restore func()) {
	old := tornSync
	tornSync = f
	return func() { tornSync = old }
}
