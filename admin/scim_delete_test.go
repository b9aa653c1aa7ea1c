package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idpclient"
)

// deleteConfig has a user (bob) and a group (mkt) that access and deny
// entries name: an approved access request writes such a users: entry.
const deleteConfig = `groups:
  - name: eng
  - name: mkt
users:
  - username: alice
    password: alice-pw
    groups: [eng]
    admin: true
  - username: bob
    password: bob-pw
    groups: [mkt]
  - username: carol
    password: carol-pw
clients:
  - client_id: mcp-client
    client_secret: s1
    redirect_uris: [http://127.0.0.1/callback]
    token_exchange: true
  - client_id: other-client
    client_secret: s2
    redirect_uris: [http://127.0.0.1/callback]
    token_exchange: true
mcp_servers:
  - id: files
    issuer: https://as.files.example
    resources: [https://mcp.files.example/mcp]
    scopes: [files.read, files.write]
    clients:
      mcp-client: mcp-client-at-files
    access:
      - groups: [eng]
        scopes: [files.read]
      - users: [bob, carol]
        scopes: [files.read]
      - users: [bob]
        groups: [mkt]
        scopes: [files.write]
    deny:
      - users: [bob]
        clients: [mcp-client]
      - groups: [mkt, eng]
        users: [carol]
        clients: [other-client]
`

// TestSCIM_DeleteUserNamedByAccess: Okta (on deprovisioning) and Entra
// (after its soft-delete period) send DELETE /Users/{id}; a user an
// access or deny entry named was refused 400, so the client retried
// forever and the user kept every server. The DELETE now takes the user
// out of those entries in the same edit, and removes an entry that names
// no one else: a deny entry left with clients alone would deny everyone
// through them.
func TestSCIM_DeleteUserNamedByAccess(t *testing.T) {
	p := editableYAML(t, deleteConfig)
	if got := p.exchange(t, "alice"); got != "" {
		t.Fatalf("alice before: %s", got)
	}
	before := len(p.events(t, audit.TypeAdminChange))
	resp, m := p.scim(t, "DELETE", "/Users/u-bob", "")
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE /Users/u-bob: %d %v", resp.StatusCode, m)
	}
	file := readFile(t, p.file)
	if strings.Contains(file, "bob") {
		t.Errorf("the file still names bob:\n%s", file)
	}
	if !strings.Contains(file, "users: [carol]") || !strings.Contains(file, "groups: [mkt]") {
		t.Errorf("what the other users had is gone:\n%s", file)
	}
	srv := p.store.Config().Server("files")
	if p.store.Config().User("bob") != nil || len(srv.Access) != 3 || len(srv.Deny) != 1 {
		t.Errorf("the running configuration: access %+v deny %+v", srv.Access, srv.Deny)
	}
	// The deny entry of bob and mcp-client went whole: alice keeps access.
	if got := p.exchange(t, "alice"); got != "" {
		t.Errorf("alice after bob's deletion: %s", got)
	}
	changes := p.events(t, audit.TypeAdminChange)
	if len(changes) != before+1 {
		t.Fatalf("%d admin_change events, want 1", len(changes)-before)
	}
	ev := changes[len(changes)-1]
	removed, _ := ev.Details["references_removed"].([]any)
	want := []any{"files.access[1].users", "files.access[2].users", "files.deny[0] (entry removed: it named no one else)"}
	if ev.User != "bob" || ev.Details["action"] != "delete" || !slices.Equal(removed, want) {
		t.Errorf("the admin_change: user %q details %v", ev.User, ev.Details)
	}

	// Entra deletes a group that access and deny entries name.
	resp, m = p.scim(t, "DELETE", "/Groups/eng", "")
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE /Groups/eng: %d %v", resp.StatusCode, m)
	}
	file = readFile(t, p.file)
	if strings.Contains(file, "eng") || !strings.Contains(file, "groups: [mkt]") {
		t.Errorf("the file after the group's deletion:\n%s", file)
	}
	if got := p.exchange(t, "alice"); !strings.Contains(got, "access_denied") {
		t.Errorf("alice, whose group is gone, exchanges: %q", got)
	}
	if got := p.exchange(t, "carol"); got != "" {
		t.Errorf("carol, named by her own entry: %s", got)
	}
	ev = p.events(t, audit.TypeAdminChange)[before+1]
	removed, _ = ev.Details["references_removed"].([]any)
	want = []any{"files.access[0] (entry removed: it named no one else)", "files.deny[0].groups"}
	if ev.Details["object"] != "group" || !slices.Equal(removed, want) {
		t.Errorf("the group's admin_change: %v", ev.Details)
	}
}

