package policy

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/filekind"
)

// fileStamp is what a stat says about the configuration file, to skip
// reading it when it has not changed.
type fileStamp struct {
	fi   fs.FileInfo // nil before the file was read
	seen time.Time   // when the stamp was taken
}

func stampOf(fi fs.FileInfo) fileStamp {
	return fileStamp{fi: fi, seen: time.Now()}
}

// racyWindow: a file whose modification time was this close to when it was
// last looked at may change again with the same size and modification time
// (on file systems with coarse clocks), so its content is compared instead.
// This is git's "racily clean" rule.
const racyWindow = 2 * time.Second

// unchanged reports whether fi shows the file as stamped, safely so: the
// same file (a file renamed into its place is another, even with the same
// size and modification time, as a copy that kept its time has), the same
// size and modification time.
func (st fileStamp) unchanged(fi fs.FileInfo) bool {
	return st.fi != nil && os.SameFile(st.fi, fi) &&
		fi.ModTime().Equal(st.fi.ModTime()) && fi.Size() == st.fi.Size() && st.seen.Sub(st.fi.ModTime()) > racyWindow
}

// Watch checks the file for changes every interval (a second is plenty)
// until stop is called; stop waits for a check in progress. A Store without
// a file has nothing to watch.
func (s *Store) Watch(interval time.Duration) (stop func()) {
	if s.file == "" {
		return func() {}
	}
	s.setWatching(true)
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				s.CheckFile()
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			<-exited
			s.setWatching(false)
		})
	}
}

func (s *Store) setWatching(on bool) {
	s.statusMu.Lock()
	s.watching = on
	s.statusMu.Unlock()
}

// CheckFile looks at the file once, as Watch does every interval: when
// someone else changed it, and it has stayed the same since the last look,
// a valid file becomes the running configuration and an invalid one is
// reported (once) while the running one is kept.
func (s *Store) CheckFile() {
	if s.file == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.checkFileLocked(false)
}

// checkFileLocked loads the file if someone else changed it. It returns a
// *ConflictError when the file differs from the running configuration but
// cannot be loaded.
//
// A change found by the watcher (force false) is loaded once the file has
// looked the same for two checks in a row, so that a file caught in the
// middle of being written (editors that truncate and write, or that move
// the old file away first) is not reported as invalid or missing. An edit
// (force true) reads the file whatever a stat says, as it must before it
// writes.
func (s *Store) checkFileLocked(force bool) error {
	fi, err := os.Stat(s.file)
	if !force {
		look := "error: " + fmt.Sprint(err)
		if err == nil {
			if s.stamp.unchanged(fi) {
				s.pending = ""
				return nil
			}
			look = fmt.Sprint(fi.ModTime().UnixNano(), fi.Size())
		}
		if look != s.pending {
			s.pending = look
			return nil
		}
	}
	switch {
	case errors.Is(err, fs.ErrNotExist) && force:
		return nil // the edit writes the running configuration back
	case err != nil:
		return s.refuseLocked("", err)
	}
	data, fi, err := readFile(s.file)
	if err != nil {
		return s.refuseLocked("", err)
	}
	s.stamp = stampOf(fi)
	cur := s.cur.Load()
	v := Version(data)
	if v == cur.version {
		if s.bad != "" {
			// Back to what is running (an edit undone): the error is over.
			s.endBadLocked(v)
		}
		return nil
	}
	cfg, err := parse(s.viewOf(data), s.name, newFileChecks(s.checks, cur.cfg))
	if err == nil {
		err = sameServed(cur.cfg, cfg, data, s.name, s.served)
	}
	if err != nil {
		return s.refuseLocked(v, err)
	}
	r := Reload{PreviousVersion: cur.version, Version: v}
	if err := s.recordLocked(r); err != nil {
		// Not loaded, so that the running configuration never changes
		// unrecorded (a full disk under the audit log): the next check
		// reads the file again and retries.
		s.stamp, s.pending = fileStamp{}, ""
		r.Err = fmt.Errorf("%s changed on disk but was not loaded, since the reload could not be recorded in the audit log (retried every check): %w", s.name, err)
		s.setLastReload(r)
		return r.Err
	}
	s.bad, s.badUnrecorded = "", false
	// The status first: a reader who sees the new configuration finds
	// the reload in the status too.
	s.setLastReload(r)
	s.swapLocked(&snapshot{data: data, cfg: cfg, version: v})
	return nil
}

