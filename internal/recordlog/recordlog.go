// Package recordlog is the append-only file of JSON lines that the state
// directory's records share (the ended logins of the IdP, the used jti
// values of the demo authorization server, the revocation push journal):
// read whole at start, each record appended as one line, and rewritten
// with the live records alone (write a temporary file, sync, rename:
// internal/atomicfile) at start and whenever the appends since call for
// it. What a line means, which lines a start refuses, and which appends
// are synced stay with each user.
package recordlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/xaa-idp/xaa-idp/internal/atomicfile"
)

// ErrClosed is Append's error once the log is closed.
var ErrClosed = errors.New("recordlog: closed")

// ErrLineTooLong is Scan's error for a line longer than Options.MaxLine.
var ErrLineTooLong = errors.New("line too long")

// Options are a Log's rules.
type Options[R any] struct {
	// Private makes every rewrite 0600 whatever the file's mode
	// (atomicfile.WritePrivate); otherwise a rewrite keeps the file's
	// mode, and a new file is 0600.
	Private bool
	// MaxLine, when not 0, bounds the bytes of a line Scan reads.
	MaxLine int
	// Live returns the records a rewrite keeps. A compaction calls it
	// without the log's lock, from its own goroutine: a record stored
	// where Live reads it before it is appended is then in the new file
	// once or twice, never lost.
	Live func() []R
	// Due reports whether a compaction is due, from the lines in the
	// file and those the last rewrite wrote. Nil: only the user rewrites
	// (Rewrite). After a compaction failed, lines counts only those
	// appended since, on top of live: it is tried again once as many
	// appends again call for it, not at every append.
	Due func(lines, live int) bool
	// OnError is told of a background compaction that failed (the file
	// then stays as it was, appends go on, and a compaction is tried
	// again as Due says).
	OnError func(error)
	// stage, when not nil, is told where a background compaction is:
	// "written" once the live records are in the temporary file, "done"
	// once it has ended (tests).
	stage func(string)
	// write and open, when not nil, replace atomicfile.WriteThen and the
	// opening of the file for appending (tests: a failure after the
	// rename).
	write func(name string, data []byte, perm fs.FileMode, private bool, tail func() ([]byte, error)) (fs.FileInfo, error)
	open  func(name string) (*os.File, error)
	// sync, when not nil, replaces the sync of an append (tests: that
	// it comes after the write, before Append returns, which only a
	// power loss would show otherwise).
	sync func(*os.File) error
}

// Log is one record file.
type Log[R any] struct {
	name string
	o    Options[R]

	mu    sync.Mutex
	f     *os.File
	size  int64 // bytes of whole lines in the file
	lines int   // lines in the file
	live  int   // lines written by the last rewrite
	// failed is how many lines more than live the file had when the last
	// compaction since the last rewrite failed, which Due does not count.
	failed int
	closed bool
	// broken is a write cut short whose part of a line could not be
	// cut off again: no append until it is.
	broken error
	// since holds what was appended while a compaction runs, which it
	// adds after the records it wrote: nil when none runs, and not nil
	// (empty at first) while one does, which is how Append tells.
	since []byte
	wg    sync.WaitGroup
	// moved is the file a rewrite renamed into place but could not open
	// for appending (l.f is then nil): the next append opens it.
	moved *written
	// lost is set when an append found the file deleted and made it
	// anew: the records of the deleted one are in no file until a
	// rewrite (Lost).
	lost bool
}

// written is what a rewrite put in the file: bytes, lines, and how many
// of them it kept as live.
type written struct {
	size        int64
	lines, live int
}

// New returns the log of the file name; Scan reads it, Rewrite or
// Compact opens it for appending.
func New[R any](name string, o Options[R]) *Log[R] {
	return &Log[R]{name: name, o: o}
}

// Name is the file's name.
func (l *Log[R]) Name() string { return l.name }

