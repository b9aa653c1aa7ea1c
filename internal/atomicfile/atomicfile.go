// Package atomicfile replaces files so that a crash at any moment leaves
// either the old content or the new: the one durable write path for the
// configuration file and the signing keys.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// TempSuffix ends the names of the temporary files Write leaves beside the
// file while it works (".config.yaml.123456.xaa-idp-tmp").
const TempSuffix = ".xaa-idp-tmp"

// Write replaces name's content with data: the data goes to a temporary file
// in the same directory, is synced, and renamed over the file, and the
// directory is synced so that the rename itself is durable. An existing file
// keeps its permissions, and its owner and group as far as the process may
// give them (see keepOwner); a new one gets perm. A symbolic link is followed,
// and its target replaced. It returns the stat of the new file.
func Write(name string, data []byte, perm fs.FileMode) (fs.FileInfo, error) {
	return write(name, data, perm, false, nil)
}

// WritePrivate is Write for a secret (a private key): the file is 0600
// whatever mode the file it replaces had, so that a key copied with a
// looser mode is not rewritten readable by others.
func WritePrivate(name string, data []byte) (fs.FileInfo, error) {
	return write(name, data, 0o600, true, nil)
}

// WriteIf is Write, but calls ready, when not nil, once the new content is
// synced and just before the rename: an error from it leaves the file as
// it is and is returned as it is. A writer that read the file checks here
// that no one else has replaced it since, as late as it can without a
// lock that others would have to take too. Someone else may still save
// the file between that look and the rename; so, when replaced is not nil
// and the system can exchange two files in one step (Linux), the new file
// is exchanged with the one there rather than renamed over it, and
// replaced is called with the content of the file it took out: an error
// from it puts that file back, unchanged, and is returned as it is.
func WriteIf(name string, data []byte, perm fs.FileMode, ready func() error, replaced func(old []byte) error) (fs.FileInfo, error) {
	var last func() ([]byte, error)
	if ready != nil {
		last = func() ([]byte, error) { return nil, ready() }
	}
	return writeChecked(name, data, perm, false, last, replaced)
}

// WriteThen is Write (WritePrivate when private), but once data is synced
// it calls tail, which returns what to add after it: that is written and
// synced too, before the rename. An error from tail leaves the file as it
// is and is returned as it is. A log rewritten in the background writes
// the records it keeps as data, then, under the lock its appends take,
// returns what was appended since as the tail and keeps the lock until
// the rename is done: an append waits for the tail's write, not the
// whole file's.
func WriteThen(name string, data []byte, perm fs.FileMode, private bool, tail func() ([]byte, error)) (fs.FileInfo, error) {
	return write(name, data, perm, private, tail)
}

// The file operations whose order makes a write crash-safe (the data
// synced before the rename, the directory synced after it), as variables
// so that a test can record that order (export_test.go): a sync removed or
// moved shows there, where otherwise only a power loss would show it.
var (
	fileWrite = (*os.File).Write
	fileSync  = (*os.File).Sync
	rename    = os.Rename
	syncDir   = SyncDir
)

// write is Write, WritePrivate (exact: perm whatever the old file's),
// WriteIf and WriteThen.
func write(name string, data []byte, perm fs.FileMode, exact bool, ready func() ([]byte, error)) (fs.FileInfo, error) {
	return writeChecked(name, data, perm, exact, ready, nil)
}

// writeChecked is write, exchanging the new file with the old one when
// replaced is not nil (WriteIf).
func writeChecked(name string, data []byte, perm fs.FileMode, exact bool, ready func() ([]byte, error), replaced func(old []byte) error) (fs.FileInfo, error) {
	target := Target(name)
	old, err := os.Stat(target)
	if err == nil && !exact {
		perm = old.Mode().Perm()
	}
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*"+TempSuffix)
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", name, err)
	}
	tmp := f.Name()
	fail := func(err error) (fs.FileInfo, error) {
		f.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("writing %s: %w", name, err)
	}
	if old != nil {
		keepOwner(f, old)
	}
	if err := f.Chmod(perm); err != nil {
		return fail(err)
	}
	if _, err := fileWrite(f, data); err != nil {
		return fail(err)
	}
	if err := fileSync(f); err != nil {
		return fail(err)
	}
	if ready != nil {
		more, err := ready()
		if err != nil {
			f.Close()
			os.Remove(tmp)
			return nil, err
		}
		if len(more) > 0 {
			if _, err := fileWrite(f, more); err != nil {
				return fail(err)
			}
			if err := fileSync(f); err != nil {
				return fail(err)
			}
		}
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("writing %s: %w", name, err)
	}
	if replaced != nil {
		if err := exchange(tmp, target, replaced); err != nil {
			return nil, fmt.Errorf("writing %s: %w", name, err)
		}
	} else if err := rename(tmp, target); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("writing %s: %w", name, err)
	}
	if err := syncDir(dir); err != nil {
		return nil, fmt.Errorf("writing %s: %w", name, err)
	}
	return os.Stat(target)
}

