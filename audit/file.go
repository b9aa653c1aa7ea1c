package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/xaa-idp/xaa-idp/internal/atomicfile"
	"github.com/xaa-idp/xaa-idp/internal/filelock"
)

// openAppend opens path for appending, creating it with mode 0600 (the log names users and
// clients). It opens for reading too when the file is, or will be, a regular file, so that Open
// can load and repair it; a pipe or device such as /dev/stdout is opened write-only.
func openAppend(path string) (*os.File, fs.FileInfo, error) {
	flag := os.O_WRONLY | os.O_APPEND | os.O_CREATE
	fi, err := os.Stat(path)
	created := errors.Is(err, fs.ErrNotExist)
	if created || err == nil && fi.Mode().IsRegular() {
		flag = os.O_RDWR | os.O_APPEND | os.O_CREATE
	}
	if err == nil && fi.Mode()&fs.ModeNamedPipe != 0 {
		// Opening a named pipe for writing waits for a reader, forever
		// when none comes: without blocking, it fails at once then. The
		// look is held open until the log's own writer is: a pipe left
		// without a writer reads as ended, and its reader (cat) stops.
		p, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if errors.Is(err, syscall.ENXIO) {
			return nil, nil, fmt.Errorf("audit: %s is a named pipe that no process reads: start its reader first", path)
		}
		if err == nil {
			defer p.Close()
			pipeProbed()
		}
	}
	f, err := os.OpenFile(path, flag, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("audit: %w", err)
	}
	if fi, err = f.Stat(); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("audit: %w", err)
	}
	if created {
		// A new file's directory entry is durable only once its directory is synced; without
		// this, a crash could lose the whole file along with events already acknowledged.
		if err := syncDir(filepath.Dir(path)); err != nil {
			f.Close()
			return nil, nil, err
		}
	}
	return f, fi, nil
}

// reopen makes the file at the log's path the one written, when the open file is no longer
// there: deleted, or moved away (a log rotation) and perhaps replaced. Events appended to the
// open file would then be acknowledged yet in no file anyone reads, gone for good if it was
// deleted. A missing file is created anew (as at start); a file put in its place is appended to
// once it is locked and ends with a whole line. An error fails the batch alone: the next one
// tries again, so the log takes events again once the path can be written.
func (l *Log) reopen() error {
	fi, err := os.Stat(l.path)
	if err == nil {
		cur, cerr := l.file.Stat()
		if cerr == nil && os.SameFile(fi, cur) {
			if size := cur.Size(); size < l.size {
				// Truncated under the log (logrotate's copytruncate): appends land at its
				// new end (O_APPEND), and a write cut short must be cut back to it, not
				// to the old size, which would fill the file with zeros after the cut.
				if err := endsWithWholeLine(l.file, size); err != nil {
					return err
				}
				l.size = size
			}
			return nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("audit: %w", err)
	}
	f, fi, err := openAppend(l.path)
	if err != nil {
		return err
	}
	if err := l.adopt(f, fi); err != nil {
		f.Close()
		return err
	}
	l.file.Close() // its lines are all written and synced; its lock goes with it
	l.file, l.size = f, fi.Size()
	return nil
}

// adopt checks that f, just opened in the log's place, can be appended to.
func (l *Log) adopt(f *os.File, fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("audit: %s, put in place of the log while it was open, is not a regular file", l.path)
	}
	if err := filelock.TryLock(f); err != nil {
		if errors.Is(err, filelock.ErrLocked) {
			return fmt.Errorf("audit: %s, put in place of the log while it was open, is in use by another process", l.path)
		}
		return fmt.Errorf("audit: locking %s: %w", l.path, err)
	}
	return endsWithWholeLine(f, fi.Size())
}

// endsWithWholeLine checks that the first size bytes of f, a file in the log's place or the
// log's own file cut short under it, end with a whole line, so that a line appended after them
// is one of its own.
func endsWithWholeLine(f *os.File, size int64) error {
	if size == 0 {
		return nil
	}
	last := make([]byte, 1)
	if _, err := f.ReadAt(last, size-1); err != nil {
		return fmt.Errorf("audit: reading %s: %w", f.Name(), err)
	}
	if last[0] != '\n' {
		return fmt.Errorf("audit: %s, put in place of the log or cut short while it was open, does not end with a whole line; nothing is appended to it", f.Name())
	}
	return nil
}

func syncDir(dir string) error {
	if err := atomicfile.SyncDir(dir); err != nil {
		return fmt.Errorf("audit: syncing directory %s: %w", dir, err)
	}
	return nil
}

// tornSync syncs the file after Open cut off its torn last line; a test
// replaces it to see that the cut is synced before any append
// (export_test.go), which only a power loss would show otherwise.
var tornSync = (*os.File).Sync

// pipeProbed runs after openAppend found that a named pipe has a reader,
// before it opens the pipe for the log (export_test.go).
var pipeProbed = func() {}

// chunkSize is how much loadTail reads at a time, backwards from the end of the file.
const chunkSize = 64 << 10

// badLine is the error for the complete line at byte start of f that is
// no event, named by its number, which only this error path counts (a
// read of the file up to it), and saying what to do: no crash leaves such
// a line, so the file is left as it is.
func badLine(f *os.File, start int64, err error) error {
	line, buf := int64(1), make([]byte, chunkSize)
	for off := int64(0); off < start; {
		n, rerr := f.ReadAt(buf[:min(int64(len(buf)), start-off)], off)
		line += int64(bytes.Count(buf[:n], []byte{'\n'}))
		off += int64(n)
		if rerr != nil && off < start {
			return fmt.Errorf("audit: %s: line at byte %d: %w; fix or remove that line, or use another file", f.Name(), start, err)
		}
	}
	return fmt.Errorf("audit: %s:%d (byte %d): %w; no crash leaves such a line, so the log is left as it is: fix or remove that line, or use another file", f.Name(), line, start, err)
}

