package audit

import (
	"os"
	"runtime"
	"time"
)

// How a batch is synced. A blocking system call such as fsync normally goes through the Go
// scheduler: once it has lasted a scheduler tick (20 µs) the runtime's monitor hands the
// thread's P to another thread, and takes one back when the call returns. An fsync lasts 100 to
// 200 µs even on a fast disk, so under load every batch paid that hand-off (a thread woken, one
// put to sleep, the monitor kept polling every 20 µs): about 13% of the CPU of a durable token
// exchange on the 2-core CI machine, where a context switch is dear. When fsyncs are fast the
// leader therefore issues it as a raw system call, keeping its P: the other P runs everything
// else meanwhile, and nothing waits longer than the fsync itself would have made the batch wait.
//
// A raw call holds that P for as long as the disk takes, and a garbage collection's
// stop-the-world waits for it too; on a slow or stalled disk that would stall the whole process
// for each fsync. So the leader keeps a moving average of fsync times and uses the raw call only
// while it stays under rawSyncMax, and only with at least two Ps (with one, the process would
// stop for every fsync). One slow fsync is enough to switch to the scheduler's call until the
// average has come down again.

// rawSyncMax is the average fsync time up to which the raw call is used.
const rawSyncMax = time.Millisecond

// syncStats is the leader's record of its fsyncs. Only the leader of the batch being committed
// uses it (see commit.go), so it needs no lock.
type syncStats struct {
	avg time.Duration // moving average, each fsync weighing 1/8
}

// useRaw reports whether the next fsync may be a raw system call.
func (s *syncStats) useRaw() bool {
	return rawSyncSupported && s.avg < rawSyncMax && runtime.GOMAXPROCS(0) >= 2
}

// observe adds one fsync's duration to the average.
func (s *syncStats) observe(d time.Duration) {
	s.avg += (d - s.avg) / 8
}

// syncFile syncs f to stable storage, as f.Sync does, by the call useRaw picks.
func (s *syncStats) syncFile(f *os.File) error {
	start := time.Now()
	var err error
	if s.useRaw() {
		err = rawSync(f)
	} else {
		err = f.Sync()
	}
	s.observe(time.Since(start))
	return err
}
