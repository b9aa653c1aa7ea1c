package audit_test

import (
	"encoding/json"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
)

// heapInUse is the heap's spans in use after a full collection: live objects, their size classes'
// rounding, and the free slots of spans that still hold a live object.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64() + s[1].Value.Uint64()
}

// TestIndexMemory holds the index of a busy IdP to what its lines need: a full index, the newest
// DefaultCapacity events appended by 8 goroutines among garbage of their own (an exchange
// allocates about 18 KB besides its event), and the same index read back by Open from the file,
// as a restart does. What the heap holds beyond the lines' own bytes is the index's bookkeeping
// (the record, line and hash of a slot, about 100 bytes); a line allocated on its own added its
// size class's rounding (704 bytes for a 654-byte line) and, the index freeing lines oldest
// first, spans of the heap kept by a few live lines among freed slots (README, "Performance",
// "Memory").
func TestIndexMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("appends 3 x DefaultCapacity events")
	}
	const maxOverhead = 140 // bytes per event beyond its line
	path := tempPath(t)
	var exchange audit.Event // as serve appends them: a 654-byte line
	if err := json.Unmarshal([]byte(exchangeLine), &exchange); err != nil {
		t.Fatal(err)
	}
	check := func(name string, before uint64, l *audit.Log) {
		t.Helper()
		n, lineBytes := audit.IndexLines(l)
		if n != audit.DefaultCapacity {
			t.Fatalf("%s: %d events held, want %d", name, n, audit.DefaultCapacity)
		}
		grown := int64(heapInUse()) - int64(before)
		per := (grown - int64(lineBytes)) / int64(n)
		t.Logf("%s: heap in use grew by %d bytes for %d events of %d bytes of lines: %d bytes per event beyond its line", name, grown, n, lineBytes, per)
		if per > maxOverhead {
			t.Errorf("%s: the index holds %d bytes per event beyond its line, want at most %d", name, per, maxOverhead)
		}
	}

	before := heapInUse()
	l, err := audit.Open(audit.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var sink [8][][]byte
	for g := range 8 {
		wg.Go(func() {
			for range 3 * audit.DefaultCapacity / 8 {
				// An exchange's garbage, some of it in the lines' size classes.
				sink[g] = append(sink[g][:0], make([]byte, 700), make([]byte, 640), make([]byte, 4096), make([]byte, 12<<10))
				if _, err := l.Append(exchange); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	sink = [8][][]byte{}
	check("appended", before, l)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = nil

	before = heapInUse()
	l, err = audit.Open(audit.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	check("reopened", before, l)
}

// exchangeLine is an allowed token exchange of the demo's configuration, from serve's audit log.
const exchangeLine = `{"time":"2026-12-05T10:19:52.146Z","id":"01a245b7a1d400011f993875","type":"token_exchange","outcome":"allowed","user":"alice","sub":"00u-alice","client_id":"mcp-client","server":"tracker","audience":"http://127.0.0.1:8101","resource":"http://127.0.0.1:8201/mcp","scope_granted":"issues.read issues.write","rule":"tracker access[0]","reason":"user alice is assigned issues.read issues.write by tracker access[0] (groups: engineering)","jti":"0y91W8prGaVzUHU6tPHgjoZ-","grant_type":"urn:ietf:params:oauth:grant-type:token-exchange","details":{"client_id_at_server":"mcp-client-at-tracker","subject_token_type":"urn:ietf:params:oauth:token-type:id_token"}}`

// TestSubscribeMemory: a subscription's buffer costs a pointer per event it can hold, not an
// event: serve's log of audit events subscribes for 4,096 (as many as one batch can publish) and
// mostly holds none, since at info an IdP logs no allowed exchanges. Held by value, the buffer took 1.4 MB
// from the start, half of what the GC scanned each cycle.
func TestSubscribeMemory(t *testing.T) {
	l := openLog(t, audit.Options{})
	before := heapInUse()
	events, cancel := l.SubscribeExcept(4096, audit.TypeTokenExchange)
	defer cancel()
	grown := int64(heapInUse()) - int64(before)
	t.Logf("a subscription for 4096 events grew the heap by %d bytes", grown)
	if grown > 256<<10 {
		t.Errorf("a subscription for 4096 events takes %d bytes of heap, want at most 256 KiB", grown)
	}
	runtime.KeepAlive(events)
}
