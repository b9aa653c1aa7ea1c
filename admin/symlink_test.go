package admin_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestConfigAPI_EditThroughADanglingSymlinkWritesItsTarget serves a
// configuration that is a symbolic link into a checkout (an operator's
// file under version control), removes the link's target, as a checkout
// does for a moment, and edits through the admin API: the edit writes the
// link's target, and the link stays a link. Replacing the link with a
// file would leave the product reading a file of its own from then on,
// and every later change to the checkout unseen.
func TestConfigAPI_EditThroughADanglingSymlinkWritesItsTarget(t *testing.T) {
	dir := t.TempDir()
	repo := filepath.Join(dir, "repo")
	if err := os.Mkdir(repo, 0o700); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(repo, "idp.yaml")
	if err := os.WriteFile(target, []byte(editConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "idp.yaml")
	if err := os.Symlink(filepath.Join("repo", "idp.yaml"), link); err != nil {
		t.Skip("no symlinks:", err)
	}
	store, err := policy.OpenStore(link)
	if err != nil {
		t.Fatal(err)
	}
	p := serveStore(t, store, filepath.Join(dir, "audit.jsonl"))
	if err := os.Remove(target); err != nil {
		t.Fatal(err)
	}
	resp, body := p.send(t, http.MethodPut, "/admin/api/groups/legal", "alice",
		map[string]string{"description": "legal"}, "If-Match", `"`+store.Version()+`"`)
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		t.Fatalf("edit: %d %s", resp.StatusCode, body)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced by a file: %v %v", fi.Mode(), err)
	}
	data, err := os.ReadFile(target)
	if err != nil {
		t.Fatalf("the link's target was not written: %v", err)
	}
	if cfg, err := policy.Parse(data, target); err != nil || cfg.Group("legal") == nil {
		t.Errorf("the target does not hold the edit: %v", err)
	}
	if fi, err := os.Stat(target); err == nil && fi.Mode().Perm() != 0o600 {
		t.Errorf("the new target is %v, want 0600", fi.Mode().Perm())
	}
}
