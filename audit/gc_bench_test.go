package audit_test

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
)

// BenchmarkGCFullIndex is one forced garbage collection with a full index (DefaultCapacity
// events, one in ten with Details), nothing else live: what the index costs every GC cycle of a
// busy IdP. gc-cpu-ns/op is the CPU the collector spent (runtime/metrics), steadier than the
// wall time on a shared machine; live-B is the heap in use after the collection.
func BenchmarkGCFullIndex(b *testing.B) {
	l := openLog(b, audit.Options{})
	for i := range audit.DefaultCapacity {
		e := benchEvent
		if i%10 == 0 {
			e.Type = audit.TypeAdminChange
			e.Details = map[string]any{"before": map[string]any{"users": []any{"alice", "bob"}}, "after": i}
		}
		if _, err := l.Append(e); err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	gcCPU := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(gcCPU)
	before := gcCPU[0].Value.Float64()
	n := 0
	for b.Loop() {
		runtime.GC()
		n++
	}
	metrics.Read(gcCPU)
	b.ReportMetric((gcCPU[0].Value.Float64()-before)*1e9/float64(n), "gc-cpu-ns/op")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc), "live-B")
	runtime.KeepAlive(l)
}

// BenchmarkQuery is one page of the console's audit view from a full index: the newest 100
// events, then 100 of one user, who made one event in ten.
func BenchmarkQuery(b *testing.B) {
	l := openLog(b, audit.Options{})
	for i := range audit.DefaultCapacity {
		e := benchEvent
		e.User = fmt.Sprint("user", i%10)
		if _, err := l.Append(e); err != nil {
			b.Fatal(err)
		}
	}
	for _, f := range []audit.Filter{{}, {User: "user3"}} {
		b.Run(fmt.Sprintf("user=%q", f.User), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if got := l.Query(f); len(got) != 100 {
					b.Fatal(len(got))
				}
			}
		})
	}
}

// BenchmarkAppendMemorySubscribed is BenchmarkAppendMemory with a subscriber draining every
// event, as serve's log of audit events does: each event is decoded from its line once.
func BenchmarkAppendMemorySubscribed(b *testing.B) {
	l := openLog(b, audit.Options{})
	events, cancel := l.Subscribe(4096)
	defer cancel()
	go func() {
		for range events {
		}
	}()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Append(benchEvent); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendMemoryLogged is BenchmarkAppendMemory with serve's log of audit events at info
// subscribed: it skips allowed exchanges (benchEvent) before decoding them, so its allocs/op must
// be BenchmarkAppendMemory's.
func BenchmarkAppendMemoryLogged(b *testing.B) {
	l := openLog(b, audit.Options{})
	events, cancel := l.SubscribeSkipping(4096, audit.Skip{Type: audit.TypeTokenExchange, Outcome: audit.Allowed})
	defer cancel()
	go func() {
		for range events {
		}
	}()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Append(benchEvent); err != nil {
			b.Fatal(err)
		}
	}
}
