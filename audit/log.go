package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is returned by Append, and by Close, once the Log has been closed.
var ErrClosed = errors.New("audit: log closed")

// maxPending bounds the events waiting for the writer. When it is full, Append blocks until the
// disk catches up: back-pressure instead of unbounded memory, and never a dropped audit event.
const maxPending = 4096

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
	now   func() time.Time
	index *ring
	subs  subscribers

	// closeMu is held for reading while sending on reqs, so that Close, holding it for
	// writing, never closes the channel under a sender.
	closeMu sync.RWMutex
	closed  bool
	reqs    chan *request
	done    chan struct{} // closed when the writer goroutine has drained reqs and exited

	// The writer goroutine alone uses these once Open has returned.
	file    *os.File // nil when memory only
	regular bool     // false for pipes and devices, which can be neither synced nor truncated
	size    int64    // bytes of the file known to be whole lines
	failed  error    // set when the file can no longer be trusted; fails every later Append
	ids     idGen
	buf     []byte

	syncs atomic.Int64 // fsyncs done by the writer, for the benchmarks' events-per-fsync figure
}

type request struct {
	ev   Event
	done chan result // buffered, so the writer never waits on a caller
}

type result struct {
	ev  Event
	err error
}

// Open opens the log. With a Path, it creates the file if needed, loads its newest events into
// memory (Capacity of them, or fewer if they add up to more than MaxBytes) and removes a torn last line (see loadTail) so that later appends stay valid
// JSON Lines. A Path naming a pipe or device (such as /dev/stdout) is written to but not read,
// synced or repaired.
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
		reqs:  make(chan *request, maxPending),
		done:  make(chan struct{}),
	}
	if l.now == nil {
		l.now = time.Now
	}
	if opts.Path != "" {
		if err := l.load(opts.Path, capacity, maxBytes); err != nil {
			return nil, err
		}
	}
	go l.run()
	return l, nil
}

func (l *Log) load(path string, capacity int, maxBytes int64) error {
	f, fi, err := openAppend(path)
	if err != nil {
		return err
	}
	l.file, l.regular = f, fi.Mode().IsRegular()
	if !l.regular {
		return nil
	}
	evs, end, err := loadTail(f, fi.Size(), capacity, maxBytes)
	if err != nil {
		f.Close()
		return err
	}
	if end < fi.Size() {
		// Synced before any append, or a crash could bring the torn bytes back under new lines.
		if err = f.Truncate(end); err == nil {
			err = f.Sync()
		}
		if err != nil {
			f.Close()
			return fmt.Errorf("audit: removing torn last line of %s: %w", path, err)
		}
	}
	l.size = end
	l.index.insert(evs...)
	for _, s := range evs {
		l.ids.observe(s.ev.ID)
	}
	return nil
}

// Append records ev and returns it as recorded: with an ID if it had none, with its Time (the
// clock's, if it had none) in UTC truncated to the millisecond, and with every string, Details'
// included, cut to MaxTextBytes by [Truncate] and Details to MaxDetailsKeys keys. When the log has a file,
// Append returns only after the event's line has been written and synced to stable storage; if
// the disk falls behind by more than a few thousand events, Append waits rather than drop any.
// An event whose Append fails is neither in the file nor in the index.
func (l *Log) Append(ev Event) (Event, error) {
	if ev.Time.IsZero() {
		ev.Time = l.now()
	}
	ev.Time = ev.Time.UTC().Truncate(time.Millisecond)
	// Bounded here, once for every caller, so that none can forget; and before the writer
	// goroutine, which every event has to go through, sees it.
	ev.bound()
	if ev.Details != nil {
		d, err := boundDetails(ev.Details)
		if err != nil {
			return ev, fmt.Errorf("audit: encoding %s event details: %w", ev.Type, err)
		}
		ev.Details = d
	}
	r := &request{ev: ev, done: make(chan result, 1)}
	l.closeMu.RLock()
	if l.closed {
		l.closeMu.RUnlock()
		return ev, ErrClosed
	}
	l.reqs <- r
	l.closeMu.RUnlock()
	res := <-r.done
	return res.ev, res.err
}

// Query returns the events held in memory that match f, newest first: at most f.Limit of them,
// DefaultQueryLimit if it is zero, MaxQueryLimit if it is larger.
//
// Details maps in the returned events are shared with the log and other callers: read them,
// don't modify them.
func (l *Log) Query(f Filter) []Event {
	events, _ := l.index.query(f)
	return events
}

