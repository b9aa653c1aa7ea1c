package policy_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/fixtures"
	"github.com/xaa-idp/xaa-idp/policy"
)

// openCopy copies a configuration into a temporary directory and opens it
// as a Store that writes back to it.
func openCopy(t *testing.T, src string) (*policy.Store, string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.WriteFile(file, data, 0o640); err != nil {
		t.Fatal(err)
	}
	s, err := policy.OpenStore(file)
	if err != nil {
		t.Fatal(err)
	}
	return s, file
}

func readString(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The layout an edit keeps, line by line, is internal/yamlpatch's to test;
// these tests check what the Store adds: versions, validation, the file.

// TestStore_EditChangesOnlyTheEditedLines checks, on the demo
// configuration, that an access edit leaves every line before and after
// the edited list as it was.
func TestStore_EditChangesOnlyTheEditedLines(t *testing.T) {
	s, err := policy.NewStore(fixtures.Demo, fixtures.DemoFile)
	if err != nil {
		t.Fatal(err)
	}
	access := append(s.Config().Server("design").Access, policy.Access{Groups: []string{"support"}, Scopes: []string{"design.read"}})
	if _, err := s.UpdateServerAccess("design", access, s.Version()); err != nil {
		t.Fatal(err)
	}
	before, after := strings.Split(string(fixtures.Demo), "\n"), strings.Split(string(s.YAML()), "\n")
	if len(after) != len(before)+2 {
		t.Fatalf("%d lines, want %d", len(after), len(before)+2)
	}
	at := -1
	for i, line := range before {
		if strings.Contains(line, "id: crm") {
			at = i - 1 // the blank line before the next server
		}
	}
	want := append(append(append([]string(nil), before[:at]...), "      - groups: [support]", "        scopes: [design.read]"), before[at:]...)
	if !reflect.DeepEqual(after, want) {
		t.Errorf("got:\n%s", s.YAML())
	}
}

func TestStore_CRLFFileStaysCRLF(t *testing.T) {
	data := strings.ReplaceAll(string(fixtures.Demo), "\n", "\r\n")
	s, err := policy.NewStore([]byte(data), "crlf.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutGroup(policy.Group{Name: "legal", Description: "Reads contracts"}, s.Version()); err != nil {
		t.Fatal(err)
	}
	got := string(s.YAML())
	if strings.Count(got, "\n") != strings.Count(got, "\r\n") || !strings.Contains(got, "  - name: legal\r\n    description: Reads contracts\r\n") {
		t.Errorf("line breaks mixed:\n%q", got)
	}
}

func TestStore_InvalidEditChangesNothing(t *testing.T) {
	s, file := openCopy(t, "testdata/store/layout.yaml")
	before, cfg, version := readString(t, file), s.Config(), s.Version()
	changes := 0
	s.OnChange(func(*policy.Config) { changes++ })
	_, err := s.UpdateServerAccess("chat", []policy.Access{{Groups: []string{"enginering"}}}, version)
	var ps policy.Problems
	if !errors.As(err, &ps) || len(ps) != 1 {
		t.Fatalf("err = %v, want one problem", err)
	}
	if p := ps[0]; p.Line == 0 || !strings.Contains(p.Msg, `unknown group "enginering"`) || !strings.Contains(p.Msg, `did you mean "engineering"`) {
		t.Errorf("problem = %+v", p)
	}
	if readString(t, file) != before || s.Config() != cfg || s.Version() != version || changes != 0 {
		t.Error("a refused edit changed the file or the running configuration")
	}
	if entries, _ := os.ReadDir(filepath.Dir(file)); len(entries) != 1 {
		t.Errorf("files beside the configuration: %v", entries)
	}
}

func TestStore_EditNeedsTheCurrentVersion(t *testing.T) {
	s, err := policy.NewStore(fixtures.Demo, fixtures.DemoFile)
	if err != nil {
		t.Fatal(err)
	}
	old := s.Version()
	chatV := policy.ServerVersion(s.Config().Server("wiki"))
	if _, err := s.PutGroup(policy.Group{Name: "legal"}, ""); !errors.Is(err, policy.ErrPreconditionRequired) {
		t.Errorf("no version: err = %v", err)
	}
	if _, err := s.PutGroup(policy.Group{Name: "legal"}, old); err != nil {
		t.Fatal(err)
	}
	var stale *policy.StaleError
	if _, err := s.PutGroup(policy.Group{Name: "legal2"}, old); !errors.As(err, &stale) || stale.Version != s.Version() {
		t.Errorf("old version: err = %v", err)
	}
	// A server's own version survives changes elsewhere, and is refused
	// for another server.
	if _, err := s.UpdateServerDeny("tracker", []policy.Deny{{Users: []string{"bob"}}}, chatV); !errors.As(err, &stale) {
		t.Errorf("another server's version: err = %v", err)
	}
	if _, err := s.UpdateServerDeny("wiki", []policy.Deny{{Users: []string{"bob"}}}, chatV); err != nil {
		t.Errorf("the server's version: %v", err)
	}
	if _, err := s.UpdateServerDeny("wiki", nil, chatV); !errors.As(err, &stale) {
		t.Errorf("the server's version after it changed: err = %v", err)
	}
	if _, err := s.PutGroup(policy.Group{Name: "legal3"}, "*"); err != nil {
		t.Errorf("*: %v", err)
	}
	var missing *policy.NotFoundError
	if _, err := s.DeleteUser("nobody", "*"); !errors.As(err, &missing) {
		t.Errorf("unknown user: err = %v", err)
	}
}

func TestStore_ConcurrentEditsOfOneVersionOneWins(t *testing.T) {
	s, file := openCopy(t, "testdata/store/layout.yaml")
	v := s.Version()
	const n = 16
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.PutGroup(policy.Group{Name: "g" + string(rune('a'+i))}, v)
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		var stale *policy.StaleError
		switch {
		case err == nil:
			won++
		case !errors.As(err, &stale):
			t.Errorf("err = %v, want a StaleError", err)
		}
	}
	if won != 1 || len(s.Config().Groups) != 4 {
		t.Errorf("%d edits won, %d groups; want 1 and 4", won, len(s.Config().Groups))
	}
	if _, err := policy.Load(file); err != nil {
		t.Error(err)
	}
}

