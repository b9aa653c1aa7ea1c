package audit

import (
	"bytes"
	"hash/maphash"
	"math"
	"slices"
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
// copy of the whole index per request. Page through more with Filter.Before (or After) and
// [Log.QueryPage]'s more.
const MaxQueryLimit = 1000

// DefaultLimit is the former name of DefaultQueryLimit.
//
// Deprecated: use DefaultQueryLimit.
const DefaultLimit = DefaultQueryLimit

// Filter selects events for [Log.Query]. The zero Filter selects the newest DefaultQueryLimit
// events.
type Filter struct {
	// Exact match when non-empty (Client matches ClientID); User matches an event's user or an
	// element of its details.users (Event.Names).
	Type, User, Client, Server, Outcome string
	Tenant                              string // exact match when non-empty

	Since, Until time.Time // Since inclusive, Until exclusive; zero means unbounded

	// Before, when set, selects only events appended before the event with this ID, strictly:
	// pass the ID of the last event of one page to get the next. An ID no longer in memory
	// selects nothing, since every older event has been evicted too.
	Before string

	// After, when set, selects only events appended after the event with this ID, strictly,
	// and of those the oldest: with the ID of the first event of one page, the page before it
	// (newer), still newest first, and more reports whether yet newer events match. An ID
	// older than every event in memory (evicted since) selects from the oldest held; any other
	// ID not in memory selects nothing.
	After string

	Limit int // at most this many events; 0 (or less) means DefaultQueryLimit; capped at MaxQueryLimit
}

// The index keeps each event as its JSON line, one allocation that holds no pointers, and a
// record of the fields queries filter on, with no pointers at all. An index of Events (dozens of
// strings and a Details map each, and a map keyed by their IDs) held hundreds of thousands of
// pointers that every garbage collection cycle had to trace, a large share of an exchange's CPU
// under load; this holds one per event. Query and Subscribe decode the lines of the events they
// return, and only those.

// span is where a JSON string (quotes included) is in a line; n is 0 for an omitted field.
type span struct{ off, n uint32 }

// spans locate the strings the index filters on in an event's line.
// users is the value of details.users (the users a change named: a SCIM change of a group's
// members), n 0 when there is none.
type spans struct{ id, typ, tenant, outcome, user, client, server, users span }

// record is what the index knows of an event without decoding its line.
type record struct {
	sec  int64  // Time, Unix seconds; Time is kept here exactly, whatever the line's precision
	nsec int32  // and nanoseconds
	size uint32 // the bytes it counts for against maxBytes: its line in the file, newline included
	spans
}

// slot is one event for the index: its line (not decoded, without the newline) and its record.
type slot struct {
	line []byte
	rec  record
}

// newSlot makes the index's copy of a bounded event: its line, encoded into scratch and copied
// into lines, and its record; size is the length of its line in the file, newline included.
func newSlot(e *Event, scratch []byte, lines *lineArena, size int64) (slot, []byte, error) {
	var sp spans
	enc := e
	if y := e.Time.UTC().Year(); y < 0 || y > 9999 {
		// A time read from a file in another offset can land outside the years the line format
		// writes; the record keeps the time, so the line's own does not matter.
		c := *e
		c.Time = time.Time{}
		enc = &c
	}
	line, err := enc.appendJSON(scratch[:0], &sp)
	if err != nil {
		return slot{}, scratch, err
	}
	return slot{line: lines.copy(line), rec: newRecord(e.Time, size, sp)}, line, nil
}

func newRecord(t time.Time, size int64, sp spans) record {
	return record{sec: t.Unix(), nsec: int32(t.Nanosecond()), size: uint32(min(size, math.MaxUint32)), spans: sp}
}

// field returns the JSON string at sp in line, quotes included, or nil if it was omitted.
func field(line []byte, sp span) []byte {
	if sp.n == 0 {
		return nil
	}
	return line[sp.off : sp.off+sp.n]
}

// decode returns the event of a slot. Its Details are decoded from the line, as a reopened log
// decodes them: numbers as float64.
func (s *slot) decode() Event {
	var e Event
	// The line is the encoder's output, so it decodes; were it ever not, encoding/json would
	// have its say.
	if err := decodeLine(s.line, &e); err != nil {
		e = Event{}
		_ = e.UnmarshalJSON(s.line)
	}
	e.Time = time.Unix(s.rec.sec, int64(s.rec.nsec)).UTC()
	return e
}

// matcher is a Filter prepared for records: its strings as they appear in lines.
type matcher struct {
	typ, tenant, user, client, server, outcome []byte // nil matches any

	since, until         bool
	sinceSec, untilSec   int64
	sinceNsec, untilNsec int32
}

func newMatcher(f *Filter) *matcher {
	quoted := func(s string) []byte {
		if s == "" {
			return nil
		}
		// The encoder is deterministic, so equal strings have equal encodings. A filter string
		// that is not valid UTF-8 encodes with a \ufffd escape, which no bounded (valid)
		// string's encoding holds, so it matches nothing, as before.
		return appendString(nil, s)
	}
	m := &matcher{
		typ: quoted(f.Type), tenant: quoted(f.Tenant), user: quoted(f.User),
		client: quoted(f.Client), server: quoted(f.Server), outcome: quoted(f.Outcome),
	}
	if !f.Since.IsZero() {
		m.since, m.sinceSec, m.sinceNsec = true, f.Since.Unix(), int32(f.Since.Nanosecond())
	}
	if !f.Until.IsZero() {
		m.until, m.untilSec, m.untilNsec = true, f.Until.Unix(), int32(f.Until.Nanosecond())
	}
	return m
}

func (m *matcher) match(line []byte, r *record) bool {
	eq := func(want []byte, sp span) bool {
		return want == nil || bytes.Equal(field(line, sp), want)
	}
	return eq(m.typ, r.typ) && eq(m.tenant, r.tenant) &&
		(eq(m.user, r.user) || m.user != nil && holds(field(line, r.users), m.user)) &&
		eq(m.client, r.client) && eq(m.server, r.server) && eq(m.outcome, r.outcome) &&
		(!m.since || !timeBefore(r.sec, r.nsec, m.sinceSec, m.sinceNsec)) &&
		(!m.until || timeBefore(r.sec, r.nsec, m.untilSec, m.untilNsec))
}

// holds reports whether the JSON array arr, as the encoder writes it, has the JSON string want
// as an element; false for anything else.
func holds(arr, want []byte) bool {
	if len(arr) < 2 || arr[0] != '[' {
		return false
	}
	for i := 1; i < len(arr) && arr[i] == '"'; {
		j := i + 1 // the element's closing quote
		for j < len(arr) && arr[j] != '"' {
			if arr[j] == '\\' {
				j++
			}
			j++
		}
		if j >= len(arr) {
			return false
		}
		if bytes.Equal(arr[i:j+1], want) {
			return true
		}
		if j+1 < len(arr) && arr[j+1] == ',' {
			i = j + 2
		} else {
			return false
		}
	}
	return false
}

func timeBefore(sec int64, nsec int32, sec2 int64, nsec2 int32) bool {
	return sec < sec2 || sec == sec2 && nsec < nsec2
}

// ring holds the newest events in append order, oldest evicted first once there are more than
// capacity of them or their sizes add up to more than maxBytes. Each event has a sequence number
// (its position among all events ever inserted) so that a pagination cursor can be found by ID
// without scanning.
type ring struct {
	mu       sync.RWMutex
	capacity int
	maxBytes int64
	lines    [][]byte // circular, grown up to capacity; the oldest event is at head
	recs     []record // the records of lines, at the same positions
	hashes   []uint64 // the seq keys of their IDs, at the same positions: evict need not read the line
	head     int
	n        int    // events held
	bytes    int64  // sum of their sizes
	total    uint64 // events ever inserted; the newest has sequence total-1
	// seq maps the hash of an event's ID (as written in its line) to its sequence number: keys
	// without pointers, for the GC's sake. A lookup checks the ID it finds, and scans if it is
	// not the one wanted (a collision).
	seq  map[uint64]uint64
	seed maphash.Seed
}

func newRing(capacity int, maxBytes int64) *ring {
	return &ring{capacity: capacity, maxBytes: maxBytes, seq: make(map[uint64]uint64), seed: maphash.MakeSeed()}
}

// insert adds events, oldest first.
func (r *ring) insert(evs ...slot) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range evs {
		if r.n == len(r.lines) {
			if r.n == r.capacity {
				r.evict()
			} else {
				r.grow()
			}
		}
		i := (r.head + r.n) % len(r.lines)
		h := maphash.Bytes(r.seed, field(s.line, s.rec.id))
		r.lines[i], r.recs[i], r.hashes[i] = s.line, s.rec, h
		r.n++
		r.bytes += int64(s.rec.size)
		r.seq[h] = r.total
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
	size := min(max(2*len(r.lines), 64), r.capacity)
	lines, recs, hashes := make([][]byte, size), make([]record, size), make([]uint64, size)
	for i := range r.n {
		j := (r.head + i) % len(r.lines)
		lines[i], recs[i], hashes[i] = r.lines[j], r.recs[j], r.hashes[j]
	}
	r.lines, r.recs, r.hashes, r.head = lines, recs, hashes, 0
}

// evict removes the oldest event.
func (r *ring) evict() {
	rec := &r.recs[r.head]
	// IDs are unique unless a caller supplied a duplicate; then the map points at the newer
	// one and must keep doing so.
	h := r.hashes[r.head]
	if s, ok := r.seq[h]; ok && s == r.total-uint64(r.n) {
		delete(r.seq, h)
	}
	r.bytes -= int64(rec.size)
	r.lines[r.head] = nil // a slot emptied by the byte bound may not be reused for a long time
	*rec = record{}
	r.head = (r.head + 1) % len(r.lines)
	r.n--
}

func (r *ring) stats() (events int, bytes int64) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.n, r.bytes
}

