package admin_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
)

// TestConfigAPI_ReadOnlyFileIsNotReplaced: an operator made the
// configuration file read-only (chmod 0444), or its directory (chmod
// 0555), meaning "do not change it". Replacing the file by a rename would
// succeed anyway while the directory may be written (and as root even
// when it may not). A change is refused with 409 naming the file, nothing
// changes (the file, its mode, the running policy), and no admin_change is
// recorded, as for any change refused before it is made. Once the file
// may be written again, the change is made and the file keeps its mode.
func TestConfigAPI_ReadOnlyFileIsNotReplaced(t *testing.T) {
	for _, tc := range []struct {
		name              string
		fileMode, dirMode os.FileMode
	}{
		{"file 0444", 0o444, 0o755},
		{"directory 0555", 0o640, 0o555},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := editable(t)
			dir := filepath.Dir(p.file)
			before, err := os.ReadFile(p.file)
			if err != nil {
				t.Fatal(err)
			}
			version := p.store.Version()
			if err := os.Chmod(p.file, tc.fileMode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, tc.dirMode); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(dir, 0o755) })

			resp, body := p.send(t, http.MethodPut, "/admin/api/groups/legal", "alice",
				map[string]string{"description": "Legal"}, "If-Match", `"`+version+`"`)
			e := decode[apiError](t, body)
			if resp.StatusCode != http.StatusConflict || e.Error != "conflict" ||
				!strings.Contains(e.Description, "read-only") || !strings.Contains(e.Description, p.file) {
				t.Fatalf("%d %s, want 409 conflict saying %s is read-only", resp.StatusCode, body, p.file)
			}
			after, err := os.ReadFile(p.file)
			if err != nil || string(after) != string(before) {
				t.Errorf("the file changed: %v\n%s", err, after)
			}
			if fi, err := os.Stat(p.file); err != nil || fi.Mode().Perm() != tc.fileMode {
				t.Errorf("the file's mode is %v (%v), want %v", fi.Mode().Perm(), err, tc.fileMode)
			}
			if p.store.Version() != version || p.srv.Config().Group("legal") != nil {
				t.Error("the running configuration changed")
			}
			if evs := p.events(t, audit.TypeAdminChange); len(evs) != 0 {
				t.Errorf("a refused change was recorded: %+v", evs)
			}

			if err := os.Chmod(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p.file, 0o640); err != nil {
				t.Fatal(err)
			}
			resp, body = p.send(t, http.MethodPut, "/admin/api/groups/legal", "alice",
				map[string]string{"description": "Legal"}, "If-Match", `"`+version+`"`)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("once writable: %d %s", resp.StatusCode, body)
			}
			if fi, err := os.Stat(p.file); err != nil || fi.Mode().Perm() != 0o640 {
				t.Errorf("the replaced file is %v (%v), want 0640 kept", fi.Mode().Perm(), err)
			}
		})
	}
}

// TestConfigAPI_StatusSaysWhenTheFileIsReadOnly: GET /admin/api/status
// answered "editable": true for a file the operator made read-only, while
// every change to it was refused with 409. It says editable false, and
// read_only why, for as long as the file (or its directory) is read-only.
func TestConfigAPI_StatusSaysWhenTheFileIsReadOnly(t *testing.T) {
	p := editable(t)
	type status struct {
		Editable bool   `json:"editable"`
		ReadOnly string `json:"read_only"`
	}
	if _, body := p.send(t, http.MethodGet, "/admin/api/status", "alice", nil); decode[status](t, body) != (status{Editable: true}) {
		t.Fatalf("a writable file: %s, want editable and no read_only", body)
	}
	if err := os.Chmod(p.file, 0o444); err != nil {
		t.Fatal(err)
	}
	_, body := p.send(t, http.MethodGet, "/admin/api/status", "alice", nil)
	if st := decode[status](t, body); st.Editable || !strings.Contains(st.ReadOnly, "read-only") || !strings.Contains(st.ReadOnly, p.file) {
		t.Errorf("a read-only file: %s, want editable false and read_only naming %s", body, p.file)
	}
	if err := os.Chmod(p.file, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, body := p.send(t, http.MethodGet, "/admin/api/status", "alice", nil); decode[status](t, body) != (status{Editable: true}) {
		t.Errorf("writable again: %s, want editable and no read_only", body)
	}
}
