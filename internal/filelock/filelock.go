// Package filelock keeps two processes from using the same files at once:
// two xaa-idp processes on one state directory would interleave their
// audit events (with ids out of order), rotate each other's keys, and
// replace the push journal and the access requests under each other, so a
// second one refuses to start instead.
//
// The lock is an advisory flock(2) on a file that stays open while the
// lock is held. The kernel releases it when the process exits, however it
// exits (kill -9 included), so a crashed process never blocks the next
// start. On systems without flock (Windows, Solaris) it locks nothing.
package filelock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ErrLocked is what TryLock returns when another open file holds the lock.
var ErrLocked = errors.New("locked by another process")

// TryLock takes an exclusive lock on f without waiting: ErrLocked when
// another process (or another open of the same file) holds it. The lock
// lasts until f is closed.
func TryLock(f *os.File) error { return tryLock(f) }

// DirFile is the name of the lock file that LockDir keeps in a directory.
const DirFile = "xaa-idp.lock"

// InUseError says that another process holds a directory's lock.
type InUseError struct {
	Dir string
	// PID is the process that holds it, as it wrote in the lock file; 0
	// when unknown.
	PID int
}

func (e *InUseError) Error() string {
	who := "another xaa-idp process"
	if e.PID > 0 {
		who += fmt.Sprintf(" (pid %d)", e.PID)
	}
	return fmt.Sprintf("state directory %s is in use by %s, which holds %s", e.Dir, who, filepath.Join(e.Dir, DirFile))
}

// LockDir creates dir (mode 0700) when it does not exist and locks it for
// this process until release is called or the process exits: an
// *InUseError when another process holds it. The lock file holds the
// holder's pid, for that message; it is never removed, since removing it
// would let two processes lock two different files of the same name.
func LockDir(dir string) (release func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	name := filepath.Join(dir, DirFile)
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	if err := tryLock(f); err != nil {
		f.Close()
		if errors.Is(err, ErrLocked) {
			pid := 0
			if data, err := os.ReadFile(name); err == nil {
				pid, _ = strconv.Atoi(strings.TrimSpace(string(data)))
			}
			return nil, &InUseError{Dir: dir, PID: pid}
		}
		return nil, fmt.Errorf("state directory: locking %s: %w", name, err)
	}
	// The pid only names the holder in the message above: it needs no sync.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() { f.Close() }, nil
}

// Wait is how long LockWait waits for another holder before it gives up.
const Wait = 5 * time.Second

// LockWait takes an exclusive lock on f like TryLock, but waits, at most
// Wait, while another process holds it: ErrLocked once the wait is over.
func LockWait(f *os.File) error {
	deadline := time.Now().Add(Wait)
	for pause := time.Millisecond; ; pause = min(2*pause, 20*time.Millisecond) {
		err := tryLock(f)
		if !errors.Is(err, ErrLocked) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(pause)
	}
}
