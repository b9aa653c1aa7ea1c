package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/internal/atomicfile"
	"github.com/xaa-idp/xaa-idp/policy"
	"github.com/xaa-idp/xaa-idp/push"
)

// crashConfig is the configuration the crash test edits: bob asks for
// access to files, alice approves and takes it away again, and files's
// receiver of revocations is down, so that every removal leaves a SET
// waiting in the push journal.
const crashConfig = `# The crash test's configuration: its comments must survive every edit.
signing:
  id_token_alg: RS256
  id_jag_alg: ES256

groups:
  - name: eng   # engineering

users:
  - username: alice
    password: alice
    groups: [eng]
    admin: true
  - username: bob
    password: bob

clients:
  - client_id: mcp-client
    client_secret: mcp-secret
    redirect_uris: [http://127.0.0.1/callback]
    token_exchange: true

mcp_servers:
  - id: files
    issuer: https://as.files.example
    resources: [https://mcp.files.example/mcp]
    scopes: [files.read]
    events_endpoint: %s   # down for the whole test
    clients:
      mcp-client: mcp-client-at-files
    access:
      - groups: [eng]
        scopes: [files.read]
`

// acks is what the killed process acknowledged (answered 2xx): each must
// be on disk after the restart.
type acks struct {
	mu          sync.Mutex
	n           int
	enough      chan struct{} // closed at the n-th acknowledgement
	want        int
	groups      []string         // groups created
	requests    []string         // access requests created
	approved    []string         // access requests approved
	revokedAt   time.Time        // when the newest acknowledged removal of bob's access was sent
	approvedAt  time.Time        // when the newest acknowledged approval of bob's access was sent
	kids        []string         // keys a rotation made current
	initialKids []string         // keys of the first start, which no rotation made
	idTokens    []string         // ID tokens issued
	statusCodes map[string][]int // answers that were no acknowledgement, by request
}

func (a *acks) add(f func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f()
	if a.n++; a.n == a.want {
		close(a.enough)
	}
}

func (a *acks) refused(what string, code int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.statusCodes[what] = append(a.statusCodes[what], code)
}

// TestServe_KilledMidWritesLosesNothing runs the real binary on a
// configuration file and a state directory, makes it write everything it
// writes at once (admin edits in a burst, access requests created and
// approved, access taken away while the revocation receiver is down, key
// rotations, logins), kills it with SIGKILL at a random moment, and starts
// it again on the same files, five times over. After each restart: the
// configuration parses and keeps its comments; every acknowledged edit,
// request, approval, revocation and rotation is there; every ID token
// issued still verifies; the audit log parses, has the admin_change of
// every version the file held, and every change it recorded is either on
// disk, the base of the next, or followed by its not_written error; no
// temporary file is left; the start said what it repaired; and secrets
// are 0600 in a 0700 state directory.
func TestServe_KilledMidWritesLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills the binary")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "idp.yaml")
	state := filepath.Join(dir, "state")
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	receiver := "http://" + dead.Addr().String() + "/events"
	dead.Close()
	// The configuration is a symbolic link into a checkout, as an
	// operator's file under version control is: every edit must replace
	// the link's target and leave the link.
	if err := os.Mkdir(filepath.Join(dir, "repo"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "repo", "idp.yaml"), fmt.Appendf(nil, crashConfig, receiver), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("repo", "idp.yaml"), file); err != nil {
		t.Fatal(err)
	}

	all := &acks{statusCodes: map[string][]int{}}
	var stderr *syncBuffer
	for round := range 5 {
		var issuer string
		var cmd *exec.Cmd
		issuer, cmd, stderr = startKillable(t, file, state)
		if round == 0 {
			var jwks jose.JSONWebKeySet
			getJSON(t, issuer+"/keys", &jwks)
			for _, k := range jwks.Keys {
				all.initialKids = append(all.initialKids, k.KeyID)
			}
		}
		if round > 0 {
			checkAfterCrash(t, round, issuer, file, state, stderr, all)
		}
		a := &acks{enough: make(chan struct{}), want: 15 + rand.IntN(30), statusCodes: map[string][]int{}}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() { editGroups(ctx, issuer, round, a) })
		wg.Go(func() { cycleAccess(ctx, issuer, a) })
		wg.Go(func() { rotateKeys(ctx, issuer, a) })
		select {
		case <-a.enough:
		case <-time.After(60 * time.Second):
			cancel()
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("round %d: %d acknowledgements in a minute; refused: %v\n%s", round, a.n, a.statusCodes, stderr)
		}
		time.Sleep(time.Duration(rand.IntN(20000)) * time.Microsecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		cancel()
		wg.Wait()
		a.mu.Lock()
		all.groups = append(all.groups, a.groups...)
		all.requests = append(all.requests, a.requests...)
		all.approved = append(all.approved, a.approved...)
		all.kids = append(all.kids, a.kids...)
		all.idTokens = append(all.idTokens, a.idTokens...)
		if a.revokedAt.After(all.revokedAt) {
			all.revokedAt = a.revokedAt
		}
		if a.approvedAt.After(all.approvedAt) {
			all.approvedAt = a.approvedAt
		}
		t.Logf("round %d: %d acknowledged (%d groups, %d requests, %d approvals, %d rotations, %d logins); refused: %v",
			round, a.n, len(a.groups), len(a.requests), len(a.approved), len(a.kids), len(a.idTokens), a.statusCodes)
		a.mu.Unlock()
	}
	issuer, cmd, stderr := startKillable(t, file, state)
	checkAfterCrash(t, 5, issuer, file, state, stderr, all)
	cmd.Process.Kill()
	cmd.Wait()
}

