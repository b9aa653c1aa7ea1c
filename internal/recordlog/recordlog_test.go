package recordlog

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/xaa-idp/xaa-idp/internal/atomicfile"
	"github.com/xaa-idp/xaa-idp/internal/diskfull"
)

type rec struct {
	N int `json:"n"`
}

// store is what a user of a Log keeps in memory: every record is stored
// before it is appended, and Live reads the store.
type store struct {
	mu   sync.Mutex
	recs []rec
}

func (s *store) put(l *Log[rec], sync bool, r rec) error {
	s.mu.Lock()
	s.recs = append(s.recs, r)
	s.mu.Unlock()
	return l.Append(sync, r)
}

func (s *store) live() []rec {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.recs)
}

// putFirst appends rec{0} .. rec{n-1} to l through s without syncing,
// as the compaction tests start, and returns n, the next record's.
func (s *store) putFirst(t *testing.T, l *Log[rec], n int) int {
	t.Helper()
	for i := range n {
		if err := s.put(l, false, rec{i}); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// onDisk reads the file as the next start would: every line must be a
// record, and it returns the set of them.
func onDisk(t *testing.T, name string) map[int]bool {
	t.Helper()
	got := map[int]bool{}
	err := New[rec](name, Options[rec]{}).Scan(func(n int, line []byte, complete bool) error {
		var r rec
		if err := json.Unmarshal(line, &r); err != nil || !complete {
			t.Errorf("%s:%d: %q is not a whole record", name, n, line)
		}
		got[r.N] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// withRecord1 is a log with no options in a new directory, rewritten to
// hold record 1, and its file's name; it is closed when t ends.
func withRecord1(t *testing.T) (*Log[rec], string) {
	t.Helper()
	name := filepath.Join(t.TempDir(), "log.jsonl")
	l := New[rec](name, Options[rec]{})
	if err := l.Rewrite([]rec{{1}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, name
}

// TestAppend_CutShortIsCutBack: an append the disk takes only part of
// (the process's file size limit cuts a write short as a full disk does)
// fails and leaves no part of a line: the next append starts a line.
func TestAppend_CutShortIsCutBack(t *testing.T) {
	name := filepath.Join(t.TempDir(), "log.jsonl")
	l := New[rec](name, Options[rec]{Live: func() []rec { return nil }})
	if err := l.Compact(); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Append(true, rec{1}); err != nil {
		t.Fatal(err)
	}
	lift := diskfull.After(t, name, 4) // room for the start of a line only
	err := l.Append(false, rec{2})
	lift()
	if !errors.Is(err, syscall.EFBIG) {
		t.Fatalf("append beyond the limit: %v, want EFBIG", err)
	}
	if err := l.Append(false, rec{3}); err != nil {
		t.Fatal(err)
	}
	if got := onDisk(t, name); !got[1] || got[2] || !got[3] || len(got) != 2 {
		t.Errorf("records on disk %v, want 1 and 3", got)
	}
}

// TestCompact_OffTheAppendAndLosingNothing: the append that makes a
// compaction due returns before it runs; appends made while it runs are
// in the new file; and at every point a crash would leave (the live
// records written to the temporary file, not yet renamed) the file holds
// every record appended so far.
func TestCompact_OffTheAppendAndLosingNothing(t *testing.T) {
	name := filepath.Join(t.TempDir(), "log.jsonl")
	s := &store{}
	written, release, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	l := New[rec](name, Options[rec]{
		Live: s.live,
		Due:  func(lines, live int) bool { return lines > 2*live+8 },
		stage: func(at string) {
			switch at {
			case "written":
				close(written)
				<-release
			case "done":
				close(done)
			}
		},
		OnError: func(err error) { t.Errorf("compaction: %v", err) },
	})
	if err := l.Compact(); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	n := s.putFirst(t, l, 9)
	// The ninth append made the compaction due, and returned: it waits
	// at "written" for release.
	<-written
	for ; n < 12; n++ {
		if err := s.put(l, true, rec{n}); err != nil {
			t.Fatal(err)
		}
	}
	// A crash now: the file is the old one, with every record.
	if got := onDisk(t, name); len(got) != n {
		t.Errorf("mid-compaction the file holds %d records, want %d: %v", len(got), n, got)
	}
	// Rewritten with the store as it was, the log's lines are the live.
	s.mu.Lock()
	s.recs = s.recs[:0] // all but the last two are no longer live
	s.recs = append(s.recs, rec{10}, rec{11})
	s.mu.Unlock()
	close(release)
	<-done
	got := onDisk(t, name)
	for i := 9; i < n; i++ {
		if !got[i] {
			t.Errorf("record %d, appended during the compaction, is not in the new file: %v", i, got)
		}
	}
	if err := s.put(l, true, rec{n}); err != nil {
		t.Fatal(err)
	}
	if got := onDisk(t, name); !got[n] {
		t.Errorf("an append after the compaction is not in the file: %v", got)
	}
	if fi, err := os.Stat(name); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the file after the compaction: %v %v, want mode 0600", fi, err)
	}
}

// TestScan_LinesAndTheTornLast: Scan gives every line that is not blank
// with its number, and tells a last line no newline ended.
func TestScan_LinesAndTheTornLast(t *testing.T) {
	name := filepath.Join(t.TempDir(), "log.jsonl")
	if err := os.WriteFile(name, []byte("{\"n\":1}\n\n  \n{\"n\":2}\n{\"n\""), 0o600); err != nil {
		t.Fatal(err)
	}
	type line struct {
		n        int
		text     string
		complete bool
	}
	var got []line
	err := New[rec](name, Options[rec]{}).Scan(func(n int, l []byte, complete bool) error {
		got = append(got, line{n, string(l), complete})
		return nil
	})
	want := []line{{1, `{"n":1}`, true}, {4, `{"n":2}`, true}, {5, `{"n"`, false}}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("Scan: %v %v, want %v", got, err, want)
	}
	if err := New[rec](name, Options[rec]{MaxLine: 5}).Scan(func(int, []byte, bool) error { return nil }); !errors.Is(err, ErrLineTooLong) {
		t.Errorf("Scan with MaxLine 5: %v, want ErrLineTooLong", err)
	}
}

// TestRewrite_FailedKeepsAppending: a rewrite the disk has no room for
// fails and leaves the file as it was, open: the appends after it are
// written, and once there is room again the next rewrite succeeds. (The
// push journal rewrites while the IdP runs: a full disk at that moment
// must not stop it taking SETs until a restart.)
func TestRewrite_FailedKeepsAppending(t *testing.T) {
	l, name := withRecord1(t)
	lift := diskfull.After(t, name, 4)
	err := l.Rewrite([]rec{{1}, {2}, {3}})
	lift()
	if !errors.Is(err, syscall.EFBIG) {
		t.Fatalf("rewrite beyond the limit: %v, want EFBIG", err)
	}
	if err := l.Append(true, rec{4}); err != nil {
		t.Fatalf("append after a failed rewrite: %v", err)
	}
	if got := onDisk(t, name); !got[1] || !got[4] || len(got) != 2 {
		t.Errorf("records on disk %v, want 1 and 4", got)
	}
	if err := l.Rewrite([]rec{{4}, {5}}); err != nil {
		t.Fatal(err)
	}
	if err := l.Append(false, rec{6}); err != nil {
		t.Fatal(err)
	}
	if got := onDisk(t, name); !got[4] || !got[5] || !got[6] || len(got) != 3 {
		t.Errorf("records on disk %v, want 4, 5 and 6", got)
	}
}

// TestCompact_FailedKeepsTheCutShortLine: a log whose file ends in part
// of a line it could not cut off (broken) stays so when the compaction
// that would have replaced the file fails after reading the appends
// since (here the disk is full for them): the next append cuts the part
// off first, and is not glued to it.
func TestCompact_FailedKeepsTheCutShortLine(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "log.jsonl")
	s := &store{}
	written, release, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	failed := make(chan error, 1)
	var first atomic.Bool // the first compaction has ended
	l := New[rec](name, Options[rec]{
		Live: s.live,
		// One compaction only: the file after it is the one it failed
		// to replace.
		Due: func(lines, live int) bool { return !first.Load() && lines > 2*live+8 },
		stage: func(at string) {
			switch at {
			case "written":
				close(written)
				<-release
			case "done":
				first.Store(true)
				close(done)
			}
		},
		OnError: func(err error) { failed <- err },
	})
	if err := l.Compact(); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	n := s.putFirst(t, l, 9)
	<-written
	// Appended while the compaction runs: its tail.
	if err := s.put(l, false, rec{n}); err != nil {
		t.Fatal(err)
	}
	n++
	// A write cut short whose part could not be cut off.
	l.mu.Lock()
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND, 0)
	if err == nil {
		_, err = f.WriteString(`{"n":`)
		f.Close()
	}
	l.broken = errors.New("cut short, not cut off")
	l.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	// The disk is full for the tail of the temporary file.
	tmps, err := filepath.Glob(filepath.Join(dir, ".log.jsonl.*"))
	if err != nil || len(tmps) != 1 {
		t.Fatalf("temporary files %v %v, want one", tmps, err)
	}
	lift := diskfull.After(t, tmps[0], 2)
	close(release)
	<-done
	lift()
	if err := <-failed; !errors.Is(err, syscall.EFBIG) {
		t.Fatalf("compaction: %v, want EFBIG", err)
	}
	if err := s.put(l, true, rec{n}); err != nil {
		t.Fatal(err)
	}
	if got := onDisk(t, name); len(got) != n+1 {
		t.Errorf("records on disk %v, want 0 to %d", got, n)
	}
}

// TestCompact_FailedWaitsBeforeTryingAgain: a compaction that fails
// (here the disk has no room for the rewritten file, though it has for
// appends) is tried again only once as many appends again call for it,
// not by every append after it: each try writes every live record, so a
// try per append (a grant, on the demo authorization server) would cost
// a whole rewrite, and log an error, per request for as long as the disk
// stays full.
func TestCompact_FailedWaitsBeforeTryingAgain(t *testing.T) {
	name := filepath.Join(t.TempDir(), "log.jsonl")
	s := &store{}
	for i := range 100 {
		s.recs = append(s.recs, rec{1000 + i})
	}
	done := make(chan struct{}, 1)
	tries, fails := 0, 0
	l := New[rec](name, Options[rec]{
		Live: s.live,
		Due: func(lines, live int) bool {
			due := lines > 2*live+8
			if due {
				tries++ // under the log's lock: the compaction starts
			}
			return due
		},
		stage: func(at string) {
			if at == "done" {
				done <- struct{}{}
			}
		},
		OnError: func(error) { fails++ },
	})
	if err := l.Compact(); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// The live records outgrow the room left: a rewrite cannot be
	// written, while appends can.
	s.mu.Lock()
	for i := range 1000 {
		s.recs = append(s.recs, rec{2000 + i})
	}
	s.mu.Unlock()
	diskfull.After(t, name, 4096)
	for i := range 200 {
		before := tries
		if err := l.Append(false, rec{i}); err != nil {
			t.Fatal(err)
		}
		if tries > before {
			<-done // one at a time, so that each append may start one
		}
	}
	if fails == 0 {
		t.Fatal("no compaction failed; the test's disk was not full")
	}
	if tries > 1 {
		t.Errorf("%d compactions tried over 200 appends after the first failed, want 1 until 100+8 more appends", tries)
	}
}

// failAfterRename is Options.write for a rewrite whose rename is done
// but whose directory sync then fails: the file at the name is the new
// one, and the rewrite reports an error.
func failAfterRename(name string, data []byte, perm fs.FileMode, private bool, tail func() ([]byte, error)) (fs.FileInfo, error) {
	if _, err := atomicfile.WriteThen(name, data, perm, private, tail); err != nil {
		return nil, err
	}
	return nil, errSyncDir
}

var errSyncDir = errors.New("syncing the directory: input/output error")

// TestRewrite_FailedAfterTheRenameAppendsToTheNewFile: a rewrite that
// failed once its rename was done (the directory's sync) leaves the new
// file at the name; the appends after it go there, not to the old file,
// unlinked, where a restart would never read them.
func TestRewrite_FailedAfterTheRenameAppendsToTheNewFile(t *testing.T) {
	l, name := withRecord1(t)
	l.o.write = failAfterRename
	if err := l.Rewrite([]rec{{2}, {3}}); !errors.Is(err, errSyncDir) {
		t.Fatalf("rewrite: %v, want the directory's sync error", err)
	}
	l.o.write = nil
	if err := l.Append(true, rec{4}); err != nil {
		t.Fatalf("append after the failed rewrite: %v", err)
	}
	if got := onDisk(t, name); !got[2] || !got[3] || !got[4] || len(got) != 3 {
		t.Errorf("records on disk %v, want 2, 3 and 4", got)
	}
}

// TestRewrite_NewFileNotOpenedIsOpenedByTheNextAppend: a rewrite whose
// new file is in place but could not be opened for appending fails, and
// the log is not closed: the next append opens the file and is in it.
func TestRewrite_NewFileNotOpenedIsOpenedByTheNextAppend(t *testing.T) {
	l, name := withRecord1(t)
	errOpen := errors.New("too many open files")
	l.o.open = func(string) (*os.File, error) { return nil, errOpen }
	if err := l.Rewrite([]rec{{2}}); !errors.Is(err, errOpen) {
		t.Fatalf("rewrite: %v, want the open's error", err)
	}
	if err := l.Append(true, rec{3}); !errors.Is(err, errOpen) {
		t.Fatalf("append while the file cannot be opened: %v, want the open's error, not closed", err)
	}
	l.o.open = nil
	if err := l.Append(true, rec{4}); err != nil {
		t.Fatalf("append once the file can be opened: %v", err)
	}
	if got := onDisk(t, name); !got[2] || !got[4] || len(got) != 2 {
		t.Errorf("records on disk %v, want 2 and 4", got)
	}
	if err := l.Append(false, rec{5}); err != nil {
		t.Fatal(err)
	}
	if got := onDisk(t, name); !got[5] || len(got) != 3 {
		t.Errorf("records on disk %v, want 2, 4 and 5", got)
	}
}

// TestCompact_FailedAfterTheRenameAppendsToTheNewFile: the same for a
// background compaction, whose new file holds the live records and the
// appends made while it ran.
func TestCompact_FailedAfterTheRenameAppendsToTheNewFile(t *testing.T) {
	name := filepath.Join(t.TempDir(), "log.jsonl")
	s := &store{}
	failed := make(chan error, 1)
	var first atomic.Bool
	l := New[rec](name, Options[rec]{
		Live:    s.live,
		Due:     func(lines, live int) bool { return !first.Load() && lines > 2*live+8 },
		OnError: func(err error) { failed <- err },
		stage: func(at string) {
			if at == "done" {
				first.Store(true)
			}
		},
	})
	if err := l.Rewrite(nil); err != nil {
		t.Fatal(err)
	}
	l.o.write = failAfterRename
	defer l.Close()
	n := s.putFirst(t, l, 9)
	if err := <-failed; !errors.Is(err, errSyncDir) {
		t.Fatalf("compaction: %v, want the directory's sync error", err)
	}
	if err := s.put(l, true, rec{n}); err != nil {
		t.Fatal(err)
	}
	if got := onDisk(t, name); len(got) != n+1 {
		t.Errorf("records on disk %v, want 0 to %d", got, n)
	}
}

// TestAppend_FollowsTheFileDeletedOrReplaced: the file is deleted while
// open (a clean-up of the state directory): the next append makes it
// anew rather than writing to the unlinked one, which no start reads,
// and a log with Live writes the records of the deleted file back, a
// Close finishing that rewrite. A file renamed into its place is appended
// to.
func TestAppend_FollowsTheFileDeletedOrReplaced(t *testing.T) {
	name := filepath.Join(t.TempDir(), "log.jsonl")
	s := &store{}
	l := New[rec](name, Options[rec]{Live: s.live})
	if err := l.Compact(); err != nil {
		t.Fatal(err)
	}
	n := s.putFirst(t, l, 3)
	if err := os.Remove(name); err != nil {
		t.Fatal(err)
	}
	if err := s.put(l, true, rec{n}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if got := onDisk(t, name); len(got) != n+1 {
		t.Errorf("records on disk after the deletion %v, want 0 to %d", got, n)
	}

	l = New[rec](name, Options[rec]{})
	if err := l.Rewrite([]rec{{1}}); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	other := filepath.Join(filepath.Dir(name), "other.jsonl")
	if err := os.WriteFile(other, []byte("{\"n\":7}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(other, name); err != nil {
		t.Fatal(err)
	}
	if err := l.Append(true, rec{8}); err != nil {
		t.Fatal(err)
	}
	if l.Lost() {
		t.Error("a file renamed into place is reported lost")
	}
	if got := onDisk(t, name); !got[7] || !got[8] || len(got) != 2 {
		t.Errorf("records on disk after the replacement %v, want 7 and 8", got)
	}
}
