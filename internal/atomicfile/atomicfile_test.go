package atomicfile_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/xaa-idp/xaa-idp/internal/atomicfile"
)

func TestWrite_NewFileGetsPermAndContent(t *testing.T) {
	name := filepath.Join(t.TempDir(), "key.pem")
	fi, err := atomicfile.Write(name, []byte("secret"), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("perm = %v, want 0600", fi.Mode().Perm())
	}
	if b, _ := os.ReadFile(name); string(b) != "secret" {
		t.Errorf("content = %q", b)
	}
}

func TestWrite_ExistingFileKeepsPermAndLeavesNoTemporary(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(name, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	fi, err := atomicfile.Write(name, []byte("new"), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("perm = %v, want 0640 kept", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the file", len(entries))
	}
}

func TestWrite_FollowsSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.yaml")
	link := filepath.Join(dir, "link.yaml")
	_ = os.WriteFile(target, []byte("old"), 0o600)
	if err := os.Symlink(target, link); err != nil {
		t.Skip(err)
	}
	if _, err := atomicfile.Write(link, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
		t.Error("the link was replaced by a file")
	}
	if b, _ := os.ReadFile(target); string(b) != "new" {
		t.Errorf("target = %q, want new", b)
	}
}

// A dangling link (its target removed for a moment, by a checkout), in a
// chain of relative links: Write creates the target and keeps the links.
func TestWrite_FollowsDanglingSymlinks(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "repo"), 0o700); err != nil {
		t.Fatal(err)
	}
	link, middle := filepath.Join(dir, "link.yaml"), filepath.Join(dir, "repo", "middle.yaml")
	if err := os.Symlink("real.yaml", middle); err != nil {
		t.Skip(err)
	}
	if err := os.Symlink(filepath.Join("repo", "middle.yaml"), link); err != nil {
		t.Fatal(err)
	}
	if _, err := atomicfile.Write(link, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{link, middle} {
		if fi, _ := os.Lstat(l); fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s was replaced by a file", l)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "repo", "real.yaml")); string(b) != "new" {
		t.Errorf("target = %q, want new", b)
	}
	if got := atomicfile.RemoveTemporaries(link); len(got) != 0 {
		t.Errorf("removed %v", got)
	}
}

func TestRemoveTemporaries(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "config.yaml")
	_ = os.WriteFile(name, []byte("x"), 0o600)
	stale := filepath.Join(dir, ".config.yaml.123"+atomicfile.TempSuffix)
	other := filepath.Join(dir, ".other.yaml.123"+atomicfile.TempSuffix)
	_ = os.WriteFile(stale, nil, 0o600)
	_ = os.WriteFile(other, nil, 0o600)
	if removed := atomicfile.RemoveTemporaries(name); len(removed) != 1 || removed[0] != stale {
		t.Errorf("removed %v, want [%s]", removed, stale)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Error("stale temporary kept")
	}
	if _, err := os.Stat(other); err != nil {
		t.Error("another file's temporary removed")
	}
}

func TestRemoveTemporariesIn(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	if err := os.Mkdir(keys, 0o700); err != nil {
		t.Fatal(err)
	}
	stale := []string{
		filepath.Join(dir, ".access-requests.json.1"+atomicfile.TempSuffix),
		filepath.Join(keys, ".rs256.pem.2"+atomicfile.TempSuffix),
	}
	kept := filepath.Join(keys, "rs256.pem")
	below := filepath.Join(keys, "old", ".rs256.pem.3"+atomicfile.TempSuffix)
	if err := os.Mkdir(filepath.Dir(below), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range append(stale, kept, below) {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	removed := atomicfile.RemoveTemporariesIn(dir, keys)
	if len(removed) != 2 {
		t.Errorf("removed %v, want %v", removed, stale)
	}
	for _, f := range stale {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s kept", f)
		}
	}
	if _, err := os.Stat(kept); err != nil {
		t.Error("a file that is no temporary was removed")
	}
	if _, err := os.Stat(below); err != nil {
		t.Error("a temporary in a directory not given was removed")
	}
}

func TestWritePrivate_ReplacesALooserModeWith0600(t *testing.T) {
	name := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(name, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := atomicfile.WritePrivate(name, []byte("new"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("perm = %v, want 0600", fi.Mode().Perm())
	}
}
