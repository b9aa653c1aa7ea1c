package audit

import (
	"sync"
	"time"
)

// DefaultCapacity is the number of events kept in memory when Options.Capacity is zero.
const DefaultCapacity = 10000

// DefaultLimit is the number of events Query returns when Filter.Limit is zero.
const DefaultLimit = 100

// Filter selects events for [Log.Query]. The zero Filter selects the newest DefaultLimit events.
type Filter struct {
	Type, User, Client, Server, Outcome string // exact match when non-empty (Client matches ClientID)

	Since, Until time.Time // Since inclusive, Until exclusive; zero means unbounded

	// Before, when set, selects only events appended before the event with this ID: pass the ID
	// of the last event of one page to get the next. An ID no longer in memory selects nothing,
	// since every older event has been evicted too.
	Before string

	Limit int // at most this many events; 0 (or less) means DefaultLimit; capped at Capacity
}

func (f *Filter) match(e *Event) bool {
	return (f.Type == "" || e.Type == f.Type) &&
		(f.User == "" || e.User == f.User) &&
		(f.Client == "" || e.ClientID == f.Client) &&
		(f.Server == "" || e.Server == f.Server) &&
		(f.Outcome == "" || e.Outcome == f.Outcome) &&
		(f.Since.IsZero() || !e.Time.Before(f.Since)) &&
		(f.Until.IsZero() || e.Time.Before(f.Until))
}

// ring holds the newest events in append order, oldest evicted first. Each event has a sequence
// number (its position among all events ever inserted) so that a pagination cursor can be found
// by ID without scanning.
type ring struct {
	mu       sync.RWMutex
	capacity int
	buf      []Event // grows up to capacity, then wraps
	head     int     // index in buf of the oldest event once buf is full
	total    uint64  // events ever inserted; the newest has sequence total-1
	seq      map[string]uint64
}

func newRing(capacity int) *ring {
	return &ring{capacity: capacity, seq: make(map[string]uint64)}
}

// insert adds events, oldest first.
func (r *ring) insert(evs ...Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range evs {
		if len(r.buf) < r.capacity {
			r.buf = append(r.buf, e)
		} else {
			old := r.buf[r.head].ID
			// IDs are unique unless a caller supplied a duplicate; then the map points at the
			// newer one and must keep doing so.
			if s, ok := r.seq[old]; ok && s == r.total-uint64(r.capacity) {
				delete(r.seq, old)
			}
			r.buf[r.head] = e
			r.head = (r.head + 1) % r.capacity
		}
		r.seq[e.ID] = r.total
		r.total++
	}
}

func (r *ring) len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.buf)
}

// at returns the i-th oldest event held.
func (r *ring) at(i int) *Event {
	return &r.buf[(r.head+i)%len(r.buf)]
}

func (r *ring) query(f Filter) []Event {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, r.capacity)

	r.mu.RLock()
	defer r.mu.RUnlock()
	n := len(r.buf)
	end := n // scan positions [0, end), newest first
	if f.Before != "" {
		s, ok := r.seq[f.Before]
		if !ok {
			return []Event{}
		}
		end = int(s - (r.total - uint64(n)))
	}
	out := make([]Event, 0, min(limit, end))
	for i := end - 1; i >= 0 && len(out) < limit; i-- {
		if e := r.at(i); f.match(e) {
			out = append(out, *e)
		}
	}
	return out
}