// startKillable starts serve on file and state and returns its issuer. It
// first notes the temporary files and the torn audit line that a kill
// left, and checks that the start says it removed them.
func startKillable(t *testing.T, file, state string) (string, *exec.Cmd, *syncBuffer) {
	t.Helper()
	leftovers := temporaries(t, filepath.Dir(file))
	auditFile := filepath.Join(state, "audit.jsonl")
	data, _ := os.ReadFile(auditFile)
	torn := len(data) > 0 && data[len(data)-1] != '\n'
	journal, _ := os.ReadFile(filepath.Join(state, push.JournalFile))
	tornJournal := len(journal) > 0 && journal[len(journal)-1] != '\n'

	issuer, cmd, stderr := startOnAddr(t, file, state, "127.0.0.1:0")
	for _, tmp := range leftovers {
		if !strings.Contains(stderr.String(), filepath.Base(tmp)) {
			t.Errorf("the start did not say it removed %s:\n%s", tmp, stderr)
		}
	}
	if torn && !strings.Contains(stderr.String(), "torn") {
		t.Errorf("the audit log ended in a torn line, and the start did not say it removed it:\n%s", stderr)
	}
	if tornJournal && !strings.Contains(stderr.String(), push.JournalFile) {
		t.Errorf("the push journal ended in a torn line, and the start did not say it dropped it:\n%s", stderr)
	}
	if len(leftovers) > 0 || torn || tornJournal {
		t.Logf("repaired at start: %d temporary files, torn audit line %v, torn journal line %v", len(leftovers), torn, tornJournal)
	}
	return issuer, cmd, stderr
}

// temporaries lists the temporary files of atomicfile.Write under dir.
func temporaries(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(d.Name(), atomicfile.TempSuffix) {
			out = append(out, path)
		}
		return nil
	})
	return out
}

