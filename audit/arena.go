package audit

// lineArena holds the index's copies of lines, many to a chunk. A line of its own would be
// rounded up to the allocator's next size class (a 654-byte exchange line takes 704 bytes), and
// the index, which frees its lines oldest first, would leave spans of the heap holding a few live
// lines among freed slots; lines copied one after the other into chunks are freed a whole chunk at
// a time, once the index has dropped every line in it (the GC keeps a chunk while any line in it
// is held, by the index or by an event being decoded). Lines are never written once copied in.
// Not safe for concurrent use: its owner copies lines in one at a time.
type lineArena struct {
	chunk []byte // the chunk lines are copied into, until it is full
}

const (
	// arenaChunk is the size of a chunk: about 100 exchange lines. At most one chunk's worth of
	// evicted lines is held beyond those the index keeps, and one is being filled.
	arenaChunk = 64 << 10
	// arenaMaxLine is the largest line copied into a chunk; larger ones get an allocation of their
	// own, so that a chunk is not started with most of the last one unused.
	arenaMaxLine = arenaChunk / 16
)

// copy returns a copy of line in the arena, its capacity limited to its length so that no append
// reaches the next line.
func (a *lineArena) copy(line []byte) []byte {
	if len(line) > arenaMaxLine {
		return append([]byte(nil), line...)
	}
	if cap(a.chunk)-len(a.chunk) < len(line) {
		a.chunk = make([]byte, 0, arenaChunk)
	}
	n := len(a.chunk)
	a.chunk = append(a.chunk, line...)
	return a.chunk[n:len(a.chunk):len(a.chunk)]
}
