package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/filelock"
)

// ErrClosed is returned by Append, and by Close, once the Log has been closed.
var ErrClosed = errors.New("audit: log closed")

// Options configure [Open]. The zero Options give a memory-only log.
type Options struct {
	Path     string           // JSON Lines file to append to; "" keeps events in memory only
	Capacity int              // events kept in memory for queries; 0 means DefaultCapacity
	MaxBytes int64            // bytes of events kept in memory, counted as their JSON lines; 0 means DefaultMaxBytes
	Now      func() time.Time // clock for IDs and for events with a zero Time, safe for concurrent use; nil means time.Now
}

// Log is an append-only audit log: a JSON Lines file, if configured, and an in-memory index of
// its newest events for [Log.Query] and [Log.Subscribe]. Make one with [Open]. Its methods are
// safe for concurrent use.
type Log struct {
	// shared and tenant are set in a tenant's view (Tenant): it
	// delegates to the shared log.
	shared *Log
	tenant string

	now   func() time.Time
	index *ring
	subs  subscribers

	// mu guards the group commit's queue (see commit.go).
	mu     sync.Mutex
	closed bool
	open   *batch // the batch new appends join, until its leader takes it; nil if none
	last   *batch // the newest batch: once it is done, so is every earlier one; nil if none

	// The leader of the batch being committed alone uses these once Open has returned: leaders
	// take turns, each starting only once the previous batch is done.
	file      *os.File              // nil when memory only
	path      string                // the path file was opened at: checked before each write (reopen)
	regular   bool                  // false for pipes and devices, which can be neither synced nor truncated
	size      int64                 // bytes of the file known to be whole lines
	torn      int64                 // bytes of a torn last line that Open removed
	failed    error                 // set when the file can no longer be trusted; fails every later Append
	broken    atomic.Pointer[error] // failed, for Err, which any goroutine may call
	shut      atomic.Bool           // closed, for Err
	syncHook  func(*os.File) error  // replaces the fsyncs of the batches and of Close in tests (export_test.go)
	ids       idGen
	buf       []byte    // the batch's lines, reused while small
	stored    []slot    // the batch's events for the index, reused while small
	lines     lineArena // the index's copies of the lines (arena.go)
	syncStats           // how the batch is synced (fsync.go)

	syncs atomic.Int64 // fsyncs done, for the events-per-fsync figure (Syncs)

	// The commit delay (expect.go): appends announced by Expect and not yet in a batch, and the
	// channel the last of them wakes a waiting leader with. wake is nil, and nothing is waited
	// for, unless the log has a regular file.
	expected atomic.Int64
	wake     chan struct{} // buffered, one wake-up
	leading  *batch        // guarded by mu: the batch whose leader waits in delayCommit, if any
	want     int           // guarded by mu: the batch size that leader waits for, 0 for none
	// The batch target (learnTarget), and when the last batch was committed: used by leaders in
	// turn, like the commit state above.
	target     int
	lastCommit time.Time
	clock      func() time.Time // time.Now; tests replace it
	timer      *time.Timer      // the waiting leader's
	delays     atomic.Int64     // commits that waited, for tests and benchmarks
	// newDelay, when set by a test, replaces the leader's timer: it returns a channel that
	// fires when the bound d is reached.
	newDelay func(d time.Duration) <-chan time.Time
}