// loadTail reads up to want events, or as many as fill maxBytes, from the end of f, a file of
// size bytes, and returns them oldest first, bounded like appended events (lines written before
// the bounds existed may hold more), along with the length of the file without its torn tail.
//
// The torn tail is whatever follows the last newline. Every line is written whole by one write
// call, and JSON encoding escapes newlines inside strings, so only a write cut short by a crash
// (or a kill: Linux stops a large write between pages on SIGKILL) leaves bytes after the last
// newline. Appending after them would glue the next event onto half of one, so the caller
// truncates them away. The events they held were never acknowledged to anyone: Append returns
// only after the fsync that follows a complete write.
//
// Reading backwards costs time in proportion to want, not to the size of a log that has been
// growing for months; lines older than the last want events are not read, so not checked. A bad
// complete line among the ones read is an error, not a torn tail: it is not what a crash leaves,
// and deleting audit records to get past it is a decision for a person.
func loadTail(f *os.File, size int64, want int, maxBytes int64) (events []slot, end int64, err error) {
	if end, err = lastNewline(f, size); err != nil {
		return nil, 0, err
	}
	if err := checkTorn(f, end, size); err != nil {
		return nil, 0, err
	}
	var newestFirst []slot
	var scratch []byte
	var lines lineArena // newest first, so a chunk still holds lines of neighbouring ages
	var loaded int64    // bytes of the lines in newestFirst
	pos := end          // pending holds bytes [pos, pos+len(pending)): whole lines, and part of one at its start
	var pending []byte  // ends with a newline when not empty
	for len(newestFirst) < want && loaded < maxBytes {
		if len(pending) > 0 {
			j := bytes.LastIndexByte(pending[:len(pending)-1], '\n')
			if j >= 0 || pos == 0 {
				line := pending[j+1 : len(pending)-1]
				start := pos + int64(j+1)
				pending = pending[:j+1]
				if len(bytes.TrimSpace(line)) == 0 {
					continue
				}
				var e Event
				if err := json.Unmarshal(line, &e); err != nil {
					return nil, 0, badLine(f, start, err)
				}
				if e.ID == "" {
					return nil, 0, badLine(f, start, errors.New("event has no id"))
				}
				e.bound()
				e.Details = boundGeneric(e.Details)
				// Encoded again, bounded, for the index; it counts for the line it was in the
				// file.
				var s slot
				if s, scratch, err = newSlot(&e, scratch, &lines, int64(len(line))+1); err != nil {
					return nil, 0, badLine(f, start, err)
				}
				newestFirst = append(newestFirst, s)
				loaded += int64(len(line)) + 1
				continue
			}
		} else if pos == 0 {
			break
		}
		n := min(chunkSize, pos)
		pos -= n
		buf := make([]byte, n+int64(len(pending)))
		if _, err := f.ReadAt(buf[:n], pos); err != nil {
			return nil, 0, fmt.Errorf("audit: reading %s: %w", f.Name(), err)
		}
		copy(buf[n:], pending)
		pending = buf
	}
	events = make([]slot, len(newestFirst))
	for i, e := range newestFirst {
		events[len(events)-1-i] = e
	}
	return events, end, nil
}

// allZero reports whether bytes [from, to) of f, at most MaxLineBytes, are all zero.
func allZero(f *os.File, from, to int64) bool {
	buf := make([]byte, to-from)
	if _, err := f.ReadAt(buf, from); err != nil {
		return false
	}
	for _, b := range buf {
		if b != 0 {
			return false
		}
	}
	return true
}

// checkTorn refuses bytes [end, size) of f as a torn line unless a crash can have left them:
// the start of an event's line ('{'), shorter than any line. Anything else means the file is
// not (only) an audit log this program wrote: another file linked or named in its place, or one
// edited by hand. Truncating it would destroy what it holds; that is for a person to decide.
func checkTorn(f *os.File, end, size int64) error {
	if end == size {
		return nil
	}
	first := make([]byte, 1)
	if _, err := f.ReadAt(first, end); err != nil {
		return fmt.Errorf("audit: reading %s: %w", f.Name(), err)
	}
	tail := fmt.Sprintf("ends with %d bytes after its last newline", size-end)
	switch {
	case size-end > MaxLineBytes:
		tail = fmt.Sprintf("has no newline in its last %d bytes", MaxLineBytes)
	case first[0] == '{':
		return nil
	case first[0] == 0 && allZero(f, end, size):
		// A power loss can leave the file's new size on disk before the
		// data of an unacknowledged write: zeros where it was to go.
		return nil
	}
	return fmt.Errorf("audit: %s %s, which are no event's line cut short by a crash (is it an audit log of this program?); fix or remove them, or use another file", f.Name(), tail)
}

// lastNewline returns the offset just past the last newline in the first size bytes of f, or 0.
// It reads back no further than MaxLineBytes and one chunk: a tail longer than that holds no torn
// line (checkTorn), and a huge file without newlines is not read through.
func lastNewline(f *os.File, size int64) (int64, error) {
	buf := make([]byte, min(chunkSize, size))
	for pos := size; pos > 0 && size-pos <= MaxLineBytes; {
		n := min(chunkSize, pos)
		pos -= n
		if _, err := f.ReadAt(buf[:n], pos); err != nil {
			return 0, fmt.Errorf("audit: reading %s: %w", f.Name(), err)
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return pos + int64(i) + 1, nil
		}
	}
	return 0, nil
}
