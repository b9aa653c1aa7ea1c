package admin_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/access"
	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/policy"
)

// requestsFile is where the IdP keeps the access requests in its state
// directory (docs/http.md, "Access requests").
const requestsFile = "access-requests.json"

// stateful serves the product on a copy of editConfig, with a file audit
// log and a state directory; restart stops it, as a process that dies, and
// serves the same files again.
func stateful(t *testing.T) (p *product, state string, restart func() *product) {
	t.Helper()
	p = editable(t)
	state = filepath.Join(filepath.Dir(p.file), "state")
	p.stop()
	restart = func() *product {
		p.stop()
		store, err := policy.OpenStore(p.file)
		if err != nil {
			t.Fatal(err)
		}
		file := p.file
		p = serveStoreIn(t, store, p.auditFile, state)
		p.file = file
		return p
	}
	return restart(), state, restart
}

// bobAsks has bob ask for files.read and returns the request's id.
func bobAsks(t *testing.T, p *product) string {
	t.Helper()
	at, _ := p.login(t, "bob")["access_token"].(string)
	status, req := p.request(t, at, `{"server": "files", "scopes": ["files.read"], "reason": "Q3 report"}`)
	id, _ := req["id"].(string)
	if status != http.StatusCreated || id == "" {
		t.Fatalf("request: %d %v", status, req)
	}
	return id
}

// bobsEntries are the access entries of files that name bob.
func bobsEntries(p *product) []policy.Access {
	var out []policy.Access
	for _, e := range p.store.Config().Server("files").Access {
		if slices.Contains(e.Users, "bob") {
			out = append(out, e)
		}
	}
	return out
}

// requestByID returns the request id as GET /admin/api/access-requests
// shows it.
func requestByID(t *testing.T, p *product, id string) access.Request {
	t.Helper()
	resp, body := p.send(t, http.MethodGet, "/admin/api/access-requests", "alice", nil)
	var list []access.Request
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &list) != nil {
		t.Fatalf("GET access-requests: %d %s", resp.StatusCode, body)
	}
	for _, r := range list {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no request %s in %s", id, body)
	return access.Request{}
}

func approvedEvents(t *testing.T, p *product, id string) []audit.Event {
	t.Helper()
	var out []audit.Event
	for _, ev := range p.events(t, audit.TypeAccessRequest) {
		if ev.Outcome == audit.Approved && ev.Details["request"] == id {
			out = append(out, ev)
		}
	}
	return out
}

