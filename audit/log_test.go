package audit_test

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
)

func TestAppend_FillsIDAndTimeFromTheClock(t *testing.T) {
	now := time.Date(2026, 11, 25, 18, 0, 0, 123456789, time.FixedZone("CET", 3600))
	l := openLog(t, audit.Options{Now: func() time.Time { return now }})
	e := mustAppend(t, l, audit.Event{Type: audit.TypeLogin, Outcome: audit.Allowed})
	if e.ID == "" {
		t.Error("no ID")
	}
	if want := now.UTC().Truncate(time.Millisecond); e.Time != want {
		t.Errorf("Time = %v, want %v", e.Time, want)
	}
	kept := mustAppend(t, l, audit.Event{ID: "mine", Time: t0, Type: audit.TypeLogin})
	if kept.ID != "mine" || !kept.Time.Equal(t0) {
		t.Errorf("caller's ID and Time replaced: %+v", kept)
	}
}

func TestAppend_EventIsQueryableWhenAppendReturns(t *testing.T) {
	l := openLog(t, audit.Options{Path: tempPath(t)})
	e := mustAppend(t, l, audit.Event{Type: audit.TypeLogin, User: "alice"})
	got := l.Query(audit.Filter{})
	if len(got) != 1 || !reflect.DeepEqual(got[0], e) {
		t.Errorf("Query = %+v, want [%+v]", got, e)
	}
}

func TestAppend_IndexKeepsItsOwnCopyOfDetails(t *testing.T) {
	l := openLog(t, audit.Options{})
	details := map[string]any{"before": "read", "after": "write"}
	mustAppend(t, l, audit.Event{Type: audit.TypeAdminChange, Admin: "carol", Details: details})
	details["after"] = "admin"
	if got := l.Query(audit.Filter{})[0].Details["after"]; got != "write" {
		t.Errorf("details after = %v, want write", got)
	}
}

func TestAppend_UnencodableEventFailsAlone(t *testing.T) {
	l := openLog(t, audit.Options{Path: tempPath(t)})
	if _, err := l.Append(audit.Event{Type: audit.TypeAdminChange, Details: map[string]any{"f": func() {}}}); err == nil {
		t.Error("Append of an event with a func in Details succeeded")
	}
	mustAppend(t, l, audit.Event{Type: audit.TypeLogin})
	if l.Len() != 1 {
		t.Errorf("Len = %d, want 1", l.Len())
	}
}

func TestOpen_NewFileIsPrivate(t *testing.T) {
	path := tempPath(t)
	openLog(t, audit.Options{Path: path})
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
}

