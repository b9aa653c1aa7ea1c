package audit

import (
	"fmt"
	"sync"
)

// Group commit. Appends that arrive while a batch is being written and synced queue up in the
// next batch, which is committed, with one write and one sync, as soon as the previous one is
// done: under load one flush covers many events, and a lone event waits for nobody.
//
// There is no writer goroutine. The first Append to open a batch is its leader: it waits for the
// previous batch to be done, takes its batch (later appends open the next one), commits it, and
// wakes the others in it by closing done. A lone Append thus commits its own event on its own
// goroutine, without waking another one and being woken in turn, which cost more CPU than
// encoding the event did. Leaders take turns in batch order, so IDs are assigned and lines
// written in one order, and the commit state of Log needs no lock.

// maxBatchEvents and maxBatchBytes bound a batch, and so the write buffer: an Append that finds
// the open batch full opens the next one. A batch of at most 1 MiB still flushes in one write.
const (
	maxBatchEvents = 4096
	maxBatchBytes  = 1 << 20
)

// maxKeptBuffer and maxKeptEvents are the largest write buffer, and the most slots of the
// index's copies, kept for the next batch: after a burst, buffers grown for it are dropped
// rather than held for the life of the log.
const (
	maxKeptBuffer = 64 << 10
	maxKeptEvents = 256
)

// batch is the appends committed together.
type batch struct {
	reqs  []*request    // guarded by Log.mu until the leader takes the batch
	bytes int           // of the reqs' lines, guarded like reqs
	done  chan struct{} // closed once every request in the batch has its result
}

// request is one Append on its way through a batch.
type request struct {
	ev   Event   // bounded; its ID is filled in by commit if it had none
	line []byte  // ev encoded, in buf: the file's line, which commit copies into the index
	buf  *[]byte // from scratch, until release
	rec  record  // the index's record of line
	err  error   // set by commit
}

// scratch holds the buffers lines are encoded into, each an append's until its batch is
// committed, when the index has copied the line into its arena (arena.go).
var scratch = sync.Pool{New: func() any { return new([]byte) }}

// encode prepares r.ev for commit: its line and record. The line is in a buffer of scratch that
// r holds until release.
func (r *request) encode() error {
	bp := scratch.Get().(*[]byte)
	r.buf = bp
	e := r.ev
	if e.ID == "" {
		// Assigned by commit, in file order, so that IDs sort the way the file reads; written
		// over this placeholder of the same width.
		e.ID = idPlaceholder
	}
	var sp spans
	line, err := e.appendJSON((*bp)[:0], &sp)
	if err != nil {
		return err
	}
	*bp = line // grown, if it had to
	r.line = line
	r.rec = newRecord(e.Time, int64(len(line))+1, sp)
	return nil
}

// release gives r's encoding buffer back to scratch, once its batch is committed and nothing
// reads r.line any more; a buffer grown beyond maxKeptScratch is dropped.
func (r *request) release() {
	bp := r.buf
	if bp == nil {
		return
	}
	r.buf, r.line = nil, nil
	if cap(*bp) <= maxKeptScratch {
		scratch.Put(bp)
	}
}

// idPlaceholder stands in a line for the ID commit assigns: as wide as the IDs it makes.
const idPlaceholder = "000000000000000000000000"

// maxKeptScratch is the largest encoding buffer kept for the next event.
const maxKeptScratch = 16 << 10

// groupCommit puts r in a batch and returns once the batch has been committed, r.err set; or
// returns ErrClosed. The expectation t, if any, ends as r joins or opens a batch: a leader waiting
// for expected appends (delayCommit) stops counting r as on its way.
func (l *Log) groupCommit(r *request, t *ticket) error {
	l.mu.Lock()
	l.end(t, true)
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	if b := l.open; b != nil && len(b.reqs) < maxBatchEvents && b.bytes < maxBatchBytes {
		b.reqs = append(b.reqs, r)
		b.bytes += len(r.line)
		l.wakeIfSatisfied()
		l.mu.Unlock()
		<-b.done
		return nil
	}
	b := &batch{reqs: []*request{r}, bytes: len(r.line), done: make(chan struct{})}
	prev := l.last
	l.open, l.last = b, b
	l.mu.Unlock()

	if prev != nil {
		<-prev.done // meanwhile b gathers the appends that arrive
	}
	l.mu.Lock()
	l.delayCommit(b) // and those known, or likely, to be on their way
	if l.open == b {
		l.open = nil
	}
	reqs := b.reqs
	b.reqs = nil // no one else reads it once it is taken; don't keep its events alive
	l.mu.Unlock()

	l.safeCommit(reqs)
	l.lastCommit = l.clock()
	close(b.done)
	return nil
}