// exchange puts the new file tmp at target by swap, and removes the file
// it took out once replaced accepts its content; else it swaps them back,
// and returns replaced's error as it is. Where swap cannot, or target does
// not exist, tmp is renamed over target.
func exchange(tmp, target string, replaced func(old []byte) error) error {
	swapped, err := swap(tmp, target)
	if err == nil && !swapped {
		err = rename(tmp, target)
	}
	if err != nil || !swapped {
		os.Remove(tmp)
		return err
	}
	old, err := os.ReadFile(tmp)
	if err == nil {
		err = replaced(old)
	}
	if err != nil {
		if _, berr := swap(tmp, target); berr != nil {
			// tmp holds someone else's file: it stays, named.
			return fmt.Errorf("%w; putting back the file it replaced, now %s: %w", err, tmp, berr)
		}
	}
	os.Remove(tmp)
	return err
}

// ErrReadOnly is the error of CheckWritable.
var ErrReadOnly = errors.New("read-only")

// CheckWritable returns an error that wraps ErrReadOnly, and names the
// file or the directory, when Write would replace a file that its
// operator made read-only: the file (name's Target), or the directory
// Write creates its temporary file in, has no write permission bit (chmod
// a-w), or this process may not write it (another user's, a file system
// mounted read-only). Write itself does not look: a rename replaces a
// file whatever the file's own mode, so a writer that respects the
// operator's choice asks first. A file that does not exist is not
// read-only; its directory may be.
func CheckWritable(name string) error {
	target := Target(name)
	for _, p := range []string{target, filepath.Dir(target)} {
		fi, err := os.Stat(p)
		if err != nil {
			continue // Write creates a missing file, or fails on a missing directory
		}
		what := "file"
		if fi.IsDir() {
			what = "directory"
		}
		if fi.Mode().Perm()&0o222 == 0 {
			return fmt.Errorf("the %s %s is %w (mode %04o)", what, p, ErrReadOnly, fi.Mode().Perm())
		}
		if err := mayWrite(p); err != nil {
			return fmt.Errorf("the %s %s is %w for this process (%v)", what, p, ErrReadOnly, err)
		}
	}
	return nil
}

// maxLinks bounds the symbolic links Target follows by hand, as the
// kernel bounds them (ELOOP).
const maxLinks = 40

// Target is the file that Write replaces for name: name itself, or, when
// name is a symbolic link, the file it leads to, even when that file does
// not exist (a dangling link, whose target a version-control checkout
// removed for a moment): the link is never replaced by a regular file,
// which would detach name from the file the operator keeps.
func Target(name string) string {
	if t, err := filepath.EvalSymlinks(name); err == nil {
		return t
	}
	p := name
	for range maxLinks {
		fi, err := os.Lstat(p)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			return p
		}
		l, err := os.Readlink(p)
		if err != nil {
			return p
		}
		if !filepath.IsAbs(l) {
			l = filepath.Join(filepath.Dir(p), l)
		}
		p = l
	}
	return p
}

// RemoveTemporaries deletes the temporary files that Write left beside name
// when its process was killed before the rename, and returns their paths.
// The file itself is whole: the old content or the new.
func RemoveTemporaries(name string) []string {
	target := Target(name)
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	return removeTemporaries(dir, "."+base+".")
}

// RemoveTemporariesIn deletes the temporary files of Write directly in
// each of dirs, directories that only this process writes (those of a
// locked state directory), and returns their paths. It does not descend:
// what else lies under them is not this process's, and reading it all
// would make a start cost as much as whatever was put there.
func RemoveTemporariesIn(dirs ...string) []string {
	var removed []string
	for _, dir := range dirs {
		removed = append(removed, removeTemporaries(dir, ".")...)
	}
	return removed
}

// removeTemporaries deletes the regular files of dir (not below it) whose
// names start with prefix and end with TempSuffix, and returns their paths.
func removeTemporaries(dir, prefix string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var removed []string
	for _, e := range entries {
		if n := e.Name(); e.Type().IsRegular() && strings.HasPrefix(n, prefix) && strings.HasSuffix(n, TempSuffix) {
			if p := filepath.Join(dir, n); os.Remove(p) == nil {
				removed = append(removed, p)
			}
		}
	}
	return removed
}