// TestAdminAPI_DeleteNamedUserOrGroup: the admin API's DELETE of a user
// or group that entries name stays refused (an admin deletes by hand, and
// sees what it would take away), naming every line and how to go on:
// ?prune=true, which takes it out of them in the same edit, as SCIM does.
func TestAdminAPI_DeleteNamedUserOrGroup(t *testing.T) {
	p := editableYAML(t, deleteConfig)
	file := readFile(t, p.file)
	resp, body := p.send(t, http.MethodDelete, "/admin/api/users/bob", "alice", nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"invalid_config"`) ||
		!strings.Contains(string(body), "?prune=true") || strings.Count(string(body), `unknown user \"bob\"`) != 3 {
		t.Errorf("DELETE of a user entries name: %d %s", resp.StatusCode, body)
	}
	for _, q := range []string{"?prune=yes", "?prune=true&prune=true", "?force=true"} {
		if resp, body := p.send(t, http.MethodDelete, "/admin/api/users/bob"+q, "alice", nil); resp.StatusCode != http.StatusBadRequest ||
			!strings.Contains(string(body), `"invalid_request"`) {
			t.Errorf("DELETE %s: %d %s", q, resp.StatusCode, body)
		}
	}
	if readFile(t, p.file) != file {
		t.Fatal("a refused DELETE changed the file")
	}
	if resp, body := p.send(t, http.MethodDelete, "/admin/api/users/nobody?prune=true", "alice", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("DELETE ?prune=true of no user: %d %s", resp.StatusCode, body)
	}
	if resp, body := p.send(t, http.MethodDelete, "/admin/api/users/bob?prune=true", "alice", nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE ?prune=true: %d %s", resp.StatusCode, body)
	}
	if file := readFile(t, p.file); strings.Contains(file, "bob") || !strings.Contains(file, "users: [carol]") {
		t.Errorf("the file after the pruning DELETE:\n%s", file)
	}
	changes := p.events(t, audit.TypeAdminChange)
	ev := changes[len(changes)-1]
	if removed, _ := ev.Details["references_removed"].([]any); ev.User != "bob" || len(removed) != 3 || ev.Details["via"] != nil {
		t.Errorf("the admin_change: %+v", ev)
	}
	// A group with members and entries: they all let go of it.
	if resp, body := p.send(t, http.MethodDelete, "/admin/api/groups/eng", "alice", nil); resp.StatusCode != http.StatusBadRequest ||
		!strings.Contains(string(body), "?prune=true") {
		t.Errorf("DELETE of a group in use: %d %s", resp.StatusCode, body)
	}
	if resp, body := p.send(t, http.MethodDelete, "/admin/api/groups/eng?prune=true", "alice", nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE group ?prune=true: %d %s", resp.StatusCode, body)
	}
	if file := readFile(t, p.file); strings.Contains(file, "eng") || p.store.Config().User("alice").InGroup("eng") {
		t.Errorf("the file after the group's pruning DELETE:\n%s", file)
	}
	changes = p.events(t, audit.TypeAdminChange)
	if ev := changes[len(changes)-1]; ev.User != "alice" || ev.Details["object"] != "group" {
		t.Errorf("the group's admin_change (its one member named): %+v", ev)
	}
}

// TestAdminAPI_PruneHintSaysWhatPruneLeaves: a fault's match.user names a
// user too, and ?prune=true leaves faults as they are. A DELETE with
// ?prune=true that a fault still refused answered "send DELETE with
// ?prune=true", the request just sent; and a user's DELETE spoke of "its
// members' groups", which only a group has.
func TestAdminAPI_PruneHintSaysWhatPruneLeaves(t *testing.T) {
	p := editableYAML(t, deleteConfig+"faults:\n  - {id: slowbob, match: {user: bob}, delay: 1s}\n")
	resp, body := p.send(t, http.MethodDelete, "/admin/api/users/bob?prune=true", "alice", nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `faults[0].match.user`) {
		t.Fatalf("DELETE ?prune=true of a user a fault names: %d %s", resp.StatusCode, body)
	}
	if strings.Contains(string(body), "send DELETE with ?prune=true") || !strings.Contains(string(body), "fault") {
		t.Errorf("DELETE ?prune=true refused by a fault: %s, want no offer of ?prune=true, and the fault to change first", body)
	}
	resp, body = p.send(t, http.MethodDelete, "/admin/api/users/bob", "alice", nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "?prune=true") || strings.Contains(string(body), "members") {
		t.Errorf("DELETE of a user entries name: %d %s, want ?prune=true offered, without a group's members", resp.StatusCode, body)
	}
	if resp, body := p.send(t, http.MethodDelete, "/admin/api/groups/eng", "alice", nil); resp.StatusCode != http.StatusBadRequest ||
		!strings.Contains(string(body), "?prune=true") || !strings.Contains(string(body), "members' groups") {
		t.Errorf("DELETE of a group entries name: %d %s", resp.StatusCode, body)
	}
}