func checkAfterCrash(t *testing.T, round int, issuer, file, state string, stderr *syncBuffer, all *acks) {
	t.Helper()
	if fi, err := os.Lstat(file); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("round %d: the configuration's symbolic link was replaced: %v", round, err)
	}
	if left := temporaries(t, filepath.Dir(file)); len(left) > 0 {
		t.Errorf("round %d: temporary files left after the start: %v", round, left)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := policy.Parse(data, file)
	if err != nil {
		t.Fatalf("round %d: the configuration does not parse after the kill: %v", round, err)
	}
	for _, c := range []string{"# The crash test's configuration", "# engineering", "# down for the whole test"} {
		if !bytes.Contains(data, []byte(c)) {
			t.Errorf("round %d: comment %q lost", round, c)
		}
	}
	for _, g := range all.groups {
		if cfg.Group(g) == nil {
			t.Errorf("round %d: acknowledged group %s is not in the file", round, g)
		}
	}

	// Access requests: every one created is there, every approval stands.
	var reqs []struct{ ID, Status string }
	getJSON(t, issuer+"/admin/api/access-requests", &reqs)
	status := map[string]string{}
	for _, r := range reqs {
		status[r.ID] = r.Status
	}
	for _, id := range all.requests {
		if status[id] == "" {
			t.Errorf("round %d: acknowledged access request %s is gone", round, id)
		}
	}
	for _, id := range all.approved {
		if status[id] != "approved" {
			t.Errorf("round %d: acknowledged approval of %s: the request is %q", round, id, status[id])
		}
	}
	// An approval cut short by the kill is settled at start, not approved
	// again into a second entry.
	bobs := 0
	for _, e := range cfg.Server("files").Access {
		if slices.Contains(e.Users, "bob") {
			bobs++
		}
	}
	if bobs > 1 {
		t.Errorf("round %d: %d access entries for bob: an approval added its entry twice", round, bobs)
	}

	// The revocation of the newest acknowledged removal waits in the
	// journal: its receiver has been down all along. So does that of a
	// removal the kill cut short after the file was replaced: when the
	// file denies bob files after an acknowledged approval gave it, a SET
	// newer than the approval is there (found at the start, against the
	// standing the killed process had saved, when it had not journaled one).
	since := all.revokedAt
	if bob := cfg.User("bob"); bob != nil && all.approvedAt.After(since) && !cfg.Reachable(bob, cfg.Server("files"), time.Now()) {
		since = all.approvedAt
	}
	if !since.IsZero() {
		journal, err := os.ReadFile(filepath.Join(state, push.JournalFile))
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, line := range strings.Split(string(journal), "\n") {
			var l struct {
				Add *struct {
					User, Server string
					At           int64 `json:"event_timestamp"`
				}
			}
			if json.Unmarshal([]byte(line), &l) == nil && l.Add != nil && l.Add.User == "bob" && l.Add.Server == "files" && l.Add.At >= since.Unix() {
				found = true
			}
		}
		if !found {
			t.Errorf("round %d: no SET for bob's removal of %s in the push journal:\n%s", round, since, journal)
		}
	}

	// Keys: every key a rotation made current is published, and every ID
	// token issued verifies.
	var jwks jose.JSONWebKeySet
	getJSON(t, issuer+"/keys", &jwks)
	for _, kid := range all.kids {
		if len(jwks.Key(kid)) == 0 {
			t.Errorf("round %d: key %s of an acknowledged rotation is not published", round, kid)
		}
	}
	for _, tok := range all.idTokens {
		jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.RS256})
		if err != nil {
			t.Fatal(err)
		}
		kid := jws.Signatures[0].Header.KeyID
		keys := jwks.Key(kid)
		if len(keys) == 0 {
			t.Errorf("round %d: an ID token issued before the kill is signed by %s, which is no longer published", round, kid)
			continue
		}
		if _, err := jws.Verify(keys[0].Key); err != nil {
			t.Errorf("round %d: an ID token issued before the kill does not verify: %v", round, err)
		}
	}

	checkAudit(t, round, filepath.Join(state, "audit.jsonl"), file, policy.Version(data), all, jwks, status)
	checkModes(t, round, file, state)
}

