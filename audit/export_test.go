package audit

// Syncs reports how many fsyncs l's writer has done, so that benchmarks can report how many
// events each one carried.
func Syncs(l *Log) int64 { return l.syncs.Load() }

// BufferCaps reports the capacities of the buffers l keeps between batches, so that a test can
// check that a burst does not leave them large. Call it only when no Append is in flight.
func BufferCaps(l *Log) (lines, events int) { return cap(l.buf), cap(l.stored) }