// pos returns the position in lines and recs of the i-th oldest event held.
func (r *ring) pos(i int) int { return (r.head + i) % len(r.lines) }

// find returns the age (0 for the oldest) of the newest event held with the given ID.
func (r *ring) find(id string) (int, bool) {
	want := appendString(nil, id)
	s, ok := r.seq[maphash.Bytes(r.seed, want)]
	if !ok {
		return 0, false
	}
	i := int(s - (r.total - uint64(r.n)))
	if p := r.pos(i); bytes.Equal(field(r.lines[p], r.recs[p].id), want) {
		return i, true
	}
	for i := r.n - 1; i >= 0; i-- { // a hash collision: another ID holds the key
		if p := r.pos(i); bytes.Equal(field(r.lines[p], r.recs[p].id), want) {
			return i, true
		}
	}
	return 0, false
}

// query returns the newest events that match f (with f.After, the oldest newer than it), newest
// first, and whether one beyond them matches too: older, or with f.After newer.
func (r *ring) query(f Filter) (events []Event, more bool) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultQueryLimit
	}
	limit = min(limit, MaxQueryLimit)
	m := newMatcher(&f)

	r.mu.RLock()
	start, end := 0, r.n // scan positions [start, end)
	if f.Before != "" {
		i, ok := r.find(f.Before)
		if !ok {
			r.mu.RUnlock()
			return []Event{}, false
		}
		end = i
	}
	if f.After != "" {
		i, ok := r.find(f.After)
		switch {
		case ok:
			start = i + 1
		case r.evicted(f.After):
			// Every event held is newer.
		default:
			r.mu.RUnlock()
			return []Event{}, false
		}
	}
	// Collect the matching slots under the lock, decode them after it: lines are never
	// modified once inserted, so they stay valid when evicted.
	found := make([]slot, 0, min(limit, max(end-start, 0)))
	from, to, step := end-1, start-1, -1 // newest first
	if f.After != "" {
		from, to, step = start, end, 1 // oldest first, reversed below
	}
	for i := from; i != to && start < end; i += step {
		if p := r.pos(i); m.match(r.lines[p], &r.recs[p]) {
			if len(found) == limit {
				more = true
				break
			}
			found = append(found, slot{r.lines[p], r.recs[p]})
		}
	}
	r.mu.RUnlock()
	if f.After != "" {
		slices.Reverse(found)
	}
	events = make([]Event, len(found))
	for i := range found {
		events[i] = found[i].decode()
	}
	return events, more
}

// evicted reports whether id, not held, is older than every event held: IDs of one width sort
// in append order (idGen), and so do their JSON strings.
func (r *ring) evicted(id string) bool {
	if r.n == 0 {
		return false
	}
	want, oldest := appendString(nil, id), field(r.lines[r.head], r.recs[r.head].id)
	return len(want) == len(oldest) && bytes.Compare(want, oldest) < 0
}
