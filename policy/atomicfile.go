package policy

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// tempSuffix ends the names of the temporary files writeFileAtomic writes
// beside the configuration file (".config.yaml.123456.xaa-idp-tmp").
const tempSuffix = ".xaa-idp-tmp"

// writeFileAtomic replaces the file's content so that a crash at any moment
// leaves either the old or the new content: the data goes to a temporary
// file in the same directory, is synced, and renamed over the file, and the
// directory is synced so that the rename itself is durable. The file keeps
// its permissions. A symbolic link is followed, and its target replaced.
// It returns the stat of the new file.
func writeFileAtomic(name string, data []byte) (fs.FileInfo, error) {
	target := name
	if t, err := filepath.EvalSymlinks(name); err == nil {
		target = t
	}
	perm := fs.FileMode(0o600) // a configuration holds passwords
	if fi, err := os.Stat(target); err == nil {
		perm = fi.Mode().Perm()
	}
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*"+tempSuffix)
	if err != nil {
		return nil, fmt.Errorf("policy: writing %s: %w", name, err)
	}
	tmp := f.Name()
	fail := func(err error) (fs.FileInfo, error) {
		f.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("policy: writing %s: %w", name, err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Chmod(perm); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, target); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("policy: writing %s: %w", name, err)
	}
	if err := syncDir(dir); err != nil {
		return nil, fmt.Errorf("policy: writing %s: %w", name, err)
	}
	return os.Stat(target)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// removeTemporaries deletes the temporary files that writeFileAtomic left
// beside the file when its process was killed before the rename.
func removeTemporaries(name string) {
	target := name
	if t, err := filepath.EvalSymlinks(name); err == nil {
		target = t
	}
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if n := e.Name(); strings.HasPrefix(n, "."+base+".") && strings.HasSuffix(n, tempSuffix) && e.Type().IsRegular() {
			os.Remove(filepath.Join(dir, n))
		}
	}
}