// restartToChangeTenants ends the problems of sameServed about tenants.
const restartToChangeTenants = "the process serves the tenants it started with (each one's endpoints, keys and state), so restart xaa-idp to "

// sameServed refuses a file changed on disk (data, parsed as next) that
// asks to be served otherwise than the running configuration is: its
// tenants not those of the running configuration, by id and path (one
// added, removed, renamed or moved, or tenants: put into a file without
// it or taken out), or, without tenants, its issuer: not the one served
// (issuer, ServesIssuer). The process mounted each tenant, and its
// endpoints and keys, at its start, so that such a file is loaded by a
// restart alone. Until 2026-12-06 it was loaded: a removed tenant went on
// signing its users in with the configuration it had, and its admin API's
// GET /admin/api/config failed; a tenant added or moved answered 404; an
// issuer changed showed in GET /admin/api/config while every token still
// named the old one. Every tenant's admin is told the problems, at the
// line of tenants: (ids and paths are the issuers' that / lists), as a
// change only a restart makes concerns them all.
func sameServed(running, next *Config, data []byte, file string, issuer servedIssuer) error {
	problem := func(format string, args ...any) Problem {
		return Problem{File: file, Line: Line(data, "tenants"), Msg: "tenants: " + fmt.Sprintf(format, args...)}
	}
	if len(running.Tenants) == 0 || len(next.Tenants) == 0 {
		switch {
		case len(running.Tenants) == len(next.Tenants):
			return issuer.check(next, data, file)
		case len(next.Tenants) > 0:
			return Problems{problem("%sserve tenants", restartToChangeTenants)}
		}
		return Problems{problem("%sserve one IdP without tenants", restartToChangeTenants)}
	}
	var ps Problems
	served := map[string]string{} // id -> path
	for _, t := range running.Tenants {
		served[t.ID] = t.Path
	}
	for _, t := range next.Tenants {
		path, ok := served[t.ID]
		switch {
		case !ok:
			ps = append(ps, problem("tenant %q is not one this process serves: %sserve it", t.ID, restartToChangeTenants))
		case path != t.Path:
			ps = append(ps, problem("tenant %q is served at %s: %sserve it at %s", t.ID, path, restartToChangeTenants, t.Path))
		}
		delete(served, t.ID)
	}
	for _, t := range running.Tenants {
		if _, gone := served[t.ID]; gone {
			ps = append(ps, problem("tenant %q, which this process serves, is not in the file: %sremove it", t.ID, restartToChangeTenants))
		}
	}
	if ps != nil {
		return ps
	}
	return nil
}

// servedIssuer is the issuer a process serves, when it is the file's
// issuer: or, without one, the address's (ServesIssuer); the zero value,
// when --issuer gives it or no process serves the file, checks nothing.
type servedIssuer struct {
	issuer string // the issuer served
	file   string // the file's issuer: when the process started, "" without one
}

// check refuses next, a file without tenants, whose issuer: is neither
// the one served nor the one the process started with (none, for the
// address's): a reload cannot move the endpoints, keys and every token's
// iss. Without the key, a restart serves the address's issuer.
func (s servedIssuer) check(next *Config, data []byte, file string) error {
	if s.issuer == "" || next.Issuer == s.issuer || next.Issuer == s.file {
		return nil
	}
	restart := "this process serves the issuer " + s.issuer + " (every endpoint, and every token's iss), so restart xaa-idp to "
	if next.Issuer == "" {
		return Problems{{File: file, Line: Line(data, "issuer"), Msg: "issuer: " + restart + "serve the issuer of its address (--addr) or of --issuer"}}
	}
	return Problems{{File: file, Line: Line(data, "issuer"), Msg: "issuer: " + restart + "serve " + next.Issuer}}
}