// safeCommit is commit, except that a panic in it (a write, an fsync, the index) does not leave
// the batch uncommitted for ever: its leader would never close done, so the batch's appends and
// every later batch's leader would wait for good. Every request of the batch gets an error, as
// for a failed write (none is acknowledged that may not be durable); lines written but not known
// synced are cut off again when the file can be; and the next batch commits as usual.
func (l *Log) safeCommit(reqs []*request) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		err := fmt.Errorf("audit: committing %d events failed: panic: %v", len(reqs), p)
		if l.file != nil && l.regular {
			if terr := l.file.Truncate(l.size); terr != nil {
				err = l.fail(fmt.Errorf("%w; removing its lines: %w", err, terr))
			}
		}
		for _, r := range reqs {
			r.err = err
		}
		l.buf, l.stored = l.buf[:0], l.stored[:0]
	}()
	l.commit(reqs)
}

// commit writes a batch, in order, and sets the result of every request in it. It is called by
// the batch's leader, or under mu for a log without a file (appendMemory).
func (l *Log) commit(reqs []*request) {
	now := l.now()
	buf, stored := l.buf[:0], l.stored[:0]
	for _, r := range reqs {
		if r.ev.ID == "" {
			r.ev.ID = l.ids.next(now)
			r.setID()
		}
		if l.file != nil {
			buf = append(buf, r.line...)
			buf = append(buf, '\n')
		}
		stored = append(stored, slot{l.lines.copy(r.line), r.rec})
	}

	var err error
	if l.file != nil {
		err = l.persist(buf)
	}
	if err == nil {
		// Index and subscribers before answering, so that an event is visible to Query by the
		// time its Append returns.
		l.index.insert(stored...)
		l.subs.publish(stored)
	}
	for _, r := range reqs {
		r.err = err
	}

	clear(stored) // the index has its copies; these would keep evicted events alive
	if cap(buf) > maxKeptBuffer {
		buf = nil
	}
	if cap(stored) > maxKeptEvents {
		stored = nil
	}
	l.buf, l.stored = buf[:0], stored[:0]
}

// setID writes r.ev.ID, just assigned, into r.line in place of the placeholder; in a new line if
// it is not as wide (a clock beyond the year 10889).
func (r *request) setID() {
	sp := r.rec.id
	if len(r.ev.ID)+2 == int(sp.n) { // idGen's IDs are hex digits: nothing to escape
		copy(r.line[sp.off+1:], r.ev.ID)
		return
	}
	id := appendString(nil, r.ev.ID)
	line := make([]byte, 0, len(r.line)-int(sp.n)+len(id))
	line = append(line, r.line[:sp.off]...)
	line = append(line, id...)
	line = append(line, r.line[sp.off+sp.n:]...)
	shift := func(s *span) {
		if s.n != 0 && s.off > sp.off {
			s.off = uint32(int(s.off) + len(id) - int(sp.n))
		}
	}
	for _, s := range []*span{&r.rec.typ, &r.rec.tenant, &r.rec.outcome, &r.rec.user, &r.rec.client, &r.rec.server} {
		shift(s)
	}
	r.rec.id.n = uint32(len(id))
	r.rec.size = uint32(len(line) + 1)
	r.line = line
}

// fail makes the log refuse every later append with err, and returns it.
func (l *Log) fail(err error) error {
	l.failed = err
	l.broken.Store(&err)
	return err
}

// persist writes buf, whole lines, to the file and syncs it.
func (l *Log) persist(buf []byte) error {
	if l.failed != nil {
		return l.failed
	}
	if l.regular {
		if err := l.reopen(); err != nil {
			return err
		}
	}
	if n, err := l.file.Write(buf); err != nil {
		err = fmt.Errorf("audit: writing %s: %w", l.file.Name(), err)
		if l.regular && n > 0 {
			// A short write (disk full) leaves part of a line; cut it off, or the next batch
			// would be glued to it and the file would hold a line that can never be parsed.
			// A write that wrote nothing (an immutable or read-only file) leaves nothing to
			// cut, and a truncation it would refuse too must not fail the log for good.
			if terr := l.file.Truncate(l.size); terr != nil {
				return l.fail(fmt.Errorf("%w; removing the partial write: %w", err, terr))
			}
		}
		return err
	}
	if !l.regular {
		return nil
	}
	sync := l.syncStats.syncFile
	if l.syncHook != nil {
		sync = l.syncHook
	}
	if err := sync(l.file); err != nil {
		// After a failed fsync Linux may drop the dirty pages and clear the error, so a retry
		// could report success for lines that never reached the disk (the PostgreSQL "fsyncgate"
		// of 2018). Refuse every later append rather than acknowledge what may be lost.
		return l.fail(fmt.Errorf("audit: syncing %s: %w", l.file.Name(), err))
	}
	l.syncs.Add(1)
	l.size += int64(len(buf))
	return nil
}