// QueryPage is Query that also reports whether more events held in memory match f beyond those
// returned: then the next page is f with Before set to the ID of the last event returned, the
// link an HTTP API gives as rel="next" (RFC 8288).
func (l *Log) QueryPage(f Filter) (events []Event, more bool) {
	return l.index.query(f)
}

// Len reports how many events are held in memory: at most the capacity, not the file's length.
func (l *Log) Len() int {
	events, _ := l.index.stats()
	return events
}

// IndexStats reports how many events are held in memory and how many bytes they count for
// against Options.MaxBytes: the length of their JSON lines, an approximation of the memory they
// hold that leaves out a fixed cost of a few hundred bytes per event, bounded by Capacity.
func (l *Log) IndexStats() (events int, bytes int64) {
	return l.index.stats()
}

// Close waits for pending appends, syncs and closes the file, and closes every subscription.
// Append after Close returns ErrClosed; so does a second Close.
func (l *Log) Close() error {
	l.closeMu.Lock()
	if l.closed {
		l.closeMu.Unlock()
		return ErrClosed
	}
	l.closed = true
	close(l.reqs)
	l.closeMu.Unlock()

	<-l.done
	l.subs.closeAll()
	if l.file == nil {
		return nil
	}
	var err error
	if l.regular && l.failed == nil {
		err = l.file.Sync()
	}
	err = errors.Join(err, l.file.Close())
	if err != nil {
		return fmt.Errorf("audit: closing %s: %w", l.file.Name(), err)
	}
	return nil
}

// run is the writer goroutine. Each round takes every request already waiting and commits them
// with one write and one fsync: while one fsync runs, the next batch gathers in reqs, so under
// load a single flush covers many events, and a lone event is not held back waiting for company.
func (l *Log) run() {
	defer close(l.done)
	batch := make([]*request, 0, maxPending)
	for r := range l.reqs {
		batch = append(batch[:0], r)
	gather:
		for len(batch) < cap(batch) {
			select {
			case r, ok := <-l.reqs:
				if !ok {
					break gather
				}
				batch = append(batch, r)
			default:
				break gather
			}
		}
		l.commit(batch)
	}
}

// commit writes a batch, in order, and answers every request in it.
func (l *Log) commit(batch []*request) {
	buf := l.buf[:0]
	encoded := make([]*request, 0, len(batch))
	stored := make([]slot, 0, len(batch))
	for _, r := range batch {
		e := r.ev
		if e.ID == "" {
			// Assigned here, in file order, so that IDs sort the way the file reads.
			e.ID = l.ids.next(l.now())
		}
		r.ev = e
		line, err := e.MarshalJSON()
		if err == nil && e.Details != nil {
			// The index gets its own copy of the details, decoded from the line so that it is
			// exactly what a reopened log would hold: numbers as float64, not json.Number.
			e = Event{}
			err = json.Unmarshal(line, &e)
		} else {
			e.own()
		}
		if err != nil {
			r.done <- result{r.ev, err}
			continue
		}
		buf = append(append(buf, line...), '\n')
		encoded = append(encoded, r)
		stored = append(stored, slot{e, int64(len(line)) + 1})
	}
	l.buf = buf

	var err error
	if l.file != nil && len(buf) > 0 {
		err = l.persist(buf)
	}
	if err == nil {
		// Index and subscribers before answering, so that an event is visible to Query by the
		// time its Append returns.
		l.index.insert(stored...)
		l.subs.publish(stored)
	}
	for _, r := range encoded {
		r.done <- result{r.ev, err}
	}
}

// persist writes buf, whole lines, to the file and syncs it.
func (l *Log) persist(buf []byte) error {
	if l.failed != nil {
		return l.failed
	}
	if _, err := l.file.Write(buf); err != nil {
		err = fmt.Errorf("audit: writing %s: %w", l.file.Name(), err)
		if l.regular {
			// A short write (disk full) leaves part of a line; cut it off, or the next batch
			// would be glued to it and the file would hold a line that can never be parsed.
			if terr := l.file.Truncate(l.size); terr != nil {
				l.failed = fmt.Errorf("%w; removing the partial write: %w", err, terr)
				return l.failed
			}
		}
		return err
	}
	if !l.regular {
		return nil
	}
	if err := l.file.Sync(); err != nil {
		// After a failed fsync Linux may drop the dirty pages and clear the error, so a retry
		// could report success for lines that never reached the disk (the PostgreSQL "fsyncgate"
		// of 2018). Refuse every later append rather than acknowledge what may be lost.
		l.failed = fmt.Errorf("audit: syncing %s: %w", l.file.Name(), err)
		return l.failed
	}
	l.syncs.Add(1)
	l.size += int64(len(buf))
	return nil
}
