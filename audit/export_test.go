package audit

// Syncs reports how many fsyncs l's writer has done, so that benchmarks can report how many
// events each one carried.
func Syncs(l *Log) int64 { return l.syncs.Load() }