// Two logs on one file (two processes given the same --audit-log) would interleave their events
// with ids out of order, and the second's repair could cut off a line the first is writing: the
// second Open is refused, naming the file, until the first is closed.
func TestOpen_FileInUseByAnotherLogIsRefused(t *testing.T) {
	path := tempPath(t)
	l := openLog(t, audit.Options{Path: path})
	if second, err := audit.Open(audit.Options{Path: path}); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "in use") {
		if second != nil {
			second.Close()
		}
		t.Fatalf("second Open of %s: %v, want an error saying it is in use", path, err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	openLog(t, audit.Options{Path: path})
}

func TestOpen_ReopenedFileKeepsTheLastEventsAndAppendsAfterThem(t *testing.T) {
	path := tempPath(t)
	stopped := func() time.Time { return t0 } // IDs must still increase across the reopen
	l := openLog(t, audit.Options{Path: path, Now: stopped})
	var appended []audit.Event
	for i := range 10 {
		appended = append(appended, mustAppend(t, l, audit.Event{Type: audit.TypeLogin, Reason: fmt.Sprintf("e%d", i)}))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	l = openLog(t, audit.Options{Path: path, Capacity: 4, Now: stopped})
	if l.Len() != 4 {
		t.Errorf("Len after reopen = %d, want 4", l.Len())
	}
	got := l.Query(audit.Filter{})
	if want := []audit.Event{appended[9], appended[8], appended[7], appended[6]}; !reflect.DeepEqual(got, want) {
		t.Errorf("after reopen Query =\n%+v\nwant\n%+v", got, want)
	}
	last := mustAppend(t, l, audit.Event{Type: audit.TypeLogin, Reason: "e10"})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	evs := fileEvents(t, path)
	if want := []string{"e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9", "e10"}; !slices.Equal(reasons(evs), want) {
		t.Errorf("file holds %v, want %v", reasons(evs), want)
	}
	if !slices.IsSortedFunc(evs, func(a, b audit.Event) int { return strings.Compare(a.ID, b.ID) }) || last.ID <= appended[9].ID {
		t.Errorf("IDs do not increase in file order across the reopen")
	}
}

func TestOpen_RepairsATornLastLine(t *testing.T) {
	for _, torn := range []string{
		`{"time":"2026-11-25T18:00:00.000Z","id":"019abc`,
		`{`,
		`{"time":"2026-11-25T18:00:00.000Z","id":"x","type":"login","outcome":"allowed"}`, // whole but for its newline: never acknowledged
		"\x00\x00\x00\x00\x00\x00\x00\x00",                                                // the new size reached the disk, the data did not (power loss)
	} {
		path := tempPath(t)
		l := openLog(t, audit.Options{Path: path})
		for i := range 3 {
			mustAppend(t, l, audit.Event{Type: audit.TypeLogin, Reason: fmt.Sprint(i)})
		}
		l.Close()
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(torn); err != nil {
			t.Fatal(err)
		}
		f.Close()

		l = openLog(t, audit.Options{Path: path})
		if l.Len() != 3 {
			t.Errorf("torn %q: Len = %d, want 3", torn, l.Len())
		}
		if got := l.TornBytes(); got != int64(len(torn)) {
			t.Errorf("torn %q: TornBytes = %d, want %d, for the start to report", torn, got, len(torn))
		}
		mustAppend(t, l, audit.Event{Type: audit.TypeLogin, Reason: "3"})
		l.Close()
		if got, want := reasons(fileEvents(t, path)), []string{"0", "1", "2", "3"}; !slices.Equal(got, want) {
			t.Errorf("torn %q: file holds %v, want %v", torn, got, want)
		}
	}
}

func TestOpen_TornLineOnlyFileBecomesEmpty(t *testing.T) {
	path := tempPath(t)
	if err := os.WriteFile(path, []byte(`{"time":"2026-`), 0o600); err != nil {
		t.Fatal(err)
	}
	l := openLog(t, audit.Options{Path: path})
	if l.Len() != 0 {
		t.Errorf("Len = %d", l.Len())
	}
	l.Close()
	if fi, _ := os.Stat(path); fi.Size() != 0 {
		t.Errorf("size %d, want 0", fi.Size())
	}
}

func TestOpen_CorruptWholeLineIsAnError(t *testing.T) {
	path := tempPath(t)
	first := `{"time":"2026-11-25T18:00:00.000Z","id":"a","type":"login","outcome":"allowed"}` + "\n"
	content := first + "not json\n" +
		`{"time":"2026-11-25T18:00:01.000Z","id":"b","type":"login","outcome":"allowed"}` + "\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := audit.Open(audit.Options{Path: path})
	at := fmt.Sprintf("byte %d", len(first))
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), at) {
		t.Errorf("Open = %v, want an error naming %s and %s", err, path, at)
	}
	if data, _ := os.ReadFile(path); string(data) != content {
		t.Error("Open changed a file it refused")
	}
}

func TestOpen_SkipsBlankLines(t *testing.T) {
	path := tempPath(t)
	content := "\n" + `{"time":"2026-11-25T18:00:00.000Z","id":"a","type":"login","outcome":"allowed"}` + "\n\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	l := openLog(t, audit.Options{Path: path})
	if l.Len() != 1 {
		t.Errorf("Len = %d, want 1", l.Len())
	}
}

func TestOpen_LoadsLinesLongerThanAReadChunk(t *testing.T) {
	path := tempPath(t)
	l := openLog(t, audit.Options{Path: path})
	big := strings.Repeat("x", 200<<10)
	for i := range 3 {
		mustAppend(t, l, audit.Event{Type: audit.TypeAdminChange, Reason: fmt.Sprint(i), Details: map[string]any{"before": big}})
	}
	l.Close()
	l = openLog(t, audit.Options{Path: path})
	if got, want := reasons(l.Query(audit.Filter{})), []string{"2", "1", "0"}; !slices.Equal(got, want) {
		t.Errorf("Query = %v, want %v", got, want)
	}
}

