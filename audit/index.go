package audit

import (
	"sync"
	"time"
)

// DefaultCapacity is the number of events kept in memory when Options.Capacity is zero.
const DefaultCapacity = 10000

// DefaultMaxBytes is the most bytes of events kept in memory when Options.MaxBytes is zero: room
// for DefaultCapacity events of about 1.7 KB, several times the size of a typical one.
const DefaultMaxBytes = 16 << 20

// DefaultQueryLimit is the number of events Query returns when Filter.Limit is zero.
const DefaultQueryLimit = 100

// MaxQueryLimit is the most events one Query returns, whatever Filter.Limit asks: a page, not a
// copy of the whole index per request. Page through more with Filter.Before and
// [Log.QueryPage]'s more.
const MaxQueryLimit = 1000

// DefaultLimit is the former name of DefaultQueryLimit.
//
// Deprecated: use DefaultQueryLimit.
const DefaultLimit = DefaultQueryLimit

// Filter selects events for [Log.Query]. The zero Filter selects the newest DefaultQueryLimit
// events.
type Filter struct {
	Type, User, Client, Server, Outcome string // exact match when non-empty (Client matches ClientID)
	Tenant                              string // exact match when non-empty

	Since, Until time.Time // Since inclusive, Until exclusive; zero means unbounded

	// Before, when set, selects only events appended before the event with this ID, strictly:
	// pass the ID of the last event of one page to get the next. An ID no longer in memory
	// selects nothing, since every older event has been evicted too.
	Before string

	Limit int // at most this many events; 0 (or less) means DefaultQueryLimit; capped at MaxQueryLimit
}

func (f *Filter) match(e *Event) bool {
	return (f.Type == "" || e.Type == f.Type) &&
		(f.Tenant == "" || e.Tenant == f.Tenant) &&
		(f.User == "" || e.User == f.User) &&
		(f.Client == "" || e.ClientID == f.Client) &&
		(f.Server == "" || e.Server == f.Server) &&
		(f.Outcome == "" || e.Outcome == f.Outcome) &&
		(f.Since.IsZero() || !e.Time.Before(f.Since)) &&
		(f.Until.IsZero() || e.Time.Before(f.Until))
}

// ring holds the newest events in append order, oldest evicted first once there are more than
// capacity of them or their sizes add up to more than maxBytes. Each event has a sequence number
// (its position among all events ever inserted) so that a pagination cursor can be found by ID
// without scanning.
type ring struct {
	mu       sync.RWMutex
	capacity int
	maxBytes int64
	buf      []slot // circular, grown up to capacity; the oldest event is at head
	head     int
	n        int    // events held
	bytes    int64  // sum of their sizes
	total    uint64 // events ever inserted; the newest has sequence total-1
	seq      map[string]uint64
}

// slot is one event held, with the size it counts for against maxBytes.
type slot struct {
	ev   Event
	size int64
}

func newRing(capacity int, maxBytes int64) *ring {
	return &ring{capacity: capacity, maxBytes: maxBytes, seq: make(map[string]uint64)}
}

// insert adds events, oldest first.
func (r *ring) insert(evs ...slot) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range evs {
		if r.n == len(r.buf) {
			if r.n == r.capacity {
				r.evict()
			} else {
				r.grow()
			}
		}
		r.buf[(r.head+r.n)%len(r.buf)] = s
		r.n++
		r.bytes += s.size
		r.seq[s.ev.ID] = r.total
		r.total++
		// The newest event stays whatever its size, or Append could return an event that
		// Query does not show.
		for r.bytes > r.maxBytes && r.n > 1 {
			r.evict()
		}
	}
}

// grow makes room for more events, up to capacity, keeping them in order. Growing by doubling
// rather than allocating capacity slots up front keeps a small log small.
func (r *ring) grow() {
	buf := make([]slot, min(max(2*len(r.buf), 64), r.capacity))
	for i := range r.n {
		buf[i] = r.buf[(r.head+i)%len(r.buf)]
	}
	r.buf, r.head = buf, 0
}

// evict removes the oldest event.
func (r *ring) evict() {
	old := &r.buf[r.head]
	// IDs are unique unless a caller supplied a duplicate; then the map points at the newer
	// one and must keep doing so.
	if s, ok := r.seq[old.ev.ID]; ok && s == r.total-uint64(r.n) {
		delete(r.seq, old.ev.ID)
	}
	r.bytes -= old.size
	*old = slot{} // a slot emptied by the byte bound may not be reused for a long time
	r.head = (r.head + 1) % len(r.buf)
	r.n--
}

func (r *ring) stats() (events int, bytes int64) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.n, r.bytes
}

// at returns the i-th oldest event held.
func (r *ring) at(i int) *Event {
	return &r.buf[(r.head+i)%len(r.buf)].ev
}

// query returns the newest events that match f, newest first, and whether an older one matches
// too.
func (r *ring) query(f Filter) (events []Event, more bool) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultQueryLimit
	}
	limit = min(limit, MaxQueryLimit)

	r.mu.RLock()
	defer r.mu.RUnlock()
	n := r.n
	end := n // scan positions [0, end), newest first
	if f.Before != "" {
		s, ok := r.seq[f.Before]
		if !ok {
			return []Event{}, false
		}
		end = int(s - (r.total - uint64(n)))
	}
	out := make([]Event, 0, min(limit, end))
	for i := end - 1; i >= 0; i-- {
		if e := r.at(i); f.match(e) {
			if len(out) == limit {
				return out, true
			}
			out = append(out, *e)
		}
	}
	return out, false
}
