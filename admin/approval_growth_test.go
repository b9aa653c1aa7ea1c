package admin_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/policy"
)

// approveAs has bob request scopes of the files server and alice approve
// it with body, through HTTP; it fails the test unless both succeed.
func (p *product) approveAs(t *testing.T, scopes, body string) {
	t.Helper()
	at, _ := p.login(t, "bob")["access_token"].(string)
	status, req := p.request(t, at, `{"server": "files", "scopes": `+scopes+`}`)
	id, _ := req["id"].(string)
	if status != http.StatusCreated || id == "" {
		t.Fatalf("request: %d %v", status, req)
	}
	var b any
	if body != "" {
		b = body
	}
	if resp, out := p.send(t, http.MethodPost, "/admin/api/access-requests/"+id+"/approve", "alice", b); resp.StatusCode != http.StatusOK {
		t.Fatalf("approve %s: %d %s", body, resp.StatusCode, out)
	}
}

// onDisk is the files server's access list as the file on disk holds it.
func (p *product) onDisk(t *testing.T) []policy.Access {
	t.Helper()
	cfg, err := policy.Load(p.file)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Server("files").Access
}

func describe(list []policy.Access) string {
	var out []string
	for _, a := range list {
		s := fmt.Sprintf("users=%v groups=%v scopes=%v", a.Users, a.Groups, a.Scopes)
		if !a.Expires.IsZero() {
			s += " expires=" + a.Expires.T().Format(time.RFC3339)
		}
		out = append(out, s)
	}
	return strings.Join(out, "; ")
}

// TestAccessRequest_ApprovalsDoNotGrowTheFile: approving a user's requests
// again and again extends the user's entry instead of appending one per
// approval; an approval removes the entries that expired (and says so in
// its admin_change), never one without expires; and the admin_change holds
// the entries it touched, not the whole list, so that it stays far from
// the audit's cap on details however long the list is (a 12-minute soak
// grew the file from 3.1 KB to 11.2 KB, and the event lost its after).
func TestAccessRequest_ApprovalsDoNotGrowTheFile(t *testing.T) {
	p := editable(t)
	p.srv.Clock().Freeze()
	start := p.srv.Now()

	// A long list of hand-written entries that do not expire, which no
	// approval may touch.
	var list []policy.Access
	for i := range 40 {
		list = append(list, policy.Access{Groups: []string{"eng"}, Scopes: []string{"files.read"}, MaxAuthAge: policy.Duration(time.Duration(i+1) * time.Minute)})
	}
	raw, _ := json.Marshal(list)
	if resp, out := p.send(t, http.MethodPut, "/admin/api/servers/files/access", "alice", string(raw)); resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT access: %d %s", resp.StatusCode, out)
	}
	base := len(p.onDisk(t))

	for i := range 5 {
		p.approveAs(t, `["files.read"]`, `{"expires_in": "1h"}`)
		p.srv.Clock().Advance(10 * time.Minute)
		if got := p.onDisk(t); len(got) != base+1 {
			t.Fatalf("after approval %d the file holds %d entries, want %d: %s", i+1, len(got), base+1, describe(got))
		}
	}
	got := p.onDisk(t)
	last := got[len(got)-1]
	if want := start.Add(40*time.Minute + time.Hour); strings.Join(last.Users, ",") != "bob" || !last.Expires.T().Equal(ceilSecond(want.UTC())) {
		t.Errorf("bob's entry: %s, want it to expire at %v", describe([]policy.Access{last}), want)
	}
	if got := p.exchangeFiles(t, "bob"); got != "" {
		t.Fatalf("bob after the approvals: %q", got)
	}
	// A shorter approval of what the entry grants adds nothing: the file
	// is not written.
	data, _ := os.ReadFile(p.file)
	p.approveAs(t, `["files.read"]`, `{"expires_in": "5m"}`)
	if again, _ := os.ReadFile(p.file); string(again) != string(data) {
		t.Errorf("an approval the entry already covers rewrote the file: %s", describe(p.onDisk(t)[base:]))
	}

	// Past its expiry, the next approval (another scope, which cannot
	// extend it) removes the expired entry in the same edit.
	p.srv.Clock().Advance(2 * time.Hour)
	p.approveAs(t, `["files.write"]`, `{"expires_in": "1h"}`)
	got = p.onDisk(t)
	if len(got) != base+1 || strings.Join(got[len(got)-1].Scopes, ",") != "files.write" {
		t.Errorf("after the expiry and an approval of files.write: %s", describe(got[base-1:]))
	}
	for i := range base {
		if got[i].MaxAuthAge != list[i].MaxAuthAge || !got[i].Expires.IsZero() {
			t.Fatalf("entry %d without expires was touched: %s", i, describe(got[i:i+1]))
		}
	}

	changes := p.events(t, audit.TypeAdminChange)
	ev := changes[len(changes)-1]
	if _, cut := ev.Details[audit.TruncatedKey]; cut || ev.Details["after"] == nil || ev.Server != "files" || ev.Details["server"] != "files" {
		t.Fatalf("the approval's admin_change: %+v", ev.Details)
	}
	before, _ := ev.Details["before"].(map[string]any)
	after, _ := ev.Details["after"].(map[string]any)
	removed, _ := ev.Details["references_removed"].([]any)
	if len(before) != 1 || len(after) != 1 || len(removed) != 1 || !strings.Contains(fmt.Sprint(removed[0]), fmt.Sprintf("access[%d]", base)) {
		t.Errorf("the approval's admin_change: before %v, after %v, references_removed %v; want the expired entry and the new one", before, after, removed)
	}
}