func TestStore_UnchangedEditWritesNothing(t *testing.T) {
	s, file := openCopy(t, "testdata/store/layout.yaml")
	fi, _ := os.Stat(file)
	time.Sleep(10 * time.Millisecond)
	ch, err := s.PutUser(*s.Config().User("alice"), s.Version())
	if err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(file)
	if !ch.Unchanged || ch.Version != ch.PreviousVersion || !after.ModTime().Equal(fi.ModTime()) {
		t.Errorf("unchanged edit: %+v, file rewritten: %v", ch, !after.ModTime().Equal(fi.ModTime()))
	}
}

func TestStore_WriteKeepsPermissionsAndFollowsSymlinks(t *testing.T) {
	_, file := openCopy(t, "testdata/store/layout.yaml")
	link := filepath.Join(t.TempDir(), "link.yaml")
	if err := os.Symlink(file, link); err != nil {
		t.Skip("no symlinks:", err)
	}
	s, err := policy.OpenStore(link)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutGroup(policy.Group{Name: "legal"}, s.Version()); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Error("the link was replaced")
	}
	fi, _ := os.Stat(file)
	if fi.Mode().Perm() != 0o640 || !strings.Contains(readString(t, file), "name: legal") {
		t.Errorf("target: mode %v, content:\n%s", fi.Mode().Perm(), readString(t, file))
	}
}

func TestOpenStore_RemovesTemporariesOfAKilledWriter(t *testing.T) {
	_, file := openCopy(t, "testdata/store/layout.yaml")
	dir := filepath.Dir(file)
	tmp := filepath.Join(dir, ".layout.yaml.12345.xaa-idp-tmp")
	other := filepath.Join(dir, "notes.txt")
	for _, f := range []string{tmp, other} {
		if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := policy.OpenStore(file); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Error("temporary file left")
	}
	if _, err := os.Stat(other); err != nil {
		t.Error("another file removed")
	}
}