// Open opens the log. With a Path, it creates the file if needed, loads its newest events into
// memory (Capacity of them, fewer if they add up to more than MaxBytes) and removes a torn last
// line (see loadTail) so that later appends stay valid JSON Lines. A Path naming a pipe or device
// (such as /dev/stdout) is written to but not read, synced or repaired.
func Open(opts Options) (*Log, error) {
	capacity, maxBytes := opts.Capacity, opts.MaxBytes
	switch {
	case capacity < 0:
		return nil, fmt.Errorf("audit: negative capacity %d", capacity)
	case capacity == 0:
		capacity = DefaultCapacity
	}
	switch {
	case maxBytes < 0:
		return nil, fmt.Errorf("audit: negative MaxBytes %d", maxBytes)
	case maxBytes == 0:
		maxBytes = DefaultMaxBytes
	}
	l := &Log{
		now:   opts.Now,
		index: newRing(capacity, maxBytes),
	}
	if l.now == nil {
		l.now = time.Now
	}
	l.clock = time.Now
	if opts.Path != "" {
		if err := l.load(opts.Path, capacity, maxBytes); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func (l *Log) load(path string, capacity int, maxBytes int64) error {
	f, fi, err := openAppend(path)
	if err != nil {
		return err
	}
	l.file, l.regular, l.path = f, fi.Mode().IsRegular(), path
	if !l.regular {
		return nil
	}
	// One log per file: a second (another process given the same file) would interleave its
	// events with ids out of order, and its repair below could cut off a line being written.
	if err := filelock.TryLock(f); err != nil {
		f.Close()
		if errors.Is(err, filelock.ErrLocked) {
			return fmt.Errorf("audit: %s is in use by another process (another xaa-idp appending to it?): stop it first, or give this one another file", path)
		}
		return fmt.Errorf("audit: locking %s: %w", path, err)
	}
	l.wake = make(chan struct{}, 1)
	evs, end, err := loadTail(f, fi.Size(), capacity, maxBytes)
	if err != nil {
		f.Close()
		return err
	}
	if end < fi.Size() {
		// Synced before any append, or a crash could bring the torn bytes back under new lines.
		if err = f.Truncate(end); err == nil {
			err = tornSync(f)
		}
		if err != nil {
			f.Close()
			return fmt.Errorf("audit: removing torn last line of %s: %w", path, err)
		}
	}
	l.size, l.torn = end, fi.Size()-end
	l.index.insert(evs...)
	for _, s := range evs {
		var id string
		if json.Unmarshal(field(s.line, s.rec.id), &id) == nil {
			l.ids.observe(id)
		}
	}
	return nil
}

// TornBytes reports how many bytes of a torn last line Open removed from
// the file: a write that a crash cut short, of events never acknowledged
// (see loadTail). 0 when there was none. A start reports it, so that the
// repair is not silent.
func (l *Log) TornBytes() int64 { return l.root().torn }

// Append records ev and returns it as recorded: with an ID if it had none, with its Time (the
// clock's, if it had none) in UTC truncated to the millisecond, and with every string, Details'
// included, cut to MaxTextBytes by [Truncate] and Details to MaxDetailsKeys keys. The returned
// Details are a copy, in JSON's generic form with numbers as json.Number.
//
// When the log has a file, Append returns only after the event's line has been written and
// synced to stable storage; concurrent appends share the write and the sync (group commit). An event
// whose Append fails is neither in the file nor in the index.
func (l *Log) Append(ev Event) (Event, error) {
	return l.append(ev, nil)
}

// append is Append; t, if not nil, is the Expectation the event was announced by, ended as the
// event joins a batch or fails before.
func (l *Log) append(ev Event, t *ticket) (Event, error) {
	if l.shared != nil {
		ev.Tenant = l.tenant
		return l.shared.append(ev, t)
	}
	if ev.Time.IsZero() {
		ev.Time = l.now()
	}
	ev.Time = ev.Time.UTC().Truncate(time.Millisecond)
	// Bounded here, once for every caller, so that none can forget.
	ev.bound()
	if ev.Details != nil {
		d, err := boundDetails(ev.Details)
		if err != nil {
			l.end(t, false)
			return ev, fmt.Errorf("audit: encoding %s event details: %w", ev.Type, err)
		}
		ev.Details = d
	}
	if l.file == nil {
		return l.appendMemory(ev, t)
	}
	r := &request{ev: ev}
	defer r.release()
	// Encoded by the caller, in parallel with the others, rather than by the leader, whose work
	// everyone in its batch waits for.
	if err := r.encode(); err != nil {
		l.end(t, false)
		return ev, err
	}
	if err := l.groupCommit(r, t); err != nil {
		return ev, err
	}
	return r.ev, r.err
}

// appendMemory is append's end for a log without a file: with no write to share, the event is
// committed at once, under mu, without a batch to allocate and hand over.
func (l *Log) appendMemory(ev Event, t *ticket) (Event, error) {
	var r request // on the stack: commit keeps none of it but a copy of its line
	r.ev = ev
	defer r.release()
	err := r.encode()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.end(t, true) // nil: a log without a file expects nothing
	switch {
	case err != nil:
		return ev, err
	case l.closed:
		return ev, ErrClosed
	}
	reqs := [1]*request{&r}
	l.safeCommit(reqs[:])
	return r.ev, r.err
}

// Query returns the events held in memory that match f, newest first: at most f.Limit of them,
// DefaultQueryLimit if it is zero, MaxQueryLimit if it is larger.
//
// The index holds events as their JSON lines; Query decodes those it returns, so each call's
// events, Details included, are its own.
func (l *Log) Query(f Filter) []Event {
	events, _ := l.QueryPage(f)
	return events
}

// QueryPage is Query that also reports whether more events held in memory match f beyond those
// returned: then the next page is f with Before set to the ID of the last event returned, the
// link an HTTP API gives as rel="next" (RFC 8288).
func (l *Log) QueryPage(f Filter) (events []Event, more bool) {
	if l.shared != nil {
		f.Tenant = l.tenant
		return l.shared.QueryPage(f)
	}
	return l.index.query(f)
}

// Err returns why the log takes no more appends: the write or fsync failure after which it
// refuses every later Append, or ErrClosed; nil while it takes them. A health check reports it:
// until the process restarts, every request whose event must be durable fails.
func (l *Log) Err() error {
	root := l.root()
	if p := root.broken.Load(); p != nil {
		return *p
	}
	if root.shut.Load() {
		return ErrClosed
	}
	return nil
}

// Syncs reports how many fsyncs of its file the log has done: each covers a batch of appends, so
// the events appended divided by Syncs is the average batch. A tenant's view reports the shared
// log's.
func (l *Log) Syncs() int64 {
	return l.root().syncs.Load()
}

// Len reports how many events are held in memory: at most the capacity, not the file's length.
func (l *Log) Len() int {
	events, _ := l.IndexStats()
	return events
}

// IndexStats reports how many events are held in memory and how many bytes they count for
// against Options.MaxBytes: the length of their JSON lines, an approximation of the memory they
// hold that leaves out a fixed cost of a few hundred bytes per event, bounded by Capacity.
func (l *Log) IndexStats() (events int, bytes int64) {
	if l.shared != nil {
		return l.shared.IndexStats()
	}
	return l.index.stats()
}

// Close waits for pending appends, syncs and closes the file, and closes every subscription.
// Append after Close returns ErrClosed; so does a second Close.
func (l *Log) Close() error {
	if l.shared != nil {
		return nil // the shared log is its owner's to close
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.closed = true
	l.shut.Store(true)
	l.wakeLeader() // a leader waiting for expected appends commits now
	last := l.last
	l.mu.Unlock()

	if last != nil {
		<-last.done
	}
	l.subs.closeAll()
	if l.file == nil {
		return nil
	}
	var err error
	if l.regular && l.failed == nil {
		sync := (*os.File).Sync
		if l.syncHook != nil {
			sync = l.syncHook
		}
		err = sync(l.file)
	}
	err = errors.Join(err, l.file.Close())
	if err != nil {
		return fmt.Errorf("audit: closing %s: %w", l.file.Name(), err)
	}
	return nil
}