func TestOpen_NegativeCapacityIsAnError(t *testing.T) {
	if _, err := audit.Open(audit.Options{Capacity: -1}); err == nil {
		t.Error("no error")
	}
}

func TestOpen_DeviceIsWrittenButNotRead(t *testing.T) {
	if _, err := os.Stat("/dev/null"); err != nil {
		t.Skip(err)
	}
	l := openLog(t, audit.Options{Path: "/dev/null"})
	mustAppend(t, l, audit.Event{Type: audit.TypeLogin})
	if l.Len() != 1 {
		t.Errorf("Len = %d, want 1", l.Len())
	}
	if err := l.Close(); err != nil {
		t.Error(err)
	}
}

func TestAppend_FailedWriteIsReturnedAndNotIndexed(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip(err) // Linux's always-full device
	}
	l := openLog(t, audit.Options{Path: "/dev/full"})
	events, cancel := l.Subscribe(1)
	defer cancel()
	if _, err := l.Append(audit.Event{Type: audit.TypeLogin}); err == nil {
		t.Fatal("Append to a full device succeeded")
	}
	if l.Len() != 0 {
		t.Errorf("Len = %d, want 0", l.Len())
	}
	select {
	case e := <-events:
		t.Errorf("subscriber got %+v", e)
	default:
	}
}

func TestAppend_64GoroutinesAllLandExactlyOnce(t *testing.T) {
	const goroutines, each = 64, 50
	path := tempPath(t)
	l := openLog(t, audit.Options{Path: path})
	var wg sync.WaitGroup
	ids := make([][]string, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				e, err := l.Append(audit.Event{Type: audit.TypeLogin, User: fmt.Sprint(g), Reason: fmt.Sprint(i)})
				if err != nil {
					t.Error(err)
					return
				}
				ids[g] = append(ids[g], e.ID)
			}
		})
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	evs := fileEvents(t, path)
	if len(evs) != goroutines*each {
		t.Fatalf("%d lines, want %d", len(evs), goroutines*each)
	}
	seen := make(map[string]audit.Event)
	next := make([]int, goroutines) // each goroutine's events appear in the order it appended them
	for _, e := range evs {
		if _, dup := seen[e.ID]; dup {
			t.Fatalf("ID %s twice", e.ID)
		}
		seen[e.ID] = e
		var g int
		fmt.Sscan(e.User, &g)
		if e.Reason != fmt.Sprint(next[g]) || e.ID != ids[g][next[g]] {
			t.Fatalf("goroutine %d: line %+v, want its event %d (ID %s)", g, e, next[g], ids[g][next[g]])
		}
		next[g]++
	}
	if !slices.IsSortedFunc(evs, func(a, b audit.Event) int { return strings.Compare(a.ID, b.ID) }) {
		t.Error("IDs not increasing in file order")
	}
	t.Logf("%d events, %d fsyncs", len(evs), l.Syncs())
}