func TestNewStore_EditsLiveInMemory(t *testing.T) {
	s, err := policy.NewStore(fixtures.Demo, fixtures.DemoFile)
	if err != nil {
		t.Fatal(err)
	}
	if !s.InMemory() || s.File() != "" || s.Status().File != "" || !s.Status().InMemory {
		t.Errorf("status = %+v", s.Status())
	}
	if _, err := s.PutGroup(policy.Group{Name: "legal"}, s.Version()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(s.YAML(), []byte("  - name: legal\n")) || s.Config().Group("legal") == nil {
		t.Errorf("YAML:\n%s", s.YAML())
	}
	s.CheckFile() // nothing to check
	if stop := s.Watch(time.Millisecond); stop != nil {
		stop()
	}
}

// settle looks at the file twice, as the watcher does in two intervals: a
// change is loaded once the file has looked the same twice.
func settle(s *policy.Store) {
	s.CheckFile()
	s.CheckFile()
}

// reloads records what a Store reports.
type reloads struct {
	mu   sync.Mutex
	list []policy.Reload
}

func (r *reloads) add(x policy.Reload) error {
	r.mu.Lock()
	r.list = append(r.list, x)
	r.mu.Unlock()
	return nil
}
func (r *reloads) get() []policy.Reload {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]policy.Reload(nil), r.list...)
}

func TestStore_ReloadsAFileChangedOnDisk(t *testing.T) {
	s, file := openCopy(t, "testdata/store/layout.yaml")
	var seen reloads
	s.OnReload(seen.add)
	var running *policy.Config
	s.OnChange(func(c *policy.Config) { running = c })
	old := s.Version()

	edited := strings.Replace(readString(t, file), "- users: [bob]\n        scopes: [chat.read]", "- users: [bob]\n        scopes: [chat.read, chat.write]", 1)
	if err := os.WriteFile(file, []byte(edited), 0o640); err != nil {
		t.Fatal(err)
	}
	settle(s)
	got := seen.get()
	if len(got) != 1 || got[0].Err != nil || got[0].PreviousVersion != old || got[0].Version != policy.Version([]byte(edited)) || got[0].File != file {
		t.Fatalf("reloads = %+v", got)
	}
	if running != s.Config() || len(s.Config().Server("chat").Access[1].Scopes) != 2 {
		t.Error("the changed file is not running")
	}
	if st := s.Status(); st.Reload == nil || st.Reload.Err != nil || st.Version != got[0].Version {
		t.Errorf("status = %+v", st)
	}
	// Its own writes are no change on disk.
	if _, err := s.PutGroup(policy.Group{Name: "legal"}, s.Version()); err != nil {
		t.Fatal(err)
	}
	settle(s)
	if n := len(seen.get()); n != 1 {
		t.Errorf("%d reloads after the store's own write, want 1", n)
	}
}

func TestStore_KeepsRunningConfigWhenTheFileTurnsInvalid(t *testing.T) {
	s, file := openCopy(t, "testdata/store/layout.yaml")
	var seen reloads
	s.OnReload(seen.add)
	cfg, good := s.Config(), readString(t, file)
	bad := strings.Replace(good, "groups: [engineering]\n    admin: true", "groups: [enginering]\n    admin: true", 1)
	if err := os.WriteFile(file, []byte(bad), 0o640); err != nil {
		t.Fatal(err)
	}
	settle(s)
	settle(s) // reported once
	got := seen.get()
	var ps policy.Problems
	if len(got) != 1 || !errors.As(got[0].Err, &ps) || ps[0].Line != 21 || s.Config() != cfg {
		t.Fatalf("reloads = %+v", got)
	}
	if st := s.Status(); st.Reload == nil || st.Reload.Err == nil {
		t.Errorf("status = %+v", st)
	}
	// An edit would overwrite the change on disk: refused.
	var conflict *policy.ConflictError
	if _, err := s.PutGroup(policy.Group{Name: "legal"}, "*"); !errors.As(err, &conflict) || !errors.As(err, &ps) {
		t.Errorf("edit over an invalid file: err = %v", err)
	}
	if readString(t, file) != bad {
		t.Error("the invalid file was overwritten")
	}
	// Back to the running configuration: the error is over.
	if err := os.WriteFile(file, []byte(good), 0o640); err != nil {
		t.Fatal(err)
	}
	settle(s)
	if got := seen.get(); len(got) != 2 || got[1].Err != nil || s.Status().Reload.Err != nil || s.Config() != cfg {
		t.Errorf("reloads = %+v", got)
	}
}