// checkAudit reads the audit file (every line must parse) and checks that
// each acknowledged write was audited, that the version on disk was
// recorded, and that each recorded change is on disk, the base of the
// next change, or followed by its not_written error.
func checkAudit(t *testing.T, round int, auditFile, file, onDisk string, all *acks, jwks jose.JSONWebKeySet, status map[string]string) {
	t.Helper()
	raw, err := os.ReadFile(auditFile)
	if err != nil {
		t.Fatal(err)
	}
	var changes []audit.Event
	groups, approved, kids := map[string]bool{}, map[string]bool{}, map[string]bool{}
	approvedBy := map[string]bool{} // requests whose approval's admin_change names them
	for i, line := range strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n") {
		var e audit.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("round %d: audit line %d does not parse: %v\n%q", round, i+1, err, line)
		}
		switch {
		case e.Type == audit.TypeAdminChange && e.Details["file"] == file:
			changes = append(changes, e)
			if e.Outcome == audit.Allowed && e.Details["object"] == "group" {
				groups[fmt.Sprint(e.Details["name"])] = true
			}
			if id, ok := e.Details["request"].(string); ok && e.Outcome == audit.Allowed {
				approvedBy[id] = true
			}
		case e.Type == audit.TypeAccessRequest && e.Outcome == audit.Approved:
			approved[fmt.Sprint(e.Details["request"])] = true
		case e.Type == audit.TypeKeyRotation && e.Outcome == audit.Allowed:
			kids[fmt.Sprint(e.Details["new_kid"])] = true
		}
	}
	// Whatever was made, acknowledged or not, is audited: every key
	// published came with the first start or has its key_rotation, and
	// every request approved has its access_request event or, when the
	// kill came between marking it and appending that, the admin_change
	// of its entry, which names it.
	for _, k := range jwks.Keys {
		if !kids[k.KeyID] && !slices.Contains(all.initialKids, k.KeyID) {
			t.Errorf("round %d: published key %s has no key_rotation event", round, k.KeyID)
		}
	}
	for id, s := range status {
		if s == "approved" && !approved[id] && !approvedBy[id] {
			t.Errorf("round %d: request %s is approved without an access_request event", round, id)
		}
	}
	for _, g := range all.groups {
		if !groups[g] {
			t.Errorf("round %d: acknowledged group %s has no admin_change", round, g)
		}
	}
	for _, id := range all.approved {
		if !approved[id] {
			t.Errorf("round %d: acknowledged approval of %s has no access_request event", round, id)
		}
	}
	for _, k := range all.kids {
		if !kids[k] {
			t.Errorf("round %d: acknowledged rotation to %s has no key_rotation event", round, k)
		}
	}
	recorded := len(changes) == 0 || changes[0].Details["previous_version"] == onDisk
	for i, e := range changes {
		if e.Outcome != audit.Allowed {
			continue
		}
		if e.Details["version"] == onDisk {
			recorded = true
		}
		switch {
		case i+1 == len(changes):
			if e.Details["version"] != onDisk {
				t.Errorf("round %d: the last change %s is not on disk and has no not_written event", round, e.ID)
			}
		case changes[i+1].Outcome == audit.Error && changes[i+1].Details["changed"] == e.ID:
		case changes[i+1].Outcome == audit.Allowed && changes[i+1].Details["previous_version"] == e.Details["version"]:
		default:
			t.Errorf("round %d: change %s (version %v) is followed by %+v, neither its not_written event nor a change based on it", round, e.ID, e.Details["version"], changes[i+1])
		}
	}
	if !recorded {
		t.Errorf("round %d: the file holds version %s, which no admin_change recorded", round, onDisk)
	}
}

// checkModes checks that the state directory is 0700, every file in it
// 0600 (keys, audit log, journal, requests, lock), and that the
// configuration kept its mode through every replacement.
func checkModes(t *testing.T, round int, file, state string) {
	t.Helper()
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("round %d: %s mode %v (%v), want 0640 kept", round, file, fi.Mode().Perm(), err)
	}
	filepath.WalkDir(state, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Error(err)
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("round %d: %s mode %v, want %v", round, path, fi.Mode().Perm(), want)
		}
		return nil
	})
}

// adminDo sends one admin API request as alice and returns the status and
// body; 0 when the request did not complete (the process was killed).
func adminDo(ctx context.Context, method, url string, body any, header ...string) (int, []byte) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return 0, nil
	}
	req.SetBasicAuth("alice", "alice")
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil
	}
	return resp.StatusCode, b
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	code, body := adminDo(context.Background(), http.MethodGet, url, nil)
	if code != http.StatusOK || json.Unmarshal(body, v) != nil {
		t.Fatalf("GET %s: %d %s", url, code, body)
	}
}