// TestSCIM_DeleteOrRenameUserAFaultMatches: a fault's match.user named the
// user, so SCIM's DELETE was 400 (Okta retried it for ever) and so was a
// userName change. A rename now makes the fault match the new name; a
// DELETE deletes the fault (without its match.user it would match
// everyone), in the same edit, and the admin_change says so.
func TestSCIM_DeleteOrRenameUserAFaultMatches(t *testing.T) {
	p := editableYAML(t, deleteConfig+`faults:
  - {id: slowbob, match: {user: bob, grant_type: token-exchange}, delay: 1s}
  - {match: {user: carol}, error: {code: invalid_grant}}
  - {id: slowbob2, match: {user: bob}, delay: 2s}
`)
	resp, u := p.scim(t, "PATCH", "/Users/u-bob", `{"Operations":[{"op":"Replace","path":"userName","value":"robert"}]}`)
	if resp.StatusCode != http.StatusOK || u["userName"] != "robert" {
		t.Fatalf("PATCH userName of a user faults match: %d %v", resp.StatusCode, u)
	}
	faults := p.store.Config().Faults
	if len(faults) != 3 || faults[0].Match.User != "robert" || faults[0].Match.GrantType != "token-exchange" || faults[0].Delay.D().Seconds() != 1 ||
		faults[1].Match.User != "carol" || faults[2].Match.User != "robert" {
		t.Errorf("the faults after the rename: %+v", faults)
	}
	if file := readFile(t, p.file); strings.Contains(file, "user: bob") || strings.Contains(file, "[bob") {
		t.Errorf("the file still names bob:\n%s", file)
	}
	before := len(p.events(t, audit.TypeAdminChange))
	resp, m := p.scim(t, "DELETE", "/Users/u-bob", "")
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE of a user faults match: %d %v", resp.StatusCode, m)
	}
	if faults := p.store.Config().Faults; len(faults) != 1 || faults[0].Match.User != "carol" {
		t.Errorf("the faults after the deletion: %+v", faults)
	}
	if file := readFile(t, p.file); strings.Contains(file, "robert") || strings.Contains(file, "slowbob") {
		t.Errorf("the file still names robert:\n%s", file)
	}
	changes := p.events(t, audit.TypeAdminChange)
	if len(changes) != before+1 {
		t.Fatalf("%d admin_change events, want 1", len(changes)-before)
	}
	removed, _ := changes[before].Details["references_removed"].([]any)
	if n := len(removed); n < 2 || removed[n-2] != "faults[0] (id slowbob) (fault deleted: its match.user named the user)" ||
		removed[n-1] != "faults[2] (id slowbob2) (fault deleted: its match.user named the user)" {
		t.Errorf("references_removed: %v", removed)
	}
	// A fault without an id is found by its place.
	if resp, m := p.scim(t, "DELETE", "/Users/u-carol", ""); resp.StatusCode != http.StatusNoContent || len(p.store.Config().Faults) != 0 {
		t.Errorf("DELETE of carol: %d %v, faults %+v", resp.StatusCode, m, p.store.Config().Faults)
	}
}