func TestStore_EditNeverOverwritesAChangeOnDisk(t *testing.T) {
	s, file := openCopy(t, "testdata/store/layout.yaml")
	v := s.Version()
	theirs := readString(t, file) + "# their note\n"
	if err := os.WriteFile(file, []byte(theirs), 0o640); err != nil {
		t.Fatal(err)
	}
	// No CheckFile: the edit itself looks, loads their change, and finds
	// its version stale.
	var stale *policy.StaleError
	if _, err := s.PutGroup(policy.Group{Name: "legal"}, v); !errors.As(err, &stale) {
		t.Fatalf("err = %v, want stale", err)
	}
	if readString(t, file) != theirs || s.Version() != policy.Version([]byte(theirs)) {
		t.Fatal("their change was not loaded")
	}
	if _, err := s.PutGroup(policy.Group{Name: "legal"}, s.Version()); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, file); !strings.HasSuffix(got, "# their note\n") || !strings.Contains(got, "name: legal") {
		t.Errorf("file:\n%s", got)
	}
}

// TestStore_TwoStoresOnOneFileLoseNoEdit: two processes serving the same
// --config (a restart that overlaps the old process, or two IdPs on one
// file) each have a Store. Each edit reads the file, then writes it back:
// without a lock across the two, one edit could read the file just before
// the other wrote it and write over it. Every edit acknowledged by either
// must be in the file.
func TestStore_TwoStoresOnOneFileLoseNoEdit(t *testing.T) {
	a, file := openCopy(t, "testdata/store/layout.yaml")
	b, err := policy.OpenStore(file)
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	var acked sync.Map
	var wg sync.WaitGroup
	for si, s := range []*policy.Store{a, b} {
		wg.Go(func() {
			for i := range n {
				name := fmt.Sprintf("s%d-g%d", si, i)
				if _, err := s.PutGroup(policy.Group{Name: name}, "*"); err != nil {
					t.Errorf("store %d: %v", si, err)
					continue
				}
				acked.Store(name, true)
			}
		})
	}
	wg.Wait()
	cfg, err := policy.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	lost := 0
	acked.Range(func(name, _ any) bool {
		if cfg.Group(name.(string)) == nil {
			lost++
		}
		return true
	})
	if lost > 0 {
		t.Errorf("%d of %d acknowledged edits are not in the file", lost, 2*n)
	}
}