// editGroups creates groups one after the other, with descriptions of
// varied length, until ctx ends.
func editGroups(ctx context.Context, issuer string, round int, a *acks) {
	for i := 0; ctx.Err() == nil; i++ {
		name := fmt.Sprintf("r%d-g%d", round, i)
		code, _ := adminDo(ctx, http.MethodPut, issuer+"/admin/api/groups/"+name, map[string]string{"description": strings.Repeat("x", rand.IntN(2000))})
		if code == http.StatusCreated {
			a.add(func() { a.groups = append(a.groups, name) })
		} else if code != 0 {
			a.refused("group", code)
		}
	}
}

// cycleAccess has bob log in and ask for files, alice approve, and alice
// take bob's entry away again (a revocation for the dead receiver), until
// ctx ends. Each step starts from what the server holds, so that a cycle
// a kill cut short is picked up where it stopped.
func cycleAccess(ctx context.Context, issuer string, a *acks) {
	for ctx.Err() == nil {
		tokens, err := idpclient.Login(ctx, idpclient.LoginOptions{Issuer: issuer, ClientID: "mcp-client", ClientSecret: "mcp-secret", Username: "bob", Password: "bob"})
		if err != nil {
			return
		}
		a.add(func() { a.idTokens = append(a.idTokens, tokens.IDToken()) })
		var pending []struct{ ID string }
		code, body := adminDo(ctx, http.MethodGet, issuer+"/admin/api/access-requests?status=pending", nil)
		if code != http.StatusOK || json.Unmarshal(body, &pending) != nil {
			return
		}
		var srv struct{ Access []policy.Access }
		code, body = adminDo(ctx, http.MethodGet, issuer+"/admin/api/servers/files", nil)
		if code != http.StatusOK || json.Unmarshal(body, &srv) != nil {
			return
		}
		bobs := slices.IndexFunc(srv.Access, func(e policy.Access) bool { return slices.Contains(e.Users, "bob") })
		switch {
		case len(pending) > 0:
			sent := time.Now().Truncate(time.Second)
			code, _ := adminDo(ctx, http.MethodPost, issuer+"/admin/api/access-requests/"+pending[0].ID+"/approve", map[string]string{"expires_in": "8h"})
			if code == http.StatusOK {
				a.add(func() { a.approved = append(a.approved, pending[0].ID); a.approvedAt = sent })
			} else if code != 0 {
				a.refused("approve", code)
			}
		case bobs >= 0:
			sent := time.Now().Truncate(time.Second)
			access := slices.Delete(srv.Access, bobs, bobs+1)
			code, _ := adminDo(ctx, http.MethodPut, issuer+"/admin/api/servers/files/access", access)
			if code == http.StatusOK {
				a.add(func() { a.revokedAt = sent })
			} else if code != 0 {
				a.refused("revoke", code)
			}
		default:
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, issuer+"/me/access-requests", strings.NewReader(`{"server": "files", "scopes": ["files.read"], "reason": "crash test"}`))
			req.Header.Set("Authorization", "Bearer "+fmt.Sprint(tokens["access_token"]))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			var created struct{ ID string }
			err = json.NewDecoder(resp.Body).Decode(&created)
			resp.Body.Close()
			if resp.StatusCode == http.StatusCreated && err == nil {
				a.add(func() { a.requests = append(a.requests, created.ID) })
			} else {
				a.refused("request", resp.StatusCode)
			}
		}
	}
}

// rotateKeys rotates the signing keys one rotation after the other until
// ctx ends.
func rotateKeys(ctx context.Context, issuer string, a *acks) {
	for ctx.Err() == nil {
		code, body := adminDo(ctx, http.MethodPost, issuer+"/admin/api/keys/rotate", nil)
		var res struct {
			Rotated []struct {
				NewKID string `json:"new_kid"`
			} `json:"rotated"`
		}
		if code == http.StatusOK && json.Unmarshal(body, &res) == nil {
			a.add(func() {
				for _, r := range res.Rotated {
					a.kids = append(a.kids, r.NewKID)
				}
			})
		} else if code != 0 {
			a.refused("rotate", code)
		}
	}
}