func TestClose_AppendAfterCloseIsAnError(t *testing.T) {
	for _, path := range []string{"", tempPath(t)} {
		l, err := audit.Open(audit.Options{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Append(audit.Event{Type: audit.TypeLogin}); !errors.Is(err, audit.ErrClosed) {
			t.Errorf("path %q: Append after Close = %v, want ErrClosed", path, err)
		}
		if err := l.Close(); !errors.Is(err, audit.ErrClosed) {
			t.Errorf("path %q: second Close = %v, want ErrClosed", path, err)
		}
	}
}

func TestClose_WaitsForAppendsInFlight(t *testing.T) {
	path := tempPath(t)
	l := openLog(t, audit.Options{Path: path})
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 200 {
		wg.Go(func() {
			if _, err := l.Append(audit.Event{Type: audit.TypeLogin}); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			} else if !errors.Is(err, audit.ErrClosed) {
				t.Error(err)
			}
		})
	}
	time.Sleep(time.Millisecond)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if n := len(fileEvents(t, path)); n != ok {
		t.Errorf("%d lines, %d successful appends", n, ok)
	}
}

func TestAppend_BuffersShrinkAfterABurst(t *testing.T) {
	const maxKeptBytes, maxKeptEvents = 64 << 10, 256 // what the log may keep between batches
	// Control characters take six bytes each in JSON, so this event's line is about 1.5 MB
	// however the strings are cut.
	huge := make(map[string]any, audit.MaxDetailsKeys)
	for i := range audit.MaxDetailsKeys {
		huge[fmt.Sprintf("%03d%s", i, strings.Repeat("\x01", 600))] = strings.Repeat("\x01", 600)
	}
	tests := []struct {
		name  string
		burst func(l *audit.Log)
	}{
		{"one huge event", func(l *audit.Log) { mustAppend(t, l, audit.Event{Type: audit.TypeAdminChange, Details: huge}) }},
		{"many concurrent appends", func(l *audit.Log) {
			var wg sync.WaitGroup
			for range 64 {
				wg.Go(func() {
					for range 20 {
						mustAppend(t, l, audit.Event{Type: audit.TypeLogin, Reason: strings.Repeat("\x01", 600)})
					}
				})
			}
			wg.Wait()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := openLog(t, audit.Options{Path: tempPath(t)})
			tt.burst(l)
			mustAppend(t, l, audit.Event{Type: audit.TypeLogin})
			if lines, events := audit.BufferCaps(l); lines > maxKeptBytes || events > maxKeptEvents {
				t.Errorf("after the burst the log keeps buffers of %d bytes of lines and %d events", lines, events)
			}
		})
	}
}

// TestErr_SaysWhyTheLogTakesNoMoreAppends: after a failed fsync the log refuses every later append
// (what the lines were is unknown), and Err says so, as it says a closed log takes none; a healthy
// log's, and a tenant view's of it, is nil.
func TestErr_SaysWhyTheLogTakesNoMoreAppends(t *testing.T) {
	l := openLog(t, audit.Options{Path: tempPath(t)})
	view := l.Tenant("acme")
	mustAppend(t, l, audit.Event{Type: audit.TypeLogin})
	if err := l.Err(); err != nil || view.Err() != nil {
		t.Fatalf("a healthy log: Err = %v, the view's %v", err, view.Err())
	}

	broken := openLog(t, audit.Options{Path: tempPath(t)})
	audit.SetSyncFailure(broken, syscall.EIO)
	if _, err := broken.Append(audit.Event{Type: audit.TypeLogin}); err == nil {
		t.Fatal("an append whose fsync failed succeeded")
	}
	err := broken.Err()
	if !errors.Is(err, syscall.EIO) || !strings.Contains(err.Error(), "syncing") {
		t.Errorf("Err after a failed fsync = %v, want the fsync's error", err)
	}
	if _, err := broken.Append(audit.Event{Type: audit.TypeLogin}); !errors.Is(err, syscall.EIO) {
		t.Errorf("the next append: %v, want it refused with the same error", err)
	}
	if err := broken.Tenant("acme").Err(); !errors.Is(err, syscall.EIO) {
		t.Errorf("a tenant view's Err = %v, want the shared log's", err)
	}

	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Err(); err != audit.ErrClosed {
		t.Errorf("Err after Close = %v, want ErrClosed", err)
	}
}

// TestOpen_KeepsATailNoCrashLeaves: bytes after the last newline that do
// not begin an event ('{'), or more of them than one event's line can
// hold, are not what a crash cut short; Open refuses, naming the file, and
// leaves them. Taking them for a torn line truncated a file that is no
// audit log (a state directory's audit.jsonl linked to another file, a
// mistyped --audit-log) and read all of a huge one.
func TestOpen_KeepsATailNoCrashLeaves(t *testing.T) {
	for name, content := range map[string]string{
		"text without a newline":      "precious notes, no newline",
		"an event, then text":         `{"time":"2026-11-25T18:00:00.000Z","id":"x","type":"login","outcome":"allowed"}` + "\nnotes",
		"longer than an event can be": "{" + strings.Repeat("a", audit.MaxLineBytes),
	} {
		t.Run(name, func(t *testing.T) {
			path := tempPath(t)
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			l, err := audit.Open(audit.Options{Path: path})
			if err == nil {
				l.Close()
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s", err, path)
			}
			if got, _ := os.ReadFile(path); string(got) != content {
				t.Errorf("the file was changed: %d bytes left of %d", len(got), len(content))
			}
		})
	}
}