func TestStore_WatchPicksUpChanges(t *testing.T) {
	s, file := openCopy(t, "testdata/store/layout.yaml")
	stop := s.Watch(5 * time.Millisecond)
	defer stop()
	if !s.Status().Watching {
		t.Error("not watching")
	}
	changed := strings.Replace(readString(t, file), "name: Files", "name: File Share", 1)
	if err := os.WriteFile(file, []byte(changed), 0o640); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for s.Config().Server("files").Name != "File Share" {
		if time.Now().After(deadline) {
			t.Fatal("the change was not picked up")
		}
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	if s.Status().Watching {
		t.Error("still watching after stop")
	}
}

// TestStore_UnusualLayoutsStayCorrect edits configurations written in
// styles the printer splices less often (or not at all, falling back to
// encoding the whole document): every edit must still give exactly the
// intended configuration.
func TestStore_UnusualLayoutsStayCorrect(t *testing.T) {
	const tail = `clients: [{client_id: c, token_exchange: true}]
mcp_servers:
  - id: s
    issuer: https://as.example
    scopes: [a, b]
    clients: {c: c-at-s}
    access: [{users: [u1], scopes: [a]}]
`
	layouts := map[string]string{
		"flow root": `{groups: [{name: g}], users: [{username: u1, password: p, groups: [g]}], clients: [{client_id: c, token_exchange: true}],
  mcp_servers: [{id: s, issuer: "https://as.example", scopes: [a, b], clients: {c: c-at-s}, access: [{users: [u1], scopes: [a]}]}]}
`,
		"compact lists":           "groups:\n- name: g\nusers:\n- username: u1\n  password: p\n  groups:\n  - g\n" + tail,
		"dash on its own line":    "groups:\n  -\n    name: g\nusers:\n  -\n    username: u1\n    password: p\n    groups: [g]\n" + tail,
		"four spaces":             "groups:\n    - name: g\nusers:\n    - username: u1\n      password: p\n      groups: [g]\nclients: [{client_id: c, token_exchange: true}]\nmcp_servers:\n    - id: s\n      issuer: https://as.example\n      scopes: [a, b]\n      clients:\n          c: c-at-s\n      access:\n          - users: [u1]\n            scopes: [a]\n",
		"anchors":                 "groups:\n  - name: &g g\nusers:\n  - username: u1\n    password: p\n    groups: [*g]\n" + tail,
		"document markers":        "---\ngroups:\n  - name: g\nusers:\n  - username: u1\n    password: p\n    groups: [g]\n" + tail + "...\n",
		"no final newline":        "groups:\n  - name: g\nusers:\n  - username: u1\n    password: p\n    groups: [g]\n" + strings.TrimSuffix(tail, "\n"),
		"comments before entries": "groups:\n  # the groups\n\n  - name: g\n# users\nusers:\n    # first\n  - username: u1\n    password: p\n    groups: [g]\n" + tail,
		"multi-line scalars":      "groups:\n  - name: g\n    description: >\n      folded\n      text\n\nusers:\n  - username: u1\n    password: \"a\n      b\"\n    groups: [g]\n" + tail,
	}
	for name, doc := range layouts {
		t.Run(name, func(t *testing.T) {
			s, err := policy.NewStore([]byte(doc), "unusual.yaml")
			if err != nil {
				t.Fatalf("the layout does not parse: %v", err)
			}
			steps := []func() (*policy.Change, error){
				func() (*policy.Change, error) {
					return s.PutUser(policy.User{Username: "u2", Password: "p2", Groups: []string{"g"}}, "*")
				},
				func() (*policy.Change, error) {
					return s.UpdateServerAccess("s", []policy.Access{{Users: []string{"u1"}, Scopes: []string{"a"}}, {Groups: []string{"g"}, Scopes: []string{"b"}}}, "*")
				},
				func() (*policy.Change, error) { return s.PutGroup(policy.Group{Name: "h", Description: "new"}, "*") },
				func() (*policy.Change, error) { return s.DeleteUser("u2", "*") },
				func() (*policy.Change, error) {
					u := *s.Config().User("u1")
					u.Groups = append(u.Groups, "h")
					return s.PutUser(u, "*")
				},
				func() (*policy.Change, error) { return s.DeleteGroup("g", "*") },
			}
			for i, step := range steps {
				ch, err := step()
				if err != nil {
					var ps policy.Problems
					if i == len(steps)-1 && errors.As(err, &ps) {
						continue // g is still used: refused, as it should be
					}
					t.Fatalf("step %d: %v\n%s", i, err, s.YAML())
				}
				if ch.Unchanged {
					t.Fatalf("step %d changed nothing", i)
				}
			}
			cfg := s.Config()
			if cfg.User("u2") != nil || !reflect.DeepEqual(cfg.User("u1").Groups, []string{"g", "h"}) ||
				len(cfg.Server("s").Access) != 2 || cfg.Group("h") == nil || cfg.Group("h").Description != "new" {
				t.Errorf("wrong result:\n%s", s.YAML())
			}
			if again, err := policy.Parse(s.YAML(), "again.yaml"); err != nil || !reflect.DeepEqual(again.Users, cfg.Users) {
				t.Errorf("YAML does not parse back: %v", err)
			}
		})
	}
}

// TestStore_FileCaughtMidWriteIsNotReported: an editor that truncates the
// file and writes it again, or moves it away and back, leaves it invalid or
// missing for a moment; the watcher waits for the file to settle.
func TestStore_FileCaughtMidWriteIsNotReported(t *testing.T) {
	s, file := openCopy(t, "testdata/store/layout.yaml")
	var seen reloads
	s.OnReload(seen.add)
	good := readString(t, file)
	if err := os.WriteFile(file, []byte(good[:len(good)/2]), 0o640); err != nil {
		t.Fatal(err)
	}
	s.CheckFile()
	if err := os.Rename(file, file+".bak"); err != nil {
		t.Fatal(err)
	}
	s.CheckFile()
	if err := os.WriteFile(file, []byte(good+"# saved\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	s.CheckFile()
	if got := seen.get(); len(got) != 0 {
		t.Fatalf("reported while the file was being written: %+v", got)
	}
	s.CheckFile()
	if got := seen.get(); len(got) != 1 || got[0].Err != nil || !strings.HasSuffix(string(s.YAML()), "# saved\n") {
		t.Fatalf("reloads = %+v", got)
	}
	// A file that stays missing is reported, once.
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	settle(s)
	settle(s)
	if got := seen.get(); len(got) != 2 || got[1].Err == nil || !strings.Contains(got[1].Err.Error(), "cannot read the file") {
		t.Fatalf("reloads = %+v", got)
	}
}

// TestStore_KeepsRunningConfigWhenTheFileTurnsHuge: a huge file saved over
// the configuration of a running server is refused like any invalid one,
// without reading it all.
func TestStore_KeepsRunningConfigWhenTheFileTurnsHuge(t *testing.T) {
	s, file := openCopy(t, "testdata/store/layout.yaml")
	var seen reloads
	s.OnReload(seen.add)
	cfg := s.Config()
	huge := readString(t, file) + "#" + strings.Repeat("x", policy.MaxFileSize) + "\n"
	if err := os.WriteFile(file, []byte(huge), 0o640); err != nil {
		t.Fatal(err)
	}
	settle(s)
	got := seen.get()
	if len(got) != 1 || got[0].Err == nil || !strings.Contains(got[0].Err.Error(), "larger than 16 MiB") || s.Config() != cfg {
		t.Fatalf("reloads = %+v", got)
	}
}

// TestStore_RefusedReloadUnrecordedIsRecordedLater: a refused reload whose
// recording fails (the audit log on a full disk) is recorded by a later
// check, once it can be, and then once only; the file undone, the event
// saying so follows it.
func TestStore_RefusedReloadUnrecordedIsRecordedLater(t *testing.T) {
	s, file := openCopy(t, "testdata/store/layout.yaml")
	var full atomic.Bool
	var seen reloads
	s.OnReload(func(r policy.Reload) error {
		if full.Load() {
			return errors.New("no space left on device")
		}
		return seen.add(r)
	})
	good := readString(t, file)
	bad := strings.Replace(good, "groups: [engineering]\n    admin: true", "groups: [enginering]\n    admin: true", 1)
	full.Store(true)
	if err := os.WriteFile(file, []byte(bad), 0o640); err != nil {
		t.Fatal(err)
	}
	settle(s)
	if st := s.Status(); st.Reload == nil || st.Reload.Err == nil {
		t.Errorf("the status does not show the refused reload while it cannot be recorded: %+v", st)
	}
	full.Store(false)
	settle(s)
	settle(s)
	got := seen.get()
	if len(got) != 1 || got[0].Err == nil {
		t.Fatalf("reloads recorded once there is room = %+v, want the refusal once", got)
	}
	if err := os.WriteFile(file, []byte(good), 0o640); err != nil {
		t.Fatal(err)
	}
	settle(s)
	if got = seen.get(); len(got) != 2 || got[1].Err != nil || got[1].Version != got[1].PreviousVersion {
		t.Errorf("reloads after the file was undone = %+v, want the refusal, then the file back", got)
	}
}
