package admin_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/internal/diskfull"
	"github.com/xaa-idp/xaa-idp/policy"
)

// TestConfigAPI_FullDiskRefusesTheChangeSayingWhatToDo: a change whose
// configuration file cannot be written because its disk is full (a real
// one: a small tmpfs, filled) is 500 server_error, as README "Editing the
// configuration" says, with an answer that says so in plain words and
// what to do: it said "policy: writing FILE: write .FILE.3187074069.xaa-idp-tmp:
// no space left on device", naming a temporary file nobody knows of.
// Nothing changes (the file, the running configuration), no temporary
// file is left beside the file, and once there is room the change is made.
func TestConfigAPI_FullDiskRefusesTheChangeSayingWhatToDo(t *testing.T) {
	disk := diskfull.Tmpfs(t, 64<<10)
	file := filepath.Join(disk, "idp.yaml")
	if err := os.WriteFile(file, []byte(editConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := policy.OpenStore(file)
	if err != nil {
		t.Fatal(err)
	}
	p := serveStore(t, store, filepath.Join(t.TempDir(), "audit.jsonl")) // the audit log has room
	version := store.Version()
	free := diskfull.Fill(t, disk)

	resp, body := p.send(t, http.MethodPut, "/admin/api/groups/legal", "alice", map[string]string{"description": "Legal"})
	e := decode[apiError](t, body)
	if resp.StatusCode != http.StatusInternalServerError || e.Error != "server_error" {
		t.Fatalf("%d %s, want 500 server_error", resp.StatusCode, body)
	}
	for _, want := range []string{file, "disk is full", "nothing was changed", "free space"} {
		if !strings.Contains(e.Description, want) {
			t.Errorf("the answer does not say %q: %s", want, e.Description)
		}
	}
	for _, unwanted := range []string{"policy:", ".xaa-idp-tmp", "write "} {
		if strings.Contains(e.Description, unwanted) {
			t.Errorf("the answer says %q: %s", unwanted, e.Description)
		}
	}
	if after, err := os.ReadFile(file); err != nil || string(after) != editConfig {
		t.Errorf("the file changed: %v\n%s", err, after)
	}
	if store.Version() != version || p.srv.Config().Group("legal") != nil {
		t.Error("the running configuration changed")
	}
	entries, err := os.ReadDir(disk)
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		if n := en.Name(); n != "idp.yaml" && n != ".diskfull-filler" {
			t.Errorf("%s left beside the file", n)
		}
	}
	if evs := p.events(t, audit.TypeAdminChange); len(evs) != 2 || evs[1].Outcome != audit.Error || evs[1].Error != "not_written" {
		t.Errorf("the change and its not_written error are not recorded: %+v", evs)
	} else if !strings.Contains(evs[1].Reason, "disk is full") || strings.Contains(evs[1].Reason, ".xaa-idp-tmp") {
		t.Errorf("the not_written error's reason does not say the disk is full in plain words: %s", evs[1].Reason)
	}

	free()
	resp, body = p.send(t, http.MethodPut, "/admin/api/groups/legal", "alice", map[string]string{"description": "Legal"})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("once there is room: %d %s", resp.StatusCode, body)
	}
	if after, err := os.ReadFile(file); err != nil || !strings.Contains(string(after), "Legal") {
		t.Errorf("the change is not in the file: %v\n%s", err, after)
	}
}
