package admin_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
)

// TestAccessRequest_ReplacedWhileStoppedIsDeniedAtStart: bob asks, and
// while the IdP is stopped the file gives the name bob to another user
// (another sub). The request was the old bob's: the next start denies it,
// with the reason and event of a removal, rather than leave it for an
// approval that would give the new bob what the old one asked for.
func TestAccessRequest_ReplacedWhileStoppedIsDeniedAtStart(t *testing.T) {
	p, _, restart := stateful(t)
	id := bobAsks(t, p)
	if r := requestByID(t, p, id); r.Sub != "u-bob" {
		t.Errorf("the request records sub %q, want bob's, u-bob", r.Sub)
	}
	p.stop()
	data, err := os.ReadFile(p.file)
	if err != nil {
		t.Fatal(err)
	}
	replaced := strings.Replace(string(data), "  - username: bob\n", "  - username: bob\n    sub: u-another-bob\n", 1)
	if replaced == string(data) {
		t.Fatal("bob is not in the file as expected")
	}
	if err := os.WriteFile(p.file, []byte(replaced), 0o600); err != nil {
		t.Fatal(err)
	}
	p = restart()
	if pending := p.pending(t); len(pending) != 0 {
		t.Fatalf("pending after a restart with another bob: %+v", pending)
	}
	if r := requestByID(t, p, id); r.Status != "denied" || !strings.Contains(r.DenyReason, `the user "bob" was removed`) {
		t.Errorf("the request after the restart: %+v", r)
	}
	evs := p.events(t, audit.TypeAccessRequest)
	if last := evs[len(evs)-1]; last.Outcome != audit.Denied || last.Details["request"] != id || last.Sub != "u-bob" ||
		!strings.Contains(last.Reason, `the user "bob" was removed`) || last.Admin != "" {
		t.Errorf("the denial's event: %+v", last)
	}
	if resp, body := p.send(t, http.MethodPost, "/admin/api/access-requests/"+id+"/approve", "alice", nil); resp.StatusCode != http.StatusConflict {
		t.Errorf("approving it: %d %s, want 409", resp.StatusCode, body)
	}
	// The new bob's own list holds none of the old bob's requests.
	at, _ := p.login(t, "bob")["access_token"].(string)
	req, _ := http.NewRequest(http.MethodGet, p.base+"/me/access-requests", nil)
	req.Header.Set("Authorization", "Bearer "+at)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var mine []map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&mine); err != nil || resp.StatusCode != http.StatusOK || len(mine) != 0 {
		t.Errorf("the new bob's requests: %d %v %v, want none", resp.StatusCode, mine, err)
	}
}

// TestAccessRequest_OlderStateWithoutSubLoads: a state directory written
// before requests recorded a sub still loads; its pending requests take
// their user's sub at that start and stay pending, and a replacement made
// after it is seen.
func TestAccessRequest_OlderStateWithoutSubLoads(t *testing.T) {
	p, state, restart := stateful(t)
	id := bobAsks(t, p)
	p.stop()
	file := filepath.Join(state, "access-requests.json")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	older := strings.Replace(string(data), `"sub":"u-bob",`, "", 1)
	if older == string(data) {
		t.Fatalf("no sub in %s", data)
	}
	if err := os.WriteFile(file, []byte(older), 0o600); err != nil {
		t.Fatal(err)
	}
	p = restart()
	if r := requestByID(t, p, id); r.Status != "pending" || r.Sub != "u-bob" {
		t.Fatalf("the older request after the restart: %+v, want pending with sub u-bob", r)
	}
	p.stop()
	cfg, err := os.ReadFile(p.file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.file, []byte(strings.Replace(string(cfg), "  - username: bob\n", "  - username: bob\n    sub: u-another-bob\n", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	p = restart()
	if r := requestByID(t, p, id); r.Status != "denied" {
		t.Errorf("the request after bob was replaced: %+v, want denied", r)
	}
}

// TestAccessRequest_RenamedWhileStoppedKeepsItsRequest: the file renames
// bob to robert and keeps his sub while the IdP is stopped; the request
// is still his, pending under his new name.
func TestAccessRequest_RenamedWhileStoppedKeepsItsRequest(t *testing.T) {
	p, _, restart := stateful(t)
	id := bobAsks(t, p)
	p.stop()
	data, err := os.ReadFile(p.file)
	if err != nil {
		t.Fatal(err)
	}
	renamed := strings.Replace(string(data), "  - username: bob\n", "  - username: robert\n    sub: u-bob\n", 1)
	if err := os.WriteFile(p.file, []byte(renamed), 0o600); err != nil {
		t.Fatal(err)
	}
	p = restart()
	if r := requestByID(t, p, id); r.Status != "pending" || r.User != "robert" || r.Sub != "u-bob" {
		t.Errorf("the request after the rename: %+v, want pending for robert", r)
	}
}
