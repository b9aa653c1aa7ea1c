package admin_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/admin"
	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
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

// A change that reached the file and was then edited over by hand (the
// server running or not) was written: the next start must not append an
// admin_change error saying it was not, which would tell the audit's
// reader that an acknowledged change was lost. Neither when the hand edit
// put the file back as it was before the change, while the server ran and
// recorded the reload.
func TestConfigAPI_ChangeEditedOverByHandIsNotReportedUnwritten(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(t *testing.T, p *product, data string)
	}{
		{"edited while stopped", func(t *testing.T, p *product, data string) {
			edited := strings.Replace(data, "  - name: mkt\n", "  - name: mkt\n    description: Marketing, by hand\n", 1)
			if edited == data {
				t.Fatalf("no mkt group in:\n%s", data)
			}
			p.stop()
			if err := os.WriteFile(p.file, []byte(edited), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"put back while running", func(t *testing.T, p *product, _ string) {
			if err := os.WriteFile(p.file, []byte(editConfig), 0o600); err != nil {
				t.Fatal(err)
			}
			p.store.CheckFile()
			p.store.CheckFile() // loaded once it looked the same twice
			if len(p.events(t, audit.TypeConfigReload)) != 1 {
				t.Fatal("the reload was not recorded")
			}
			p.stop()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := editable(t)
			resp, body := p.send(t, http.MethodPut, "/admin/api/groups/eng", "alice", map[string]string{"description": "Builders"})
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			data, err := os.ReadFile(p.file)
			if err != nil {
				t.Fatal(err)
			}
			tc.edit(t, p, string(data))
			store, err := policy.OpenStore(p.file)
			if err != nil {
				t.Fatal(err)
			}
			restarted := serveStore(t, store, p.auditFile)
			for _, e := range restarted.events(t, audit.TypeAdminChange) {
				if e.Outcome != audit.Allowed {
					t.Errorf("the start reported the written change as not written: %+v", e)
				}
			}
		})
	}
}

// handEditedStore is a Store whose file an editor saves during every
// group edit, after the edit read it (policy's tests make that happen for
// real; here the Store reports it as policy.Store does).
type handEditedStore struct{ *policy.Store }

func (s handEditedStore) PutGroup(policy.Group, string, ...policy.EditOption) (*policy.Change, error) {
	return nil, &policy.ChangedOnDiskError{File: s.File()}
}

// An edit refused because the file was saved by hand meanwhile is a 409
// conflict that says so and asks for the edit again, not a 500.
func TestConfigAPI_HandEditDuringAChangeIsAConflict(t *testing.T) {
	p := editable(t)
	srv, err := idp.New(idp.Options{Config: p.store.Config(), Issuer: "http://idp.test"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(admin.New(admin.Options{IdP: srv, Store: handEditedStore{p.store}}))
	defer ts.Close()
	p = &product{base: ts.URL}
	resp, body := p.send(t, http.MethodPut, "/admin/api/groups/eng", "alice", map[string]string{"description": "Builders"})
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	if resp.StatusCode != http.StatusConflict || e.Error != "conflict" || !strings.Contains(string(body), "changed on disk") {
		t.Fatalf("%d %s, want 409 conflict saying the file changed on disk", resp.StatusCode, body)
	}
}

// TestConfigAPI_LongChangeIsStillSettledAtStart: a change whose before and
// after fill the audit's bound on details (a server with many access
// entries) keeps what the start reads back (file, version, the version it
// was made on): recorded but not written, it still gets its not_written
// error at the next start, as a short one does.
func TestConfigAPI_LongChangeIsStillSettledAtStart(t *testing.T) {
	p := editable(t)
	var access []map[string]any
	for i := range 80 {
		access = append(access, map[string]any{"users": []string{"bob"}, "scopes": []string{"files.read"}, "max_auth_age": fmt.Sprintf("%dm", i+1)})
	}
	resp, body := p.send(t, http.MethodPut, "/admin/api/servers/files/access", "alice", access)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	change := p.events(t, audit.TypeAdminChange)[0]
	for _, k := range []string{"file", "version", "previous_version", "object", "name", "action"} {
		if change.Details[k] == nil {
			t.Errorf("the change's details lack %q: %v", k, change.Details)
		}
	}
	lost := p.store.Version()
	if err := os.WriteFile(p.file, []byte(editConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	p.stop()
	store, err := policy.OpenStore(p.file)
	if err != nil {
		t.Fatal(err)
	}
	evs := serveStore(t, store, p.auditFile).events(t, audit.TypeAdminChange)
	if len(evs) != 2 || evs[1].Outcome != audit.Error || evs[1].Details["version"] != lost {
		t.Fatalf("after the restart, want the change and its not_written error: %+v", evs)
	}
}