// Scan calls fn for each line of the file that is not blank, with its
// number (from 1) and whether a newline ended it (false for a last line
// cut short), and stops at fn's first error, which it returns. A missing
// file has no lines.
func (l *Log[R]) Scan(fn func(n int, line []byte, complete bool) error) error {
	data, err := os.ReadFile(l.name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for n := 1; len(data) > 0; n++ {
		line, rest, complete := bytes.Cut(data, []byte{'\n'})
		data = rest
		if l.o.MaxLine > 0 && len(line) > l.o.MaxLine {
			return fmt.Errorf("%s:%d: %w", l.name, n, ErrLineTooLong)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if err := fn(n, line, complete); err != nil {
			return err
		}
	}
	return nil
}

// Compact rewrites the file with Options.Live and opens it for
// appending, before it returns (at start).
func (l *Log[R]) Compact() error { return l.Rewrite(l.o.Live()) }

// Rewrite replaces the file with rs, durably, and opens it for appending.
// A rewrite that fails (a full disk) leaves the file as it was, and open
// for appending if it was.
func (l *Log[R]) Rewrite(rs []R) error {
	data, err := lines(rs)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	w := written{int64(len(data)), len(rs), len(rs)}
	if _, err := l.writeThen(data, nil); err != nil {
		l.settle(w)
		return err
	}
	if l.f != nil {
		_ = l.f.Close()
		l.f = nil
	}
	return l.reopen(w)
}

func (l *Log[R]) writeThen(data []byte, tail func() ([]byte, error)) (fs.FileInfo, error) {
	if l.o.write != nil {
		return l.o.write(l.name, data, 0o600, l.o.Private, tail)
	}
	return atomicfile.WriteThen(l.name, data, 0o600, l.o.Private, tail)
}

// reopen opens the file rewritten as w says for appending; l.mu is held.
// When it cannot, the file stays to be opened by the next append
// (moved), which does not then report the log closed.
func (l *Log[R]) reopen(w written) error {
	open := l.o.open
	if open == nil {
		open = func(name string) (*os.File, error) {
			return os.OpenFile(name, os.O_WRONLY|os.O_APPEND, 0)
		}
	}
	f, err := open(l.name)
	if err != nil {
		l.moved = &w
		return fmt.Errorf("opening %s: %w", l.name, err)
	}
	l.f, l.size, l.lines, l.live, l.broken, l.failed, l.moved = f, w.size, w.lines, w.live, nil, 0, nil
	return nil
}

// settle follows a rewrite that failed, l.mu held: when the failure came
// after its rename (syncing the directory), the file at the name is no
// longer the one held open, which is unlinked and which no start would
// read again; appends go on in the one at the name, which holds what w
// says. A rewrite that failed before its rename leaves the log as it
// was.
func (l *Log[R]) settle(w written) {
	if l.f == nil {
		return // never opened (a start that fails), or already moved
	}
	at, err := os.Stat(l.name)
	if err != nil {
		return
	}
	held, err := l.f.Stat()
	if err == nil && os.SameFile(at, held) {
		return
	}
	_ = l.f.Close()
	l.f = nil
	_ = l.reopen(w) // or the next append opens it
}

func lines[R any](rs []R) ([]byte, error) {
	var buf bytes.Buffer
	for _, r := range rs {
		b, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	return buf.Bytes(), nil
}

// Append writes rs, one line each, and syncs them when sync is set. A
// write cut short (a full disk) is cut off again, so that no part of a
// line stays for the next one to be glued to; if it cannot be, the log
// takes nothing until it can. When the appends call for a compaction
// (Options.Due), it starts one in the background: the caller does not
// wait for it.
func (l *Log[R]) Append(sync bool, rs ...R) error {
	if len(rs) == 0 {
		return nil
	}
	data, err := lines(rs)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.f == nil && l.moved == nil {
		return ErrClosed
	}
	if l.f == nil {
		if err := l.reopen(*l.moved); err != nil {
			return err
		}
	} else if err := l.follow(); err != nil {
		return err
	}
	if l.broken != nil {
		if err := l.f.Truncate(l.size); err != nil {
			return l.broken
		}
		l.broken = nil
	}
	if _, err := l.f.Write(data); err != nil {
		err = fmt.Errorf("writing %s: %w", l.name, err)
		if terr := l.f.Truncate(l.size); terr != nil {
			l.broken = fmt.Errorf("%w; removing the partial line: %w", err, terr)
			return l.broken
		}
		return err
	}
	l.size += int64(len(data))
	l.lines += len(rs)
	if l.since != nil {
		l.since = append(l.since, data...)
	}
	if sync {
		syncFile := (*os.File).Sync
		if l.o.sync != nil {
			syncFile = l.o.sync
		}
		if err := syncFile(l.f); err != nil {
			return fmt.Errorf("syncing %s: %w", l.name, err)
		}
	}
	if l.since == nil && (l.lost && l.o.Live != nil || l.o.Due != nil && l.o.Due(l.lines-l.failed, l.live)) {
		restore := l.lost
		l.since, l.lost = []byte{}, false
		l.wg.Add(1)
		go l.compact(restore)
	}
	return nil
}

// follow makes the file at the log's name the one appended to, when the
// open file no longer has a name: deleted (a clean-up of the state
// directory), or replaced by a rename. Records appended to it would else
// be in no file a start reads. A missing file is made anew and the log
// marked lost; a file put in its place is appended to once it ends with a
// whole line, as the audit log does. The check is the open file's link
// count (unlinked), which costs no path lookup on each append; a file
// moved away, still linked, is not followed. l.mu is held, l.f is open.
func (l *Log[R]) follow() error {
	if !unlinked(l.f) {
		return nil
	}
	_, err := os.Stat(l.name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s was deleted or replaced while open: %w", l.name, err)
	}
	created := err != nil
	f, err := os.OpenFile(l.name, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("%s was deleted or replaced while open: %w", l.name, err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = errors.New("not a regular file")
	}
	if err == nil && fi.Size() > 0 {
		last := make([]byte, 1)
		if _, err = f.ReadAt(last, fi.Size()-1); err == nil && last[0] != '\n' {
			err = errors.New("it does not end with a whole line; nothing is appended to it")
		}
	}
	if err == nil && created {
		// Durable with its directory entry, or a crash could lose it
		// with records already acknowledged.
		err = atomicfile.SyncDir(filepath.Dir(l.name))
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("%s was deleted or replaced while open: %w", l.name, err)
	}
	_ = l.f.Close() // its lines are written; nothing reads them again
	l.f, l.size, l.lines, l.live, l.failed, l.broken = f, fi.Size(), 0, 0, 0, nil
	l.lost = l.lost || created
	return nil
}

// Lost reports, once, that an append found the file deleted and made it
// anew, so that the records the deleted file held are in no file: a user
// without Options.Live rewrites it with its live records. A log with Live
// starts that rewrite itself (a compaction).
func (l *Log[R]) Lost() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	lost := l.lost
	l.lost = false
	return lost
}

// compact rewrites the file with Options.Live, off the append that
// called for it: the live records are read and written to a temporary
// file without the log's lock; then, under it, what was appended since
// is added (those records may be in both: loading tolerates that) and
// the file renamed over the log's, and appends go on in the new file. A
// crash at any point leaves the old file with every append, or the new
// one with every append. One that restores the records of a deleted file
// (restore) is finished by a Close that finds it under way; another is
// given up, since the file holds every record without it.
func (l *Log[R]) compact(restore bool) {
	defer l.wg.Done()
	if l.o.stage != nil {
		defer l.o.stage("done")
	}
	locked := false
	defer func() {
		if !locked {
			l.mu.Lock()
		}
		l.since = nil
		l.mu.Unlock()
	}()
	rs := l.o.Live()
	data, err := lines(rs)
	renamed := false
	if err == nil {
		_, err = l.writeThen(data, func() ([]byte, error) {
			if l.o.stage != nil {
				l.o.stage("written")
			}
			l.mu.Lock()
			locked = true
			if l.closed && !restore || l.f == nil {
				return nil, ErrClosed
			}
			// The old file may end in part of a line (broken); the new
			// one has none, and reopen says so once it is in place:
			// until then, a failure leaves the old one.
			return l.since, nil
		})
	}
	// The tail was written (l.since, under the lock since): what the
	// new file holds, whether or not the rename was done.
	tailed := locked
	var w written
	if tailed {
		w = written{int64(len(data) + len(l.since)), len(rs) + bytes.Count(l.since, []byte{'\n'}), len(rs)}
	}
	if err == nil {
		renamed = true
		_ = l.f.Close()
		l.f = nil
		err = l.reopen(w)
	}
	if err != nil && !errors.Is(err, ErrClosed) {
		if !locked {
			l.mu.Lock()
			locked = true
		}
		if !renamed {
			l.failed = l.lines - l.live
			if tailed {
				l.settle(w)
			}
		}
		if l.o.OnError != nil {
			l.mu.Unlock()
			locked = false
			l.o.OnError(err)
		}
	}
}

// Close waits for a compaction under way and closes the file; Append
// then fails with ErrClosed.
func (l *Log[R]) Close() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
