package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
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
	ev     Event  // bounded; its ID is filled in by commit if it had none
	line   []byte // ev encoded
	idAt   int    // offset in line of the empty ID that commit fills in, or -1
	stored Event  // the index's copy of ev
	err    error  // set by commit
}

// encode prepares r.ev for commit: its line, and the index's copy.
func (r *request) encode() error {
	line, err := r.ev.MarshalJSON()
	if err != nil {
		return err
	}
	r.line, r.idAt = line, -1
	if r.ev.ID == "" {
		// Assigned by commit, in file order, so that IDs sort the way the file reads. An empty
		// ID is written as "id":"", which the fixed-width time before it keeps from appearing
		// earlier in the line.
		r.idAt = bytes.Index(line, []byte(`"id":""`)) + len(`"id":"`)
	}
	if r.ev.Details == nil {
		r.stored = r.ev
		r.stored.own()
		return nil
	}
	// The index gets its own copy of the details, decoded from the line so that it is exactly
	// what a reopened log would hold: numbers as float64, not json.Number.
	return json.Unmarshal(line, &r.stored)
}

// groupCommit puts r in a batch and returns once the batch has been committed, r.err set; or
// returns ErrClosed.
func (l *Log) groupCommit(r *request) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	if b := l.open; b != nil && len(b.reqs) < maxBatchEvents && b.bytes < maxBatchBytes {
		b.reqs = append(b.reqs, r)
		b.bytes += len(r.line)
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
	if l.open == b {
		l.open = nil
	}
	reqs := b.reqs
	b.reqs = nil // no one else reads it once it is taken; don't keep its events alive
	l.mu.Unlock()

	l.commit(reqs)
	close(b.done)
	return nil
}

// commit writes a batch, in order, and sets the result of every request in it.
func (l *Log) commit(reqs []*request) {
	now := l.now()
	buf, stored := l.buf[:0], l.stored[:0]
	for _, r := range reqs {
		start := len(buf)
		if r.idAt >= 0 {
			r.ev.ID = l.ids.next(now)
			r.stored.ID = r.ev.ID
			buf = append(buf, r.line[:r.idAt]...)
			buf = append(buf, r.ev.ID...)
			buf = append(buf, r.line[r.idAt:]...)
		} else {
			buf = append(buf, r.line...)
		}
		buf = append(buf, '\n')
		stored = append(stored, slot{r.stored, int64(len(buf) - start)})
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