// refuseLocked keeps the running configuration because the file (at
// version v, "" when unreadable) cannot be loaded, reporting it the first
// time.
func (s *Store) refuseLocked(v string, err error) error {
	key := v
	if v == "" {
		if errors.Is(err, fs.ErrNotExist) && s.bad == "" {
			// Once, until the file is back: the status and the console
			// say it for as long as it lasts.
			slog.Warn("the configuration file is missing (deleted or moved): the running configuration is kept, and the next change through the admin API or the console writes the file again",
				"file", s.name)
		}
		// A problem of the file, named as Parse names it, so that the log,
		// the status and a refused edit say which file is unreadable.
		err = Problems{{File: s.name, Msg: "cannot read the file: " + unwrapPathError(err).Error()}}
		key = "error: " + err.Error()
	}
	if s.bad != key || s.badUnrecorded {
		r := Reload{PreviousVersion: s.Version(), Version: v, Err: err}
		s.bad = key
		s.setLastReload(r)
		// A refusal the audit log could not take (a full disk) is
		// recorded by a later check, once there is room: the file is read
		// again then, as a reload that could not be recorded is. Until
		// 2026-12-07 it was never recorded, the audit's last word being
		// the configuration the file no longer held.
		s.badUnrecorded = s.recordLocked(r) != nil
		if s.badUnrecorded {
			s.stamp, s.pending = fileStamp{}, ""
		}
	}
	return &ConflictError{File: s.file, Err: err}
}

// endBadLocked ends the refusal of the file, which is back to the running
// configuration (version v): its config_reload event says so, unless the
// refusal itself was never recorded.
func (s *Store) endBadLocked(v string) {
	unrecorded := s.badUnrecorded
	s.bad, s.badUnrecorded = "", false
	if unrecorded {
		s.setLastReload(Reload{PreviousVersion: v, Version: v})
		return
	}
	s.reportLocked(Reload{PreviousVersion: v, Version: v})
}

// reportLocked records r (a refused reload, or the file back to what is
// running, neither of which changes the running configuration) and shows
// it in the Status, before the event is written, so that a reader who has
// seen the event finds the status saying the same.
func (s *Store) reportLocked(r Reload) {
	s.setLastReload(r)
	_ = s.recordLocked(r)
}

// recordLocked calls the OnReload functions with r, stopping at the first
// that fails.
func (s *Store) recordLocked(r Reload) error {
	r.Time, r.File = time.Now(), s.file
	for _, f := range s.onReload {
		if err := f(r); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) setLastReload(r Reload) {
	r.Time, r.File = time.Now(), s.file
	s.statusMu.Lock()
	s.lastReload = &r
	s.statusMu.Unlock()
}

// readFile reads a file and the stat of what it read: at most one byte
// more than MaxFileSize, enough for Parse to refuse a larger one. Anything
// but a regular file is refused before it is read: opening a named pipe
// without a writer waited forever (a start deaf to SIGINT, a watcher
// holding the lock of every edit), and a device is no configuration. It is
// opened without blocking, so that a pipe renamed into the file's place
// between a stat and the open cannot hang it either.
func readFile(name string) ([]byte, fs.FileInfo, error) {
	if fi, err := os.Stat(name); err != nil {
		return nil, nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, nil, &fs.PathError{Op: "open", Path: name, Err: notRegular(fi.Mode())}
	}
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, &fs.PathError{Op: "open", Path: name, Err: notRegular(fi.Mode())}
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	return data, fi, err
}

// readOnce is readFile for a file read once (check, explain), which may
// also be a pipe that something writes the configuration into (--config
// /dev/stdin, fed by a shell pipe or docker run -i): opened without
// waiting for a writer, it is read to the writer's end. A pipe that has
// no writer (a named pipe nothing has opened) reads nothing at once and
// is refused as readFile refuses it, rather than waited on forever.
func readOnce(name string) ([]byte, error) {
	fi, err := os.Stat(name)
	if err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		data, _, err := readFile(name)
		return data, err
	}
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err == nil && len(data) == 0 {
		return nil, &fs.PathError{Op: "open", Path: name, Err: notRegular(fi.Mode())}
	}
	return data, err
}

// notRegular says what a file of mode m is instead of a regular file.
func notRegular(m fs.FileMode) error {
	return errors.New("not a regular file but " + filekind.Of(m) + "; give the path of a YAML configuration file")
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// newFileChecks is fc for a reload of a file whose running configuration
// is running: a key file the start (or a reload) took is not checked
// again, so that one moved away since does not refuse every later edit,
// but a new one is, as check and the next start check it (until
// 2026-12-06 a reload took it unchecked, and the next start refused the
// file).
func newFileChecks(fc FileChecks, running *Config) FileChecks {
	check := fc.KeyFile
	if check == nil {
		return fc
	}
	taken := map[string]bool{}
	for _, idp := range running.IdPs() {
		for _, f := range idp.Signing.KeyFiles {
			taken[f] = true
		}
	}
	fc.KeyFile = func(path string) error {
		if taken[path] {
			return nil
		}
		return check(path)
	}
	return fc
}
