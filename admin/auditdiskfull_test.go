package admin_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/access"
	"github.com/xaa-idp/xaa-idp/internal/diskfull"
	"github.com/xaa-idp/xaa-idp/policy"
)

// TestAdminAPI_FullAuditDiskRefusesSayingWhatToDo: a change, and a
// denial of an access request, whose audit event cannot be written
// because the audit log's disk is full (a real one: a small tmpfs,
// filled) are 500 server_error, not made, with an answer that says so in
// plain words and what to do (README "Audit log"): they said "audit:
// writing FILE: write FILE: no space left on device". Once there is room,
// both are made.
func TestAdminAPI_FullAuditDiskRefusesSayingWhatToDo(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "idp.yaml")
	if err := os.WriteFile(file, []byte(editConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := policy.OpenStore(file)
	if err != nil {
		t.Fatal(err)
	}
	disk := diskfull.Tmpfs(t, 64<<10)
	p := serveStore(t, store, filepath.Join(disk, "audit.jsonl"))
	at, _ := p.login(t, "bob")["access_token"].(string)
	_, req := p.request(t, at, `{"server": "files", "scopes": ["files.write"]}`)
	id, _ := req["id"].(string)
	aliceAt, _ := p.login(t, "alice")["access_token"].(string)
	free := diskfull.Fill(t, disk)

	refused := func(what string, resp *http.Response, body []byte) {
		t.Helper()
		e := decode[apiError](t, body)
		if resp.StatusCode != http.StatusInternalServerError || e.Error != "server_error" {
			t.Fatalf("%s: %d %s, want 500 server_error", what, resp.StatusCode, body)
		}
		for _, want := range []string{"audit log", "disk is full", "free space", "again"} {
			if !strings.Contains(e.Description, want) {
				t.Errorf("%s: the answer does not say %q: %s", what, want, e.Description)
			}
		}
		for _, unwanted := range []string{"audit:", "write ", "no space left on device"} {
			if strings.Contains(e.Description, unwanted) {
				t.Errorf("%s: the answer says %q: %s", what, unwanted, e.Description)
			}
		}
	}
	// The audit log's last page, already the file's, takes a few events
	// more: changes are made until one's event finds no room.
	var resp *http.Response
	var body []byte
	for i := 0; ; i++ {
		if i == 100 {
			t.Fatal("100 changes made on a full disk")
		}
		before := readFile(t, file)
		resp, body = p.send(t, http.MethodPut, fmt.Sprintf("/admin/api/groups/g%d", i), "alice", map[string]string{"description": "G"})
		if resp.StatusCode != http.StatusCreated {
			refused("PUT a group", resp, body)
			if after := readFile(t, file); after != before {
				t.Errorf("the refused change was written:\n%s", after)
			}
			break
		}
	}
	// Its event larger than the change's that found no room.
	deny, reason := "/admin/api/access-requests/"+id+"/deny", `{"reason": "`+strings.Repeat("x", access.MaxReasonChars)+`"}`
	resp, body = p.send(t, http.MethodPost, deny, "alice", reason)
	refused("deny", resp, body)
	if pending := p.pending(t); len(pending) != 1 {
		t.Errorf("%d pending requests after the refused denial, want 1", len(pending))
	}
	// A user's request too, whose answer names no file of the IdP's
	// (docs/http.md, "Access requests").
	status, refusal := p.request(t, aliceAt, `{"server": "files", "reason": "`+strings.Repeat("y", access.MaxReasonChars)+`"}`)
	desc, _ := refusal["error_description"].(string)
	if status != http.StatusInternalServerError || refusal["error"] != "server_error" {
		t.Fatalf("a user's request: %d %v, want 500 server_error", status, refusal)
	}
	for _, want := range []string{"audit log", "again"} {
		if !strings.Contains(desc, want) {
			t.Errorf("a user's request: the answer does not say %q: %s", want, desc)
		}
	}
	for _, unwanted := range []string{"audit:", "write ", "no space left on device", disk} {
		if strings.Contains(desc, unwanted) {
			t.Errorf("a user's request: the answer says %q: %s", unwanted, desc)
		}
	}
	if pending := p.pending(t); len(pending) != 1 {
		t.Errorf("%d pending requests after the refused request, want 1", len(pending))
	}

	free()
	if resp, body := p.send(t, http.MethodPut, "/admin/api/groups/legal", "alice", map[string]string{"description": "Legal"}); resp.StatusCode != http.StatusCreated {
		t.Errorf("the change once there is room: %d %s", resp.StatusCode, body)
	}
	resp, body = p.send(t, http.MethodPost, deny, "alice", reason)
	if d := decode[access.Request](t, body); resp.StatusCode != http.StatusOK || d.Status != access.Denied {
		t.Errorf("the denial once there is room: %d %s", resp.StatusCode, body)
	}
}