// TestSCIM_DeleteUserKeepsTheOtherFaults: a SCIM DELETE of a user a fault
// matches deletes that fault and leaves the others as they were: their
// ids, which GET /admin/api/faults/{id} takes, and their counters. Every
// fault of the file was made anew, so a fault without an id got another
// one (a 404 at the id the admin held) and a times: 1 fault that had
// fired fired again.
func TestSCIM_DeleteUserKeepsTheOtherFaults(t *testing.T) {
	p := editableYAML(t, deleteConfig+`faults:
  - {id: gone, endpoint: userinfo, http_status: 502}
  - {id: slowbob, match: {user: bob}, delay: 1s}
  - {endpoint: jwks, http_status: 503, times: 1}
  - {match: {user: carol}, error: {code: invalid_grant}, times: 2}
`)
	// One of the file's faults deleted at runtime: the others are still
	// told apart from it.
	if resp, body := p.send(t, "DELETE", "/admin/api/faults/gone", "alice", nil); resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE /admin/api/faults/gone: %d %s", resp.StatusCode, body)
	}
	resp, body := p.send(t, "GET", "/admin/api/faults", "alice", nil)
	var list []struct {
		ID       string `json:"id"`
		Endpoint string `json:"endpoint"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &list) != nil || len(list) != 3 || list[1].Endpoint != "jwks" {
		t.Fatalf("GET /admin/api/faults: %d %s", resp.StatusCode, body)
	}
	id := list[1].ID
	jwks := func() int {
		t.Helper()
		resp, err := http.Get(p.base + "/keys")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := jwks(); got != http.StatusServiceUnavailable {
		t.Fatalf("the JWKS with its fault: %d", got)
	}
	if resp, m := p.scim(t, "DELETE", "/Users/u-bob", ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE of bob: %d %v", resp.StatusCode, m)
	}
	if got := jwks(); got != http.StatusOK {
		t.Errorf("the JWKS after the deletion: %d; the times: 1 fault had fired already", got)
	}
	resp, body = p.send(t, "GET", "/admin/api/faults/"+id, "alice", nil)
	var st struct {
		Fired int `json:"fired"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &st) != nil || st.Fired != 1 {
		t.Errorf("GET /admin/api/faults/%s after the deletion: %d %s", id, resp.StatusCode, body)
	}
	// A rename takes carol's fault along under its id.
	carols := list[2].ID
	if resp, m := p.scim(t, "PATCH", "/Users/u-carol", `{"Operations":[{"op":"Replace","path":"userName","value":"caroline"}]}`); resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH userName of carol: %d %v", resp.StatusCode, m)
	}
	resp, body = p.send(t, "GET", "/admin/api/faults/"+carols, "alice", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"caroline"`) {
		t.Errorf("GET /admin/api/faults/%s after the rename: %d %s", carols, resp.StatusCode, body)
	}
}

// idToken logs user in as mcp-client and returns the ID token.
func (p *product) idToken(t testing.TB, user string) string {
	t.Helper()
	tokens, err := idpclient.Login(context.Background(), idpclient.LoginOptions{
		Issuer: p.base, ClientID: "mcp-client", ClientSecret: "s1", Username: user, Password: user + "-pw",
	})
	if err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	return tokens.IDToken()
}

// exchangeToken asks for an ID-JAG for the files server with the ID token
// idToken; it returns "" when granted, else the error code, or the status
// of an answer that is no OAuth error.
func (p *product) exchangeToken(t testing.TB, idToken string) string {
	_, err := idpclient.Exchange(context.Background(), idpclient.ExchangeOptions{
		Issuer: p.base, ClientID: "mcp-client", ClientSecret: "s1", SubjectToken: idToken,
		Audience: "https://as.files.example", Resource: "https://mcp.files.example/mcp",
	})
	var e *idpclient.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	}
	return err.Error()
}

// TestSCIM_DeleteOrRenameUserTakesRuntimeFaults: the faults added through
// the admin API, kept in memory, follow a SCIM rename of the user their
// match.user names and go with its deletion, as the file's do, keeping
// their ids and counters. They stayed at the old name: the renamed user's
// requests were no longer faulted, and a user created later under the
// deleted one's name was.
func TestSCIM_DeleteOrRenameUserTakesRuntimeFaults(t *testing.T) {
	p := editableYAML(t, deleteConfig)
	if resp, body := p.send(t, "POST", "/admin/api/faults", "alice", `[
  {"id": "rt-carol", "match": {"user": "carol", "grant_type": "token-exchange"}, "error": {"code": "invalid_grant"}, "times": 3},
  {"id": "rt-bob", "match": {"user": "bob", "grant_type": "token-exchange"}, "error": {"code": "temporarily_unavailable"}},
  {"id": "rt-all", "endpoint": "jwks", "http_status": 503, "times": 1}
]`); resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /admin/api/faults: %d %s", resp.StatusCode, body)
	}
	carol := p.idToken(t, "carol")
	if got := p.exchangeToken(t, carol); got != "invalid_grant" {
		t.Fatalf("carol's exchange with her fault: %q", got)
	}
	if resp, m := p.scim(t, "PATCH", "/Users/u-carol", `{"Operations":[{"op":"Replace","path":"userName","value":"caroline"}]}`); resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH userName of carol: %d %v", resp.StatusCode, m)
	}
	var st struct {
		Match     struct{ User string } `json:"match"`
		Fired     int                   `json:"fired"`
		Remaining int                   `json:"remaining"`
	}
	resp, body := p.send(t, "GET", "/admin/api/faults/rt-carol", "alice", nil)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &st) != nil || st.Match.User != "caroline" || st.Fired != 1 || st.Remaining != 2 {
		t.Errorf("GET /admin/api/faults/rt-carol after the rename: %d %s", resp.StatusCode, body)
	}
	if got := p.exchangeToken(t, carol); got != "invalid_grant" {
		t.Errorf("caroline's exchange after the rename: %q, want her fault's invalid_grant", got)
	}
	before := len(p.events(t, audit.TypeAdminChange))
	if resp, m := p.scim(t, "DELETE", "/Users/u-bob", ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE of bob: %d %v", resp.StatusCode, m)
	}
	if resp, body := p.send(t, "GET", "/admin/api/faults/rt-bob", "alice", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /admin/api/faults/rt-bob after bob's deletion: %d %s", resp.StatusCode, body)
	}
	changes := p.events(t, audit.TypeAdminChange)
	if len(changes) != before+1 {
		t.Fatalf("%d admin_change events, want 1", len(changes)-before)
	}
	removed, _ := changes[before].Details["references_removed"].([]any)
	if !slices.Contains(removed, any("fault rt-bob (added at runtime) (fault deleted: its match.user named the user)")) {
		t.Errorf("references_removed: %v", removed)
	}
	// Another bob is not the deleted one's faults' to match.
	if resp, m := p.scim(t, "POST", "/Users", `{"userName":"bob","password":"bob-pw"}`); resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST of another bob: %d %v", resp.StatusCode, m)
	}
	if got := p.exchangeToken(t, p.idToken(t, "bob")); got == "temporarily_unavailable" {
		t.Errorf("the new bob's exchange: %q, the deleted bob's fault", got)
	}
	var list []struct{ ID string }
	if resp, body := p.send(t, "GET", "/admin/api/faults", "alice", nil); resp.StatusCode != http.StatusOK || json.Unmarshal(body, &list) != nil ||
		len(list) != 2 || list[0].ID != "rt-carol" || list[1].ID != "rt-all" {
		t.Errorf("GET /admin/api/faults: %d %s", resp.StatusCode, body)
	}
}

// TestSCIM_RenameWhileAFaultFires: a fault that follows a rename (the
// file's or one added at runtime) fires no more than its times when
// requests fire it while the user is renamed. The fault that followed
// started from the count the old one had when it was copied, and a request
// that fired the old one after that fired one more.
func TestSCIM_RenameWhileAFaultFires(t *testing.T) {
	const times = 150
	p := editableYAML(t, deleteConfig+fmt.Sprintf(`faults:
  - {id: file-carol, match: {user: carol, grant_type: token-exchange}, error: {code: invalid_grant}, times: %d}
`, times))
	if resp, body := p.send(t, "POST", "/admin/api/faults", "alice", fmt.Sprintf(
		`{"id": "rt-carol", "match": {"user": "carol", "grant_type": "token-exchange"}, "error": {"code": "temporarily_unavailable"}, "times": %d}`, times)); resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /admin/api/faults: %d %s", resp.StatusCode, body)
	}
	idToken := p.idToken(t, "carol")
	var (
		mu      sync.Mutex
		answers = map[string]int{}
		wg      sync.WaitGroup
		done    = make(chan struct{})
	)
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 30 {
				got := p.exchangeToken(t, idToken)
				mu.Lock()
				answers[got]++
				mu.Unlock()
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	name := "carol"
	for renamed := false; ; {
		select {
		case <-done:
		default:
			next := "carol"
			if name == "carol" {
				next = "caroline"
			}
			if resp, m := p.scim(t, "PATCH", "/Users/u-carol", `{"Operations":[{"op":"Replace","path":"userName","value":"`+next+`"}]}`); resp.StatusCode != http.StatusOK {
				t.Fatalf("PATCH userName of %s: %d %v", name, resp.StatusCode, m)
			}
			name, renamed = next, true
			continue
		}
		if !renamed {
			t.Fatal("no rename while the requests ran")
		}
		break
	}
	if answers["invalid_grant"] != times || answers["temporarily_unavailable"] != times || answers[""]+2*times != 12*30 {
		t.Errorf("the answers: %v, want %d of each fault's and the rest granted", answers, times)
	}
	for _, id := range []string{"file-carol", "rt-carol"} {
		var st struct {
			Fired     int `json:"fired"`
			Remaining int `json:"remaining"`
		}
		if resp, body := p.send(t, "GET", "/admin/api/faults/"+id, "alice", nil); resp.StatusCode != http.StatusOK ||
			json.Unmarshal(body, &st) != nil || st.Fired != times || st.Remaining != 0 {
			t.Errorf("GET /admin/api/faults/%s: %d %s", id, resp.StatusCode, body)
		}
	}
}
