package admin_test

import (
	"net/http"
	"os"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/policy"
)

// TestConfigAPI_ChangeRecordedButNotWrittenIsSettledAtStart stands for a
// process that died after recording a change and before replacing the
// file: the next start appends the admin_change with outcome error, once.
func TestConfigAPI_ChangeRecordedButNotWrittenIsSettledAtStart(t *testing.T) {
	p := editable(t)
	resp, body := p.send(t, http.MethodPut, "/admin/api/groups/eng", "alice", map[string]string{"description": "Builders"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	lost := p.store.Version()
	// The file as it was before the rename the dead process never made.
	if err := os.WriteFile(p.file, []byte(editConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	running := p
	restart := func() []audit.Event {
		running.stop() // the process that died; a live one holds the audit file
		store, err := policy.OpenStore(p.file)
		if err != nil {
			t.Fatal(err)
		}
		running = serveStore(t, store, p.auditFile)
		return running.events(t, audit.TypeAdminChange)
	}
	evs := restart()
	if len(evs) != 2 {
		t.Fatalf("%d admin_change events after the restart, want the change and its error: %+v", len(evs), evs)
	}
	last := evs[1]
	if last.Outcome != audit.Error || last.Error != "not_written" || last.Details["version"] != lost ||
		last.Details["changed"] != evs[0].ID || last.Admin != "alice" || last.Reason == "" {
		t.Fatalf("the settling event: %+v", last)
	}
	if evs := restart(); len(evs) != 2 {
		t.Fatalf("a second start appended again: %d events", len(evs))
	}
}
