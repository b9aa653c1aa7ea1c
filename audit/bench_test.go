package audit_test

import (
	"crypto/sha256"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
)

var benchEvent = audit.Event{
	Time: time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC), Type: audit.TypeTokenExchange,
	Outcome: audit.Allowed, User: "alice", Sub: "00u-alice", ClientID: "mcp-client", Server: "chat",
	Audience: "https://as.chat.example", Resource: "https://mcp.chat.example/mcp",
	ScopeRequested: "chat.read chat.write", ScopeGranted: "chat.read", Rule: "chat access[1]",
	Reason: "user alice is assigned chat.read", JTI: "0b7f1c2e-5d1a-4c55-9d0e-6a1f3c7e2b90",
}

// appendInParallel appends benchEvent from clients goroutines (rounded up to a multiple of
// GOMAXPROCS) to a new file-backed log, each doing work rounds of SHA-256 before its Append (600
// is about 100 µs, an exchange's signature check and signing), and announcing the Append
// (Log.Expect) before the work when expect is set, as the token endpoint does. It reports
// events/fsync, the average batch, and cpu-µs/op, the process's CPU time per append with the
// work (Linux): fewer fsyncs lower it, which wall time does not show while the clients keep the
// cores busy. It returns the log for further metrics.
func appendInParallel(b *testing.B, clients, work int, expect bool) *audit.Log {
	l := openLog(b, audit.Options{Path: tempPath(b)})
	b.SetParallelism((clients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ReportAllocs()
	cpu0, cpuOK := processCPU()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var sum [sha256.Size]byte
		for pb.Next() {
			x := audit.Expectation{}
			if expect {
				x = l.Expect()
			}
			for range work {
				sum = sha256.Sum256(sum[:])
			}
			var err error
			if expect {
				_, err = x.Append(benchEvent)
			} else {
				_, err = l.Append(benchEvent)
			}
			x.End()
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	if cpu1, ok := processCPU(); ok && cpuOK {
		b.ReportMetric(float64(cpu1-cpu0)/1e3/float64(b.N), "cpu-µs/op")
	}
	b.ReportMetric(float64(b.N)/float64(max(l.Syncs(), 1)), "events/fsync")
	return l
}

// BenchmarkAppendParallel appends from many goroutines at once, as an IdP's request handlers do.
// Compare ns/op with BenchmarkFsyncFloor's: their ratio is what group commit buys.
func BenchmarkAppendParallel(b *testing.B) {
	// 32 goroutines per GOMAXPROCS: handlers wait on the disk, not the CPU.
	appendInParallel(b, 32*runtime.GOMAXPROCS(0), 0, false)
}

// BenchmarkAppend4Clients appends from four goroutines, the load of four HTTP clients, each
// sending its next exchange once the last one is answered. Few waiters make small batches, so
// this is where the batching rule shows.
func BenchmarkAppend4Clients(b *testing.B) {
	appendInParallel(b, 4, 0, false)
}

// BenchmarkAppend4ClientsWithWork is BenchmarkAppend4Clients with about 100 µs of CPU work before
// each Append, so that appenders arrive spread out rather than all at once, as requests do.
func BenchmarkAppend4ClientsWithWork(b *testing.B) {
	appendInParallel(b, 4, 600, false)
}

// BenchmarkAppendExpected is BenchmarkAppend4ClientsWithWork with 8 clients, each announcing its
// Append before its work or not: events/fsync is what the commit delay adds to group commit,
// waited/op how many commits waited for expected appends.
func BenchmarkAppendExpected(b *testing.B) {
	for _, expect := range []bool{false, true} {
		b.Run(fmt.Sprintf("expect=%v", expect), func(b *testing.B) {
			l := appendInParallel(b, 8, 600, expect)
			b.ReportMetric(float64(audit.Delays(l))/float64(b.N), "waited/op")
		})
	}
}

// BenchmarkFsyncFloor is the cost without group commit: one write and one fsync per event line.
func BenchmarkFsyncFloor(b *testing.B) {
	f, err := os.OpenFile(tempPath(b), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	line, err := benchEvent.MarshalJSON()
	if err != nil {
		b.Fatal(err)
	}
	line = append(line, '\n')
	for b.Loop() {
		if _, err := f.Write(line); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendMemory is the cost of an Append without a file: encoding and indexing.
func BenchmarkAppendMemory(b *testing.B) {
	l := openLog(b, audit.Options{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Append(benchEvent); err != nil {
			b.Fatal(err)
		}
	}
}