// dropLastAuditLine removes the audit file's last event, which must be of
// type typ: the event a process killed just before it did not append.
func dropLastAuditLine(t *testing.T, file, typ string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSuffix(string(data), "\n"), "\n")
	var last audit.Event
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Type != typ {
		t.Fatalf("the last audit event is not a %s: %s", typ, lines[len(lines)-1])
	}
	if err := os.WriteFile(file, []byte(strings.Join(lines[:len(lines)-1], "")), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestAccessRequest_ApprovalCutShortIsSettledAtStart stands for a process
// killed after an approval wrote its access entry and before it marked the
// request approved (access-requests.json still holds it pending, and the
// access_request event was never appended). The next start marks it
// approved, dated and audited as the approval, once; the entry is not
// added twice. When the kill came before the entry was written (the
// admin_change was recorded, the file not replaced), the request stays
// pending, and approving it adds one entry.
func TestAccessRequest_ApprovalCutShortIsSettledAtStart(t *testing.T) {
	t.Run("entry written", func(t *testing.T) {
		p, state, restart := stateful(t)
		id := bobAsks(t, p)
		pending, err := os.ReadFile(filepath.Join(state, requestsFile))
		if err != nil {
			t.Fatal(err)
		}
		resp, body := p.send(t, http.MethodPost, "/admin/api/access-requests/"+id+"/approve", "alice", `{"expires_in": "8h"}`)
		var approved access.Request
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &approved) != nil {
			t.Fatalf("approve: %d %s", resp.StatusCode, body)
		}
		p.stop()
		// What the killed process left: the entry written, the request
		// pending, no access_request event.
		if err := os.WriteFile(filepath.Join(state, requestsFile), pending, 0o600); err != nil {
			t.Fatal(err)
		}
		dropLastAuditLine(t, p.auditFile, audit.TypeAccessRequest)

		p = restart()
		got := requestByID(t, p, id)
		if got.Status != access.Approved || got.DecidedBy != "alice" || !slices.Equal(got.Granted, []string{"files.read"}) ||
			got.Expires == nil || !got.Expires.Equal(*approved.Expires) || got.Decided == nil || got.Decided.After(*approved.Decided) {
			t.Fatalf("after the restart: %+v, want approved by alice as %+v", got, approved)
		}
		evs := approvedEvents(t, p, id)
		if len(evs) != 1 || evs[0].Admin != "alice" || evs[0].User != "bob" || evs[0].ScopeGranted != "files.read" ||
			evs[0].Details["expires"] == nil || !strings.Contains(evs[0].Reason, "settled at start") {
			t.Fatalf("access_request approved events after the restart: %+v", evs)
		}
		if resp, _ := p.send(t, http.MethodPost, "/admin/api/access-requests/"+id+"/approve", "alice", nil); resp.StatusCode != http.StatusConflict {
			t.Errorf("approving the settled request: %d, want 409", resp.StatusCode)
		}
		if n := len(bobsEntries(p)); n != 1 {
			t.Errorf("%d access entries for bob, want 1", n)
		}
		p = restart()
		if evs := approvedEvents(t, p, id); len(evs) != 1 {
			t.Errorf("a second start settled again: %d approved events", len(evs))
		}
	})
	t.Run("entry not written", func(t *testing.T) {
		p, state, restart := stateful(t)
		id := bobAsks(t, p)
		pending, err := os.ReadFile(filepath.Join(state, requestsFile))
		if err != nil {
			t.Fatal(err)
		}
		if resp, body := p.send(t, http.MethodPost, "/admin/api/access-requests/"+id+"/approve", "alice", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("approve: %d %s", resp.StatusCode, body)
		}
		p.stop()
		// Killed after the admin_change, before the rename.
		for file, data := range map[string][]byte{filepath.Join(state, requestsFile): pending, p.file: []byte(editConfig)} {
			if err := os.WriteFile(file, data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		dropLastAuditLine(t, p.auditFile, audit.TypeAccessRequest)

		p = restart()
		if got := requestByID(t, p, id); got.Status != access.Pending {
			t.Fatalf("a request whose entry was never written: %+v, want pending", got)
		}
		if resp, body := p.send(t, http.MethodPost, "/admin/api/access-requests/"+id+"/approve", "alice", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("approving it again: %d %s", resp.StatusCode, body)
		}
		if n := len(bobsEntries(p)); n != 1 {
			t.Errorf("%d access entries for bob, want 1", n)
		}
	})
}

// An approval that added its entry but could not mark the request approved
// (access-requests.json cannot be replaced) answers 500; approving again
// once the disk is fixed marks it approved, as the first approval
// granted, and adds no second entry.
func TestAccessRequest_ApprovingAgainAddsNoSecondEntry(t *testing.T) {
	p, state, _ := stateful(t)
	id := bobAsks(t, p)
	file := filepath.Join(state, requestsFile)
	// A directory in the file's place: the rename that replaces it fails.
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(file, 0o700); err != nil {
		t.Fatal(err)
	}
	resp, body := p.send(t, http.MethodPost, "/admin/api/access-requests/"+id+"/approve", "alice", `{"expires_in": "8h"}`)
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(string(body), "server_error") {
		t.Fatalf("approve with the requests' file unwritable: %d %s, want 500 server_error", resp.StatusCode, body)
	}
	if n := len(bobsEntries(p)); n != 1 {
		t.Fatalf("%d access entries for bob after the first approval, want 1", n)
	}
	first := bobsEntries(p)[0]
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	resp, body = p.send(t, http.MethodPost, "/admin/api/access-requests/"+id+"/approve", "alice", `{"expires_in": "1h"}`)
	var decided access.Request
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &decided) != nil {
		t.Fatalf("approving again: %d %s", resp.StatusCode, body)
	}
	if entries := bobsEntries(p); len(entries) != 1 {
		t.Fatalf("access entries for bob after approving again: %+v, want the first one only", entries)
	}
	if decided.Status != access.Approved || decided.Expires == nil || !decided.Expires.Equal(first.Expires.T()) {
		t.Errorf("approved: %+v, want the expiry of the entry written, %v", decided, first.Expires.T())
	}
	if evs := approvedEvents(t, p, id); len(evs) != 1 {
		t.Errorf("%d access_request approved events, want 1", len(evs))
	}
	if resp.Header.Get("ETag") != `"`+p.store.Version()+`"` {
		t.Errorf("ETag %s, want the configuration's %q", resp.Header.Get("ETag"), p.store.Version())
	}
}
