package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/admin"
	"github.com/xaa-idp/xaa-idp/app"
	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/internal/atomicfile"
	"github.com/xaa-idp/xaa-idp/policy"
)

// editConfig is the configuration file the editing tests start from.
const editConfig = `# The admin API's editing tests.
groups:
  - name: eng
    description: Engineering
  - name: mkt

users:
  - username: alice
    password: alice-pw   # an admin
    groups: [eng]
    admin: true
  - username: bob
    password: bob-pw
    groups: [mkt]

clients:
  - client_id: mcp-client
    client_secret: s1
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
      # engineers read
      - groups: [eng]
        scopes: [files.read]
`

// product is the whole product on a loopback port, its configuration in a
// file (or in memory) behind a policy.Store.
type product struct {
	base      string
	file      string // "" in memory
	auditFile string
	store     *policy.Store
	srv       *idp.Server
	// stop ends the server and closes its audit log, as a process that
	// exits does (it also runs when the test ends).
	stop func()
}

// editable serves the product on a copy of editConfig in a temporary file,
// with a file audit log.
func editable(t testing.TB) *product {
	t.Helper()
	return editableYAML(t, editConfig)
}

func serveStore(t testing.TB, store *policy.Store, auditFile string) *product {
	return serveStoreIn(t, store, auditFile, "")
}

// serveStoreIn is serveStore with a state directory ("" for none), which
// keeps the access requests and the signing keys across restarts.
func serveStoreIn(t testing.TB, store *policy.Store, auditFile, stateDir string) *product {
	log, err := audit.Open(audit.Options{Path: auditFile})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	issuer := "http://" + ts.Listener.Addr().String()
	srv, err := idp.New(idp.Options{Config: store.Config(), Issuer: issuer, Audit: log, StateDir: stateDir})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = app.New(app.Options{IdP: srv, Store: store})
	ts.Start()
	stop := sync.OnceFunc(func() {
		ts.Close()
		log.Close()
	})
	t.Cleanup(stop)
	return &product{base: issuer, auditFile: auditFile, store: store, srv: srv, stop: stop}
}

// send makes an admin API request as user (none when ""), with a JSON
// body unless body is nil, and extra headers as name, value pairs.
func (p *product) send(t testing.TB, method, path, user string, body any, header ...string) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			r = strings.NewReader(s)
		} else {
			b, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			r = bytes.NewReader(b)
		}
	}
	req, err := http.NewRequest(method, p.base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		req.SetBasicAuth(user, user+"-pw")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// etagOf reads an ETag with a GET as alice.
func (p *product) etagOf(t *testing.T, path string) string {
	t.Helper()
	resp, body := p.send(t, http.MethodGet, path, "alice", nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == "" {
		t.Fatalf("GET %s: %d, ETag %q: %s", path, resp.StatusCode, resp.Header.Get("ETag"), body)
	}
	return resp.Header.Get("ETag")
}

// exchange logs the user in and asks for an ID-JAG for the files server;
// it returns "" when granted, else the error code.
func (p *product) exchange(t testing.TB, user string) string {
	t.Helper()
	ctx := context.Background()
	tokens, err := idpclient.Login(ctx, idpclient.LoginOptions{
		Issuer: p.base, ClientID: "mcp-client", ClientSecret: "s1", Username: user, Password: user + "-pw",
	})
	if err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	_, err = idpclient.Exchange(ctx, idpclient.ExchangeOptions{
		Issuer: p.base, ClientID: "mcp-client", ClientSecret: "s1", SubjectToken: tokens.IDToken(),
		Audience: "https://as.files.example", Resource: "https://mcp.files.example/mcp",
	})
	var e *idpclient.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	}
	t.Fatal(err)
	return ""
}

// events returns the audit events of a type from the log file, oldest
// first; it fails on a line that does not parse.
func (p *product) events(t testing.TB, typ string) []audit.Event {
	t.Helper()
	data, err := os.ReadFile(p.auditFile)
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Event
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if line == "" {
			continue
		}
		var e audit.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("audit line does not parse: %v\n%s", err, line)
		}
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

func decode[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return v
}

type apiError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	Problems    []struct {
		File    string `json:"file"`
		Line    int    `json:"line"`
		Message string `json:"message"`
	} `json:"problems"`
}

func TestConfigAPI_AccessControl(t *testing.T) {
	p := editable(t)
	calls := []struct{ method, path, body string }{
		{"GET", "/admin/api/servers", ""},
		{"GET", "/admin/api/servers/files", ""},
		{"PUT", "/admin/api/servers/files/access", "[]"},
		{"PUT", "/admin/api/servers/files/deny", "[]"},
		{"PUT", "/admin/api/servers/files", "{}"},
		{"DELETE", "/admin/api/servers/files", ""},
		{"GET", "/admin/api/users", ""},
		{"GET", "/admin/api/users/bob", ""},
		{"PUT", "/admin/api/users/bob", "{}"},
		{"DELETE", "/admin/api/users/bob", ""},
		{"GET", "/admin/api/groups", ""},
		{"PUT", "/admin/api/groups/mkt", "{}"},
		{"DELETE", "/admin/api/groups/mkt", ""},
		{"GET", "/admin/api/clients", ""},
		{"PUT", "/admin/api/clients/mcp-client", "{}"},
		{"DELETE", "/admin/api/clients/mcp-client", ""},
		{"GET", "/admin/api/config/yaml", ""},
		{"GET", "/admin/api/status", ""},
	}
	for _, c := range calls {
		var body any
		if c.body != "" {
			body = c.body
		}
		if resp, b := p.send(t, c.method, c.path, "", body, "If-Match", "*"); resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("%s %s without credentials: %d %s", c.method, c.path, resp.StatusCode, b)
		}
		if resp, b := p.send(t, c.method, c.path, "bob", body, "If-Match", "*"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s %s as bob: %d %s", c.method, c.path, resp.StatusCode, b)
		}
	}
	if readFile(t, p.file) != editConfig || len(p.events(t, audit.TypeAdminChange)) != 0 {
		t.Error("a refused caller changed something")
	}
}

func readFile(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestConfigAPI_ServersWithETags(t *testing.T) {
	p := editable(t)
	resp, body := p.send(t, http.MethodGet, "/admin/api/servers", "alice", nil)
	list := decode[[]map[string]any](t, body)
	if resp.StatusCode != http.StatusOK || len(list) != 1 || list[0]["id"] != "files" || list[0]["etag"] == "" {
		t.Fatalf("list: %d %s", resp.StatusCode, body)
	}
	resp, body = p.send(t, http.MethodGet, "/admin/api/servers/files", "alice", nil)
	s := decode[map[string]any](t, body)
	if resp.Header.Get("ETag") != list[0]["etag"] || s["issuer"] != "https://as.files.example" {
		t.Errorf("server: ETag %q, %s", resp.Header.Get("ETag"), body)
	}
	access, _ := json.Marshal(s["access"])
	if string(access) != `[{"groups":["eng"],"scopes":["files.read"]}]` {
		t.Errorf("access = %s", access)
	}
	if resp, _ := p.send(t, http.MethodGet, "/admin/api/servers/nope", "alice", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown server: %d", resp.StatusCode)
	}
}

// TestConfigAPI_AccessEditGrantsAccess is the console's main path: an admin
// assigns a group to a server, the file on disk shows it (its comments
// intact), a token exchange that was refused now succeeds, and the change
// is audited with before and after.
func TestConfigAPI_AccessEditGrantsAccess(t *testing.T) {
	p := editable(t)
	if code := p.exchange(t, "bob"); code != "access_denied" {
		t.Fatalf("before the edit, bob's exchange: %q", code)
	}
	tag := p.etagOf(t, "/admin/api/servers/files")
	access := `[{"groups":["eng"],"scopes":["files.read"]},{"groups":["mkt"],"scopes":["files.read","files.write"],"clients":["mcp-client"],"max_auth_age":"15m"}]`
	resp, body := p.send(t, http.MethodPut, "/admin/api/servers/files/access", "alice", access, "If-Match", tag)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT access: %d %s", resp.StatusCode, body)
	}
	if got := resp.Header.Get("ETag"); got == "" || got == tag || got != p.etagOf(t, "/admin/api/servers/files") {
		t.Errorf("new ETag %q", got)
	}
	want := strings.Replace(editConfig, "        scopes: [files.read]\n", `        scopes: [files.read]
      - groups: [mkt]
        scopes: [files.read, files.write]
        clients: [mcp-client]
        max_auth_age: 15m
`, 1)
	if got := readFile(t, p.file); got != want {
		t.Errorf("file:\n%s\nwant:\n%s", got, want)
	}
	if code := p.exchange(t, "bob"); code != "" {
		t.Errorf("after the edit, bob's exchange: %q", code)
	}
	evs := p.events(t, audit.TypeAdminChange)
	if len(evs) != 1 {
		t.Fatalf("%d admin_change events", len(evs))
	}
	e := evs[0]
	before, _ := json.Marshal(e.Details["before"])
	after, _ := json.Marshal(e.Details["after"])
	if e.Admin != "alice" || e.Server != "files" || e.Outcome != audit.Allowed || e.Details["object"] != "server access" ||
		string(before) != `[{"groups":["eng"],"scopes":["files.read"]}]` || !strings.Contains(string(after), `"groups":["mkt"]`) {
		t.Errorf("event = %+v", e)
	}
}

func TestConfigAPI_InvalidEditChangesNothing(t *testing.T) {
	p := editable(t)
	tag := p.etagOf(t, "/admin/api/servers/files")
	running := p.srv.Config()
	resp, body := p.send(t, http.MethodPut, "/admin/api/servers/files/access", "alice",
		`[{"groups":["mkt","sales"],"scopes":["files.read","files.delete"]}]`, "If-Match", tag)
	e := decode[apiError](t, body)
	if resp.StatusCode != http.StatusBadRequest || e.Error != "invalid_config" || len(e.Problems) != 2 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	for _, pr := range e.Problems {
		if pr.Line == 0 || pr.Message == "" {
			t.Errorf("problem without line or message: %+v", pr)
		}
	}
	if !strings.Contains(e.Problems[0].Message, `unknown group "sales"`) || !strings.Contains(e.Problems[1].Message, `scope "files.delete" is not a scope of server files`) {
		t.Errorf("problems = %+v", e.Problems)
	}
	if readFile(t, p.file) != editConfig || p.srv.Config() != running || p.etagOf(t, "/admin/api/servers/files") != tag {
		t.Error("the refused edit changed the file or the running policy")
	}
	if code := p.exchange(t, "bob"); code != "access_denied" {
		t.Errorf("bob's exchange after the refused edit: %q", code)
	}
	if n := len(p.events(t, audit.TypeAdminChange)); n != 0 {
		t.Errorf("%d admin_change events for a refused edit", n)
	}
}

func TestConfigAPI_Preconditions(t *testing.T) {
	p := editable(t)
	access := `[{"groups":["eng"],"scopes":["files.read","files.write"]}]`
	path := "/admin/api/servers/files/access"
	// Without If-Match the change applies to the current version
	// (docs/http.md: the API honours If-Match; it does not demand it).
	resp, body := p.send(t, http.MethodPut, path, "alice", `[{"groups":["eng"],"scopes":["files.read"]}]`)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("without If-Match: %d %s", resp.StatusCode, body)
	}
	serverTag, docTag := p.etagOf(t, "/admin/api/servers/files"), p.etagOf(t, "/admin/api/status")
	if resp, body := p.send(t, http.MethodPut, path, "alice", access, "If-Match", "W/"+serverTag); resp.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("weak ETag: %d %s", resp.StatusCode, body)
	}
	// A change elsewhere leaves the server's ETag current, not the document's.
	if resp, body := p.send(t, http.MethodPut, "/admin/api/groups/ops", "alice", `{}`, "If-Match", docTag); resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT group: %d %s", resp.StatusCode, body)
	}
	if resp, body := p.send(t, http.MethodPut, "/admin/api/groups/ops2", "alice", `{}`, "If-Match", docTag); resp.StatusCode != http.StatusPreconditionFailed ||
		resp.Header.Get("ETag") != p.etagOf(t, "/admin/api/status") || decode[apiError](t, body).Error != "precondition_failed" {
		t.Errorf("stale document ETag: %d %s", resp.StatusCode, body)
	}
	resp, body = p.send(t, http.MethodPut, path, "alice", access, "If-Match", serverTag)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("server ETag after a change elsewhere: %d %s", resp.StatusCode, body)
	}
	if resp, body := p.send(t, http.MethodPut, path, "alice", `[]`, "If-Match", serverTag); resp.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("stale server ETag: %d %s", resp.StatusCode, body)
	}
	// Any tag of a list may match; * matches whatever is current.
	if resp, body := p.send(t, http.MethodPut, path, "alice", `[]`, "If-Match", serverTag+`, "nope", `+p.etagOf(t, "/admin/api/status")); resp.StatusCode != http.StatusOK {
		t.Errorf("list with the current document ETag: %d %s", resp.StatusCode, body)
	}
	// A quoted "*" is an entity tag like any other (RFC 9110 section 13.1.1), which no version has.
	if resp, body := p.send(t, http.MethodPut, path, "alice", access, "If-Match", `"*"`); resp.StatusCode != http.StatusPreconditionFailed {
		t.Errorf(`If-Match "*": %d %s, want 412`, resp.StatusCode, body)
	}
	if resp, body := p.send(t, http.MethodPut, path, "alice", access, "If-Match", "*"); resp.StatusCode != http.StatusOK {
		t.Errorf("If-Match *: %d %s", resp.StatusCode, body)
	}
}

func TestConfigAPI_ConcurrentEditsOfOneVersionOneWins(t *testing.T) {
	p := editable(t)
	tag := p.etagOf(t, "/admin/api/servers/files")
	const n = 8
	status := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			group := []string{"eng", "mkt"}[i%2]
			resp, _ := p.send(t, http.MethodPut, "/admin/api/servers/files/access", "alice",
				`[{"groups":["`+group+`"],"scopes":["files.write"]}]`, "If-Match", tag)
			status[i] = resp.StatusCode
		})
	}
	wg.Wait()
	won := 0
	for _, s := range status {
		switch s {
		case http.StatusOK:
			won++
		case http.StatusPreconditionFailed:
		default:
			t.Errorf("status %d", s)
		}
	}
	if won != 1 || len(p.events(t, audit.TypeAdminChange)) != 1 {
		t.Errorf("statuses %v: want exactly one 200", status)
	}
	if _, err := policy.Load(p.file); err != nil {
		t.Error(err)
	}
}

func TestConfigAPI_UsersShowEffectiveAccess(t *testing.T) {
	p := editable(t)
	resp, body := p.send(t, http.MethodGet, "/admin/api/users", "alice", nil)
	users := decode[[]admin.UserView](t, body)
	if resp.StatusCode != http.StatusOK || len(users) != 2 || resp.Header.Get("ETag") == "" {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if strings.Contains(string(body), "-pw") || strings.Contains(string(body), "password") {
		t.Errorf("passwords shown: %s", body)
	}
	alice, bob := users[0], users[1]
	if alice.Username != "alice" || len(alice.Access) != 1 {
		t.Fatalf("alice = %+v", alice)
	}
	if a := alice.Access[0]; a.Server != "files" || !a.Allowed || a.Decision != "allowed" || strings.Join(a.Scopes, " ") != "files.read" ||
		a.Rule != "files access[0]" || strings.Join(a.Clients, " ") != "mcp-client" || len(a.ByClient) != 1 {
		t.Errorf("alice on files = %+v", a)
	}
	if b := bob.Access[0]; b.Allowed || b.Decision != "access_denied" || b.Error != "access_denied" || !strings.Contains(b.Reason, "not assigned") {
		t.Errorf("bob on files = %+v", b)
	}
	resp, body = p.send(t, http.MethodGet, "/admin/api/users/bob", "alice", nil)
	if one := decode[admin.UserView](t, body); resp.StatusCode != http.StatusOK || one.Username != "bob" || one.Groups[0] != "mkt" {
		t.Errorf("one user: %d %s", resp.StatusCode, body)
	}
	if resp, _ := p.send(t, http.MethodGet, "/admin/api/users/nobody", "alice", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown user: %d", resp.StatusCode)
	}
}

// TestConfigAPI_RuntimeConfiguration changes users, groups, clients and
// servers at runtime, as a script that cannot write files would.
func TestConfigAPI_RuntimeConfiguration(t *testing.T) {
	p := editable(t)
	doc := func() string { return p.etagOf(t, "/admin/api/status") }
	step := func(method, path, body string, want int) []byte {
		t.Helper()
		var b any
		if body != "" {
			b = body
		}
		resp, out := p.send(t, method, path, "alice", b, "If-Match", doc())
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, out)
		}
		return out
	}
	step("PUT", "/admin/api/groups/ops", `{"description":"Runs things"}`, http.StatusCreated)
	out := step("PUT", "/admin/api/users/carol", `{"password":"carol-pw","email":"carol@acme.example","groups":["ops"]}`, http.StatusCreated)
	if u := decode[admin.UserView](t, out); u.Username != "carol" || u.Sub != "u-carol" || u.Password != "" {
		t.Errorf("created user = %s", out)
	}
	step("PUT", "/admin/api/clients/cli", `{"name":"CLI","client_secret":"cli-secret","redirect_uris":["http://127.0.0.1/cb"],"token_exchange":true}`, http.StatusCreated)
	step("PUT", "/admin/api/servers/wiki", `{"issuer":"https://as.wiki.example","scopes":["wiki.read"],"clients":{"cli":"cli-at-wiki"},"access":[{"groups":["ops"],"scopes":["wiki.read"]}]}`, http.StatusCreated)
	out = step("GET", "/admin/api/users/carol", "", http.StatusOK)
	if u := decode[admin.UserView](t, out); len(u.Access) != 2 || !u.Access[1].Allowed || strings.Join(u.Access[1].Scopes, " ") != "wiki.read" {
		t.Errorf("carol's access = %s", out)
	}
	// What GET answers can be sent back; omitted passwords and secrets are kept.
	out = step("GET", "/admin/api/users/bob", "", http.StatusOK)
	var bob map[string]any
	json.Unmarshal(out, &bob)
	bob["groups"] = []string{"mkt", "ops"}
	b, _ := json.Marshal(bob)
	step("PUT", "/admin/api/users/bob", string(b), http.StatusOK)
	step("PUT", "/admin/api/clients/cli", `{"name":"The CLI","redirect_uris":["http://127.0.0.1/cb"],"token_exchange":true,"confidential":true,"servers":["wiki"]}`, http.StatusOK)
	cfg := p.store.Config()
	if u := cfg.User("bob"); u.Password != "bob-pw" || len(u.Groups) != 2 {
		t.Errorf("bob = %+v", u)
	}
	if c := cfg.Client("cli"); c.ClientSecret != "cli-secret" || c.Name != "The CLI" {
		t.Errorf("cli = %+v", c)
	}
	if p.srv.Config() != cfg {
		t.Error("the IdP does not run the store's configuration")
	}
	step("PUT", "/admin/api/servers/wiki", `{"id":"wiki","name":"Wiki","issuer":"https://as.wiki.example","scopes":["wiki.read"],"clients":{"cli":"cli-at-wiki"}}`, http.StatusOK)
	// A group still named somewhere cannot go.
	out = step("DELETE", "/admin/api/groups/ops", "", http.StatusBadRequest)
	if e := decode[apiError](t, out); len(e.Problems) != 2 {
		t.Errorf("problems = %+v", e.Problems)
	}
	step("DELETE", "/admin/api/servers/wiki", "", http.StatusNoContent)
	step("DELETE", "/admin/api/clients/cli", "", http.StatusNoContent)
	step("DELETE", "/admin/api/users/carol", "", http.StatusNoContent)
	step("PUT", "/admin/api/users/bob", `{"groups":["mkt"]}`, http.StatusOK)
	step("DELETE", "/admin/api/groups/ops", "", http.StatusNoContent)
	step("DELETE", "/admin/api/groups/ops", "", http.StatusNotFound)
	step("DELETE", "/admin/api/users/nobody", "", http.StatusNotFound)
	step("PUT", "/admin/api/servers/nope/access", `[]`, http.StatusNotFound)
	// Back where it started, comments and all.
	if got := readFile(t, p.file); got != editConfig {
		t.Errorf("after undoing every change:\n%s", got)
	}
	if n := len(p.events(t, audit.TypeAdminChange)); n != 12 {
		t.Errorf("%d admin_change events, want 12", n)
	}
}

func TestConfigAPI_BadBodies(t *testing.T) {
	p := editable(t)
	cases := []struct {
		path, body, contentType string
		status                  int
	}{
		{"/admin/api/servers/files/access", `[{"grups":["eng"]}]`, "application/json", http.StatusBadRequest},
		{"/admin/api/servers/files/access", `{"groups":["eng"]}`, "application/json", http.StatusBadRequest},
		{"/admin/api/servers/files/access", `[{"groups":["eng"],"max_auth_age":"soon"}]`, "application/json", http.StatusBadRequest},
		// The file refuses max_auth_age: 0; written back it would vanish
		// and the entry would ask for no step-up at all.
		{"/admin/api/servers/files/access", `[{"groups":["eng"],"scopes":["files.read"],"max_auth_age":"0s"}]`, "application/json", http.StatusBadRequest},
		{"/admin/api/servers/files/access", `{"access":[{"groups":["eng"],"max_auth_age":"0"}]}`, "application/json", http.StatusBadRequest},
		// encoding/json matches keys without regard to case: this is
		// max_auth_age too.
		{"/admin/api/servers/files/access", `[{"groups":["eng"],"scopes":["files.read"],"Max_Auth_Age":"0s"}]`, "application/json", http.StatusBadRequest},
		{"/admin/api/servers/files/access", `[] []`, "application/json", http.StatusBadRequest},
		{"/admin/api/servers/files/access", `groups=eng`, "application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
		{"/admin/api/users/bob", `{"username":"robert"}`, "application/json", http.StatusBadRequest},
		{"/admin/api/servers/files", `{"id":"other","issuer":"https://x.example"}`, "application/json", http.StatusBadRequest},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(http.MethodPut, p.base+c.path, strings.NewReader(c.body))
		req.SetBasicAuth("alice", "alice-pw")
		req.Header.Set("Content-Type", c.contentType)
		req.Header.Set("If-Match", "*")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || decode[apiError](t, b).Description == "" {
			t.Errorf("%s %s: %d %s", c.path, c.body, resp.StatusCode, b)
		}
	}
	if readFile(t, p.file) != editConfig {
		t.Error("a bad body changed the file")
	}
}

// TestConfigAPI_AuditHasNoSecrets changes passwords and secrets and checks
// that the audit file shows that they changed, and never what they are.
func TestConfigAPI_AuditHasNoSecrets(t *testing.T) {
	p := editable(t)
	steps := []struct{ path, body string }{
		{"/admin/api/users/bob", `{"password":"n3w-s3cret","groups":["mkt"]}`},
		{"/admin/api/users/dora", `{"password_bcrypt":"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"}`},
		{"/admin/api/clients/mcp-client", `{"client_secret":"n3w-client-s3cret","redirect_uris":["http://127.0.0.1/callback"],"token_exchange":true}`},
	}
	for _, s := range steps {
		if resp, b := p.send(t, http.MethodPut, s.path, "alice", s.body, "If-Match", "*"); resp.StatusCode >= 300 {
			t.Fatalf("%s: %d %s", s.path, resp.StatusCode, b)
		}
	}
	raw, err := os.ReadFile(p.auditFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"bob-pw", "n3w-s3cret", "N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", "s1\"", "n3w-client-s3cret", "alice-pw"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the audit log holds the secret %s", secret)
		}
	}
	evs := p.events(t, audit.TypeAdminChange)
	if len(evs) != 3 {
		t.Fatalf("%d events", len(evs))
	}
	want := []string{`["password"]`, `["password_bcrypt"]`, `["client_secret"]`}
	for i, e := range evs {
		changed, _ := json.Marshal(e.Details["secrets_changed"])
		if string(changed) != want[i] || e.Admin != "alice" {
			t.Errorf("event %d: %+v", i, e)
		}
	}
	if evs[0].User != "bob" || evs[0].Details["before"] == nil || evs[0].Details["after"] == nil || evs[1].Details["before"] != nil || evs[2].ClientID != "mcp-client" {
		t.Errorf("events = %+v", evs)
	}
}

func TestConfigAPI_YAMLDownloadAndStatus(t *testing.T) {
	p := editable(t)
	resp, body := p.send(t, http.MethodGet, "/admin/api/config/yaml", "alice", nil)
	if resp.StatusCode != http.StatusOK || string(body) != editConfig || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/yaml") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), `filename="idp.yaml"`) {
		t.Errorf("yaml: %d %v\n%s", resp.StatusCode, resp.Header, body)
	}
	resp, body = p.send(t, http.MethodGet, "/admin/api/status", "alice", nil)
	st := decode[admin.StatusView](t, body)
	if st.File != p.file || st.InMemory || !st.Editable || st.ETag != `"`+policy.Version([]byte(editConfig))+`"` || st.ETag != resp.Header.Get("ETag") || st.LastReload != nil {
		t.Errorf("status = %s", body)
	}
}

func TestConfigAPI_InMemoryEditsCanBeDownloaded(t *testing.T) {
	store, err := policy.NewStore([]byte(editConfig), "demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := serveStore(t, store, filepath.Join(t.TempDir(), "audit.jsonl"))
	_, body := p.send(t, http.MethodGet, "/admin/api/status", "alice", nil)
	if st := decode[admin.StatusView](t, body); !st.InMemory || st.File != "" || st.Name != "demo.yaml" {
		t.Errorf("status = %s", body)
	}
	if resp, b := p.send(t, http.MethodPut, "/admin/api/groups/ops", "alice", `{}`, "If-Match", "*"); resp.StatusCode != http.StatusCreated {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	_, body = p.send(t, http.MethodGet, "/admin/api/config/yaml", "alice", nil)
	if !strings.Contains(string(body), "  - name: mkt\n  - name: ops\n") || !strings.Contains(string(body), "alice-pw") {
		t.Errorf("download:\n%s", body)
	}
	evs := p.events(t, audit.TypeAdminChange)
	if len(evs) != 1 || evs[0].Details["file"] != "(in memory)" {
		t.Errorf("events = %+v", evs)
	}
}

// waitFor polls until ok; the 60 s deadline only guards a hang.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestConfigAPI_FileChangedOnDiskIsReloadedAndAudited(t *testing.T) {
	p := editable(t)
	defer p.store.Watch(5 * time.Millisecond)()
	old := p.etagOf(t, "/admin/api/status")
	changed := strings.Replace(editConfig, "      - groups: [eng]\n", "      - groups: [eng, mkt]\n", 1)
	// Replaced whole, as editors that save by rename do: a file caught
	// half-written on a loaded machine would be a reload of its own.
	if _, err := atomicfile.Write(p.file, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reload", func() bool { return len(p.events(t, audit.TypeConfigReload)) > 0 })
	// The reload is recorded before it takes effect (so that none goes
	// unrecorded): the event is no proof that the file runs yet, the
	// running version is.
	waitFor(t, "the reload to take effect", func() bool { return p.etagOf(t, "/admin/api/status") != old })
	if code := p.exchange(t, "bob"); code != "" {
		t.Errorf("bob's exchange after the reload: %q", code)
	}
	e := p.events(t, audit.TypeConfigReload)[0]
	if e.Outcome != audit.Allowed || e.Details["file"] != p.file || `"`+e.Details["previous_version"].(string)+`"` != old {
		t.Errorf("event = %+v", e)
	}
	_, body := p.send(t, http.MethodGet, "/admin/api/status", "alice", nil)
	if st := decode[admin.StatusView](t, body); st.LastReload == nil || st.LastReloadError != "" || !st.Watching || st.ETag == old {
		t.Errorf("status = %s", body)
	}
}

func TestConfigAPI_InvalidFileOnDiskKeepsThePolicy(t *testing.T) {
	p := editable(t)
	defer p.store.Watch(5 * time.Millisecond)()
	running := p.srv.Config()
	broken := strings.Replace(editConfig, "      - groups: [eng]\n", "      - groups: [eng, mkt, sales]\n", 1)
	// Replaced whole, as editors that save by rename do: a file caught
	// half-written on a loaded machine would be a reload of its own.
	if _, err := atomicfile.Write(p.file, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the refused reload", func() bool { return len(p.events(t, audit.TypeConfigReload)) > 0 })
	e := p.events(t, audit.TypeConfigReload)[0]
	problems, _ := json.Marshal(e.Details["problems"])
	if e.Outcome != audit.Error || e.Error != "invalid_config" || !strings.Contains(string(problems), `"line":31`) || !strings.Contains(e.Reason, `unknown group \"sales\"`) && !strings.Contains(e.Reason, `unknown group "sales"`) {
		t.Errorf("event = %+v", e)
	}
	if p.srv.Config() != running || p.exchange(t, "bob") != "access_denied" {
		t.Error("the invalid file changed the running policy")
	}
	_, body := p.send(t, http.MethodGet, "/admin/api/status", "alice", nil)
	st := decode[admin.StatusView](t, body)
	if st.LastReload == nil || !strings.Contains(st.LastReloadError, `unknown group "sales"`) || len(st.LastReloadProblems) != 1 || st.LastReloadProblems[0].Line != 31 {
		t.Errorf("status = %s", body)
	}
	// Changes here would overwrite the change on disk: refused until fixed.
	resp, body := p.send(t, http.MethodPut, "/admin/api/groups/ops", "alice", `{}`, "If-Match", "*")
	if resp.StatusCode != http.StatusConflict || len(decode[apiError](t, body).Problems) != 1 {
		t.Errorf("edit over an invalid file: %d %s", resp.StatusCode, body)
	}
	if readFile(t, p.file) != broken {
		t.Error("the invalid file was overwritten")
	}
	if n := len(p.events(t, audit.TypeConfigReload)); n != 1 {
		t.Errorf("%d config_reload events, want 1: a refused file is reported once", n)
	}
}

// TestConfigAPI_ConsoleSession authenticates by the Session hook: changes
// need the CSRF token, and are audited under the session's admin.
func TestConfigAPI_ConsoleSession(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "idp.yaml")
	if err := os.WriteFile(file, []byte(editConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := policy.OpenStore(file)
	if err != nil {
		t.Fatal(err)
	}
	log, err := audit.Open(audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	srv, err := idp.New(idp.Options{Config: store.Config(), Issuer: "http://idp.example", Audit: log})
	if err != nil {
		t.Fatal(err)
	}
	store.OnChange(srv.SetConfig)
	if _, err := store.PutUser(policy.User{Username: "carol", Password: "carol-pw", Admin: true}, "*"); err != nil {
		t.Fatal(err)
	}
	api := admin.New(admin.Options{IdP: srv, Store: store, Session: func(r *http.Request) (string, bool) {
		return r.Header.Get("X-Session-User"), r.Header.Get("X-CSRF-Token") == "good"
	}})
	do := func(method, path, user, csrf string, basic bool) int {
		var body io.Reader
		if method == http.MethodPut {
			group := "mkt"
			if basic {
				group = "eng"
			}
			body = strings.NewReader(`[{"groups":["` + group + `"],"scopes":["files.read"]}]`)
		}
		req := httptest.NewRequest(method, path, body)
		req.Header.Set("X-Session-User", user)
		req.Header.Set("X-CSRF-Token", csrf)
		req.Header.Set("If-Match", "*")
		if basic {
			req.SetBasicAuth("alice", "alice-pw")
		}
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		return rec.Code
	}
	const path = "/admin/api/servers/files/access"
	cases := []struct {
		name, method, user, csrf string
		basic                    bool
		want                     int
	}{
		{"read", http.MethodGet, "carol", "", false, http.StatusOK},
		{"change without token", http.MethodPut, "carol", "", false, http.StatusForbidden},
		{"change with a wrong token", http.MethodPut, "carol", "bad", false, http.StatusForbidden},
		{"not an admin", http.MethodGet, "bob", "good", false, http.StatusForbidden},
		{"unknown user", http.MethodGet, "zed", "good", false, http.StatusUnauthorized},
		{"no session", http.MethodGet, "", "", false, http.StatusUnauthorized},
		{"change with the token", http.MethodPut, "carol", "good", false, http.StatusOK},
		{"basic needs no token", http.MethodPut, "", "", true, http.StatusOK},
	}
	for _, c := range cases {
		if got := do(c.method, "/admin/api/servers/files", c.user, c.csrf, c.basic); c.method == http.MethodGet && got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
		if c.method == http.MethodPut {
			if got := do(c.method, path, c.user, c.csrf, c.basic); got != c.want {
				t.Errorf("%s: %d, want %d", c.name, got, c.want)
			}
		}
	}
	evs := log.Query(audit.Filter{Type: audit.TypeAdminChange}) // newest first
	if len(evs) != 2 || evs[1].Admin != "carol" || evs[0].Admin != "alice" {
		t.Errorf("events = %+v", evs)
	}
	if got := (func() string {
		req := httptest.NewRequest(http.MethodPut, path, strings.NewReader(`[]`))
		req.Header.Set("X-Session-User", "carol")
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		return decode[apiError](t, rec.Body.Bytes()).Error
	})(); got != "csrf" {
		t.Errorf("error = %q, want csrf", got)
	}
}

// TestConfigAPI_BasicChangeFromAnotherSiteIsRefused: a browser that
// remembered an admin's Basic credentials cannot be made to change
// anything from another site.
func TestConfigAPI_BasicChangeFromAnotherSiteIsRefused(t *testing.T) {
	p := editable(t)
	host := strings.TrimPrefix(p.base, "http://")
	cases := []struct {
		header []string
		status int
	}{
		{[]string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{[]string{"Sec-Fetch-Site", "same-site"}, http.StatusForbidden},
		{[]string{"Origin", "https://evil.example"}, http.StatusForbidden},
		{[]string{"Sec-Fetch-Site", "same-origin", "Origin", "http://" + host}, http.StatusCreated},
	}
	for i, c := range cases {
		header := append([]string{"If-Match", "*"}, c.header...)
		resp, body := p.send(t, http.MethodPut, "/admin/api/groups/ops", "alice", `{}`, header...)
		if resp.StatusCode != c.status {
			t.Errorf("case %d %v: %d %s", i, c.header, resp.StatusCode, body)
		}
	}
	if resp, _ := p.send(t, http.MethodGet, "/admin/api/groups", "alice", nil, "Sec-Fetch-Site", "cross-site"); resp.StatusCode != http.StatusOK {
		t.Errorf("a read from another site: %d", resp.StatusCode)
	}
}

func TestConfigAPI_AccessBodyAsArrayOrObject(t *testing.T) {
	p := editable(t)
	wrapped := `{"access": [{"groups":["eng","mkt"],"scopes":["files.read"]}]}`
	if resp, body := p.send(t, http.MethodPut, "/admin/api/servers/files/access", "alice", wrapped); resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT access as an object: %d %s", resp.StatusCode, body)
	}
	if code := p.exchange(t, "bob"); code != "" {
		t.Errorf("after the edit, bob's exchange: %q", code)
	}
	for _, bad := range []string{`{"acces": []}`, `{"access": [], "deny": []}`, `[{"group":["eng"]}]`} {
		if resp, body := p.send(t, http.MethodPut, "/admin/api/servers/files/access", "alice", bad); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("PUT %s: %d %s, want 400", bad, resp.StatusCode, body)
		}
	}
	if resp, body := p.send(t, http.MethodPut, "/admin/api/servers/files/deny", "alice", `{"deny": [{"users":["bob"]}]}`); resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT deny as an object: %d %s", resp.StatusCode, body)
	}
	if code := p.exchange(t, "bob"); code != "access_denied" {
		t.Errorf("after the deny, bob's exchange: %q", code)
	}
}

// An emptied access list reads back as the [] that was sent, in the PUT's
// answer and at GET, not as null.
func TestConfigAPI_EmptyAccessListReadsBackAsEmptyList(t *testing.T) {
	p := editable(t)
	put, putBody := p.send(t, http.MethodPut, "/admin/api/servers/files/access", "alice", "[]")
	get, getBody := p.send(t, http.MethodGet, "/admin/api/servers/files", "alice", "")
	for _, c := range []struct {
		call string
		resp *http.Response
		body []byte
	}{{"PUT access []", put, putBody}, {"GET the server", get, getBody}} {
		var server map[string]json.RawMessage
		if err := json.Unmarshal(c.body, &server); err != nil || c.resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", c.call, c.resp.StatusCode, c.body)
		}
		if a := string(server["access"]); a != "[]" {
			t.Errorf("%s: access %s, want []", c.call, a)
		}
	}
}

// A change that does not send a password (or a client secret) keeps the
// current one: the one current when the change is made, not one read
// before. An admin who changes bob's groups while another sets bob's
// password must not put the old password back.
func TestConfigAPI_KeptSecretIsTheOneCurrentAtTheChange(t *testing.T) {
	p := editable(t)
	for i := range 40 {
		pw, secret := fmt.Sprintf("bob-pw-%d", i), fmt.Sprintf("s-%d", i)
		var wg sync.WaitGroup
		wg.Go(func() {
			if resp, b := p.send(t, http.MethodPut, "/admin/api/users/bob", "alice", `{"password":"`+pw+`","groups":["mkt"]}`); resp.StatusCode != http.StatusOK {
				t.Errorf("setting the password: %d %s", resp.StatusCode, b)
			}
		})
		wg.Go(func() {
			if resp, b := p.send(t, http.MethodPut, "/admin/api/users/bob", "alice", fmt.Sprintf(`{"name":"Bob %d","groups":["mkt"]}`, i)); resp.StatusCode != http.StatusOK {
				t.Errorf("renaming: %d %s", resp.StatusCode, b)
			}
		})
		wg.Go(func() {
			if resp, b := p.send(t, http.MethodPut, "/admin/api/clients/mcp-client", "alice", `{"client_secret":"`+secret+`","redirect_uris":["http://127.0.0.1/callback"],"token_exchange":true}`); resp.StatusCode != http.StatusOK {
				t.Errorf("setting the secret: %d %s", resp.StatusCode, b)
			}
		})
		wg.Go(func() {
			if resp, b := p.send(t, http.MethodPut, "/admin/api/clients/mcp-client", "alice", fmt.Sprintf(`{"name":"Client %d","redirect_uris":["http://127.0.0.1/callback"],"token_exchange":true}`, i)); resp.StatusCode != http.StatusOK {
				t.Errorf("renaming the client: %d %s", resp.StatusCode, b)
			}
		})
		wg.Wait()
		cfg := p.store.Config()
		if got := cfg.User("bob").Password; got != pw {
			t.Fatalf("round %d: bob's password is %q, want %q: a change without a password put an old one back", i, got, pw)
		}
		if got := cfg.Client("mcp-client").ClientSecret; got != secret {
			t.Fatalf("round %d: the client secret is %q, want %q: a change without a secret put an old one back", i, got, secret)
		}
	}
}

// TestConfigAPI_SecretUnderAnotherKeyCaseIsSet: encoding/json decodes
// "Password" and "Client_Secret" into the password and the secret; a
// change that sends them so sets them, rather than answering 200 and
// keeping the old ones (a rotation after a leak that silently did not
// happen).
func TestConfigAPI_SecretUnderAnotherKeyCaseIsSet(t *testing.T) {
	p := editable(t)
	for _, c := range []struct{ path, body string }{
		{"/admin/api/users/bob", `{"Password":"n3w-pw","groups":["mkt"]}`},
		{"/admin/api/clients/mcp-client", `{"Client_Secret":"n3w-s3cret","redirect_uris":["http://127.0.0.1/callback"],"token_exchange":true}`},
	} {
		if resp, b := p.send(t, http.MethodPut, c.path, "alice", c.body, "If-Match", "*"); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", c.path, resp.StatusCode, b)
		}
	}
	cfg := p.store.Config()
	if got := cfg.User("bob").Password; got != "n3w-pw" {
		t.Errorf("bob's password is %q after a change to n3w-pw", got)
	}
	if got := cfg.Client("mcp-client").ClientSecret; got != "n3w-s3cret" {
		t.Errorf("the client secret is %q after a change to n3w-s3cret", got)
	}
}

// A GET's ETag is the version of the body it answers: an ETag newer than
// the body would let a change based on that body overwrite, unseen, the
// change in between.
func TestConfigAPI_ETagIsTheBodysVersion(t *testing.T) {
	store, err := policy.NewStore([]byte(editConfig), "etag.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := serveStore(t, store, filepath.Join(t.TempDir(), "audit.jsonl"))
	type seen struct{ etag, name string }
	var (
		mu      sync.Mutex
		written = map[string]string{} // ETag -> bob's name in that version
		read    []seen
	)
	written[p.etagOf(t, "/admin/api/users")] = ""
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, path := range []string{"/admin/api/users", "/admin/api/users/bob", "/admin/api/config/yaml", "/admin/api/config"} {
					resp, body := p.send(t, http.MethodGet, path, "alice", nil)
					name := ""
					switch path {
					case "/admin/api/users":
						for _, u := range decode[[]admin.UserView](t, body) {
							if u.Username == "bob" {
								name = u.Name
							}
						}
					case "/admin/api/users/bob":
						name = decode[admin.UserView](t, body).Name
					case "/admin/api/config":
						var cfg struct {
							Users []policy.User `json:"users"`
						}
						if err := json.Unmarshal(body, &cfg); err == nil {
							for _, u := range cfg.Users {
								if u.Username == "bob" {
									name = u.Name
								}
							}
						}
					default:
						var cfg policy.Config
						if c, err := policy.Parse(body, "download"); err == nil {
							cfg = *c
						}
						name = cfg.User("bob").Name
					}
					mu.Lock()
					read = append(read, seen{resp.Header.Get("ETag"), name})
					mu.Unlock()
				}
			}
		})
	}
	for i := range 300 {
		name := fmt.Sprintf("Bob %d", i)
		resp, b := p.send(t, http.MethodPut, "/admin/api/users/bob", "alice", `{"name":"`+name+`","groups":["mkt"]}`)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
		mu.Lock()
		written[resp.Header.Get("ETag")] = name
		mu.Unlock()
	}
	close(stop)
	wg.Wait()
	bad := 0
	for _, r := range read {
		if want, ok := written[r.etag]; !ok || want != r.name {
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d reads answered an ETag that is not their body's version", bad, len(read))
	}
}

// TestConfigAPI_AllowIDJAGReuseRoundTrips: allow_id_jag_reuse, set by a
// PUT of the server, is in the answer, in GET and in the file; a value
// that is not a boolean is a 400 that changes nothing.
func TestConfigAPI_AllowIDJAGReuseRoundTrips(t *testing.T) {
	p := editable(t)
	_, body := p.send(t, http.MethodGet, "/admin/api/servers/files", "alice", nil)
	s := decode[map[string]any](t, body)
	if _, has := s["allow_id_jag_reuse"]; has {
		t.Fatalf("by default: %s, want the key left out", body)
	}
	delete(s, "etag")
	s["allow_id_jag_reuse"] = "yes"
	if resp, body := p.send(t, http.MethodPut, "/admin/api/servers/files", "alice", s, "If-Match", "*"); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a string: %d %s, want 400", resp.StatusCode, body)
	}
	if readFile(t, p.file) != editConfig {
		t.Fatal("a bad value changed the file")
	}
	s["allow_id_jag_reuse"] = true
	resp, body := p.send(t, http.MethodPut, "/admin/api/servers/files", "alice", s, "If-Match", "*")
	if resp.StatusCode != http.StatusOK || decode[map[string]any](t, body)["allow_id_jag_reuse"] != true {
		t.Fatalf("PUT: %d %s", resp.StatusCode, body)
	}
	_, body = p.send(t, http.MethodGet, "/admin/api/servers/files", "alice", nil)
	if decode[map[string]any](t, body)["allow_id_jag_reuse"] != true {
		t.Errorf("GET after the PUT: %s", body)
	}
	if !strings.Contains(readFile(t, p.file), "allow_id_jag_reuse: true") {
		t.Errorf("the file lacks the key:\n%s", readFile(t, p.file))
	}
	if !p.store.Config().Server("files").AllowIDJAGReuse {
		t.Error("the running configuration lacks the key")
	}
}

// TestConfigAPI_DeleteRefusesABody: a DELETE takes no body; one that holds
// anything is not the documented shape, is refused, and removes nothing.
func TestConfigAPI_DeleteRefusesABody(t *testing.T) {
	p := editable(t)
	for _, body := range []string{"null", `{"username": "carol"}`, `{"a":`} {
		resp, rb := p.send(t, http.MethodDelete, "/admin/api/users/bob", "alice", body)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(rb), `"invalid_request"`) {
			t.Errorf("DELETE with body %s: %d %s, want 400 invalid_request", body, resp.StatusCode, rb)
		}
		if p.store.Config().User("bob") == nil {
			t.Fatalf("DELETE with body %s removed bob", body)
		}
	}
	if resp, rb := p.send(t, http.MethodDelete, "/admin/api/users/bob", "alice", nil); resp.StatusCode >= 300 || p.store.Config().User("bob") != nil {
		t.Errorf("DELETE without a body: %d %s; bob removed: %v", resp.StatusCode, rb, p.store.Config().User("bob") == nil)
	}
}

// filesWithEndpoint is a PUT body of editConfig's server files, with
// events_endpoint ep.
func filesWithEndpoint(ep string) string {
	return `{"issuer":"https://as.files.example","resources":["https://mcp.files.example/mcp"],"scopes":["files.read","files.write"],` +
		`"clients":{"mcp-client":"mcp-client-at-files"},"access":[{"groups":["eng"],"scopes":["files.read"]}],"events_endpoint":"` + ep + `"}`
}

// TestConfigAPI_AuditHasNoReceiverPassword: an events_endpoint may carry
// the receiver's credentials (https://user:password@host/events). The
// admin_change of the server shows the endpoint with the password masked,
// before and after, as the event_push events do.
func TestConfigAPI_AuditHasNoReceiverPassword(t *testing.T) {
	p := editable(t)
	for _, ep := range []string{"https://rcv:f1rst-pw@events.files.example/events", "https://rcv:s3cond-pw@events.files.example/events"} {
		if resp, b := p.send(t, http.MethodPut, "/admin/api/servers/files", "alice", filesWithEndpoint(ep), "If-Match", "*"); resp.StatusCode >= 300 {
			t.Fatalf("PUT server: %d %s", resp.StatusCode, b)
		}
	}
	raw, err := os.ReadFile(p.auditFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"f1rst-pw", "s3cond-pw"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the audit log holds the receiver's password %s", secret)
		}
	}
	evs := p.events(t, audit.TypeAdminChange)
	if len(evs) != 2 {
		t.Fatalf("%d events", len(evs))
	}
	if after, _ := evs[1].Details["after"].(map[string]any); after["events_endpoint"] != "https://rcv:xxxxx@events.files.example/events" {
		t.Errorf("after = %v, want the endpoint with its password masked", evs[1].Details["after"])
	}
}

// TestConfigAPI_ReceiverPasswordNotShown: the password of an
// events_endpoint (https://user:password@host/events, sent as Basic) is a
// secret, which GET /admin/api/config removes (docs/http.md, "Reading") and the
// server views must not show either: both show it masked as xxxxx. A PUT
// that sends the masked endpoint back keeps the password, as a client's
// "(redacted)" secret is kept; another endpoint, or another password,
// replaces it.
func TestConfigAPI_ReceiverPasswordNotShown(t *testing.T) {
	p := editable(t)
	const masked = "https://rcv:xxxxx@events.files.example/events"
	if resp, b := p.send(t, http.MethodPut, "/admin/api/servers/files", "alice", filesWithEndpoint("https://rcv:s3cret-pw@events.files.example/events"), "If-Match", "*"); resp.StatusCode >= 300 || bytes.Contains(b, []byte("s3cret-pw")) {
		t.Fatalf("PUT server: %d %s", resp.StatusCode, b)
	}
	for _, path := range []string{"/admin/api/config", "/admin/api/servers", "/admin/api/servers/files"} {
		resp, b := p.send(t, http.MethodGet, path, "alice", "")
		if resp.StatusCode != http.StatusOK || bytes.Contains(b, []byte("s3cret-pw")) || !bytes.Contains(b, []byte(masked)) {
			t.Errorf("GET %s: %d %s, want the endpoint with its password masked", path, resp.StatusCode, b)
		}
	}
	// The masked endpoint sent back keeps the password.
	if resp, b := p.send(t, http.MethodPut, "/admin/api/servers/files", "alice", filesWithEndpoint(masked), "If-Match", "*"); resp.StatusCode >= 300 {
		t.Fatalf("PUT server back: %d %s", resp.StatusCode, b)
	}
	if got := p.store.Config().Server("files").EventsEndpoint; got != "https://rcv:s3cret-pw@events.files.example/events" {
		t.Errorf("after a PUT of the masked endpoint: %q, want the password kept", got)
	}
	// Another host with the mask is taken as written.
	if resp, b := p.send(t, http.MethodPut, "/admin/api/servers/files", "alice", filesWithEndpoint("https://rcv:xxxxx@other.files.example/events"), "If-Match", "*"); resp.StatusCode >= 300 {
		t.Fatalf("PUT server to another host: %d %s", resp.StatusCode, b)
	}
	if got := p.store.Config().Server("files").EventsEndpoint; got != "https://rcv:xxxxx@other.files.example/events" {
		t.Errorf("another endpoint: %q, want it as sent", got)
	}
}

// TestConfigAPI_RefusedReloadHasNoReceiverPassword: a file changed on disk
// whose events_endpoint, with the receiver's password in it, is refused
// names the endpoint with the password masked, in the config_reload event
// and in GET /admin/api/status, as everywhere else it is shown.
func TestConfigAPI_RefusedReloadHasNoReceiverPassword(t *testing.T) {
	p := editable(t)
	defer p.store.Watch(5 * time.Millisecond)()
	for i, ep := range []string{"https://rcv:s3cret-pw@events.files.example/events#x", "htps://rcv:s3cret-pw@events.files.example/events", "https://rcv:s3cret pw@events.files.example/events"} {
		broken := strings.Replace(editConfig, "    issuer: https://as.files.example\n",
			"    issuer: https://as.files.example\n    events_endpoint: "+strconv.Quote(ep)+"\n", 1)
		if _, err := atomicfile.Write(p.file, []byte(broken), 0o600); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the refused reload", func() bool { return len(p.events(t, audit.TypeConfigReload)) > i })
		if e := p.events(t, audit.TypeConfigReload)[0]; e.Outcome != audit.Error || !strings.Contains(e.Reason, "xxxxx@events.files.example/events") {
			t.Errorf("%s: event = %+v, want the endpoint named with its password masked", ep, e)
		}
		if raw := readFile(t, p.auditFile); strings.Contains(raw, "s3cret") {
			t.Errorf("%s: the audit log holds the receiver's password: %s", ep, raw)
		}
		// The status records the reload just after the event is appended.
		waitFor(t, "the refused reload in the status", func() bool {
			_, body := p.send(t, http.MethodGet, "/admin/api/status", "alice", nil)
			return bytes.Contains(body, []byte(`"last_reload_error"`))
		})
		if _, body := p.send(t, http.MethodGet, "/admin/api/status", "alice", nil); bytes.Contains(body, []byte("s3cret")) || !bytes.Contains(body, []byte("xxxxx@events.files.example")) {
			t.Errorf("%s: status = %s", ep, body)
		}
	}
}

// TestConfigAPI_ReceiverPasswordChangeIsNamed: a change of the password in
// an events_endpoint alone, masked in before and after alike, is named
// under secrets_changed, as a changed client secret is: the event does not
// read as a change of nothing. One that keeps it, on another host, names
// none.
func TestConfigAPI_ReceiverPasswordChangeIsNamed(t *testing.T) {
	p := editable(t)
	for _, ep := range []string{"https://rcv:f1rst-pw@events.files.example/events", "https://rcv:s3cond-pw@events.files.example/events", "https://rcv:s3cond-pw@other.files.example/events"} {
		body := `{"issuer":"https://as.files.example","resources":["https://mcp.files.example/mcp"],"scopes":["files.read","files.write"],` +
			`"clients":{"mcp-client":"mcp-client-at-files"},"access":[{"groups":["eng"],"scopes":["files.read"]}],"events_endpoint":"` + ep + `"}`
		if resp, b := p.send(t, http.MethodPut, "/admin/api/servers/files", "alice", body, "If-Match", "*"); resp.StatusCode >= 300 {
			t.Fatalf("PUT server: %d %s", resp.StatusCode, b)
		}
	}
	evs := p.events(t, audit.TypeAdminChange)
	if len(evs) != 3 {
		t.Fatalf("%d events", len(evs))
	}
	for i, want := range []string{`["events_endpoint"]`, `["events_endpoint"]`, `null`} {
		if got, _ := json.Marshal(evs[i].Details["secrets_changed"]); string(got) != want {
			t.Errorf("change %d: secrets_changed = %s, want %s", i+1, got, want)
		}
	}
}

// TestConfigAPI_ReceiverTokenAsUserNotShown: an events_endpoint whose
// userinfo is a user alone (https://TOKEN@host/events, which Go sends as
// Basic with an empty password) most often carries a token there. It is
// masked whole, https://xxxxx@host/events, wherever the endpoint is shown
// (the API's views and the admin_change event), a PUT that sends the
// masked endpoint back keeps it, and a change of it alone is named under
// secrets_changed, as a password's is. Before, the token was shown as
// written.
func TestConfigAPI_ReceiverTokenAsUserNotShown(t *testing.T) {
	p := editable(t)
	const masked = "https://xxxxx@events.files.example/events"
	for _, ep := range []string{"https://f1rst-tok3n@events.files.example/events", "https://s3cond-tok3n@events.files.example/events"} {
		if resp, b := p.send(t, http.MethodPut, "/admin/api/servers/files", "alice", filesWithEndpoint(ep), "If-Match", "*"); resp.StatusCode >= 300 || bytes.Contains(b, []byte("tok3n")) {
			t.Fatalf("PUT server: %d %s", resp.StatusCode, b)
		}
	}
	for _, path := range []string{"/admin/api/config", "/admin/api/servers", "/admin/api/servers/files"} {
		resp, b := p.send(t, http.MethodGet, path, "alice", "")
		if resp.StatusCode != http.StatusOK || bytes.Contains(b, []byte("tok3n")) || !bytes.Contains(b, []byte(masked)) {
			t.Errorf("GET %s: %d %s, want the endpoint with its user masked", path, resp.StatusCode, b)
		}
	}
	if resp, b := p.send(t, http.MethodPut, "/admin/api/servers/files", "alice", filesWithEndpoint(masked), "If-Match", "*"); resp.StatusCode >= 300 {
		t.Fatalf("PUT server back: %d %s", resp.StatusCode, b)
	}
	if got := p.store.Config().Server("files").EventsEndpoint; got != "https://s3cond-tok3n@events.files.example/events" {
		t.Errorf("after a PUT of the masked endpoint: %q, want the token kept", got)
	}
	if raw := readFile(t, p.auditFile); strings.Contains(raw, "tok3n") {
		t.Errorf("the audit log holds the receiver's token: %s", raw)
	}
	evs := p.events(t, audit.TypeAdminChange)
	if len(evs) != 2 { // the masked endpoint sent back changed nothing
		t.Fatalf("%d events", len(evs))
	}
	for i, want := range []string{`["events_endpoint"]`, `["events_endpoint"]`} {
		if got, _ := json.Marshal(evs[i].Details["secrets_changed"]); string(got) != want {
			t.Errorf("change %d: secrets_changed = %s, want %s", i+1, got, want)
		}
	}
}

// TestConfigAPI_EndpointShownAsWritten: an events_endpoint without a
// password is shown as the configuration holds it, not as Go's URL
// type would write it again (scheme in lower case, a space escaped), so
// that a GET sent back changes nothing.
func TestConfigAPI_EndpointShownAsWritten(t *testing.T) {
	p := editable(t)
	const ep = "HTTPS://events.files.example/ev ents?"
	body := `{"issuer":"https://as.files.example","resources":["https://mcp.files.example/mcp"],"scopes":["files.read","files.write"],` +
		`"clients":{"mcp-client":"mcp-client-at-files"},"access":[{"groups":["eng"],"scopes":["files.read"]}],"events_endpoint":"` + ep + `"}`
	if resp, b := p.send(t, http.MethodPut, "/admin/api/servers/files", "alice", body, "If-Match", "*"); resp.StatusCode >= 300 || !bytes.Contains(b, []byte(ep)) {
		t.Fatalf("PUT server: %d %s", resp.StatusCode, b)
	}
	for _, path := range []string{"/admin/api/config", "/admin/api/servers", "/admin/api/servers/files"} {
		if resp, b := p.send(t, http.MethodGet, path, "alice", ""); resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte(`"`+ep+`"`)) {
			t.Errorf("GET %s: %d %s, want the endpoint as written", path, resp.StatusCode, b)
		}
	}
}

// TestConfigAPI_ReceiverKeyInTheQueryStaysOutOfTheAudit: an
// events_endpoint may carry the receiver's key in its query
// (https://host/events?key=SECRET). The admin_change event named it whole;
// it masks query values now (names kept), and a change of the key alone
// is named under secrets_changed. The API's answers to an admin keep the
// endpoint as the admin wrote it, query and all.
func TestConfigAPI_ReceiverKeyInTheQueryStaysOutOfTheAudit(t *testing.T) {
	p := editable(t)
	eps := []string{"https://events.files.example/events?key=f1rst-k3y", "https://events.files.example/events?key=s3cond-k3y"}
	for _, ep := range eps {
		if resp, b := p.send(t, http.MethodPut, "/admin/api/servers/files", "alice", filesWithEndpoint(ep), "If-Match", "*"); resp.StatusCode >= 300 {
			t.Fatalf("PUT server: %d %s", resp.StatusCode, b)
		}
	}
	raw := readFile(t, p.auditFile)
	for _, secret := range []string{"f1rst-k3y", "s3cond-k3y"} {
		if strings.Contains(raw, secret) {
			t.Errorf("the audit log holds the receiver's key %s", secret)
		}
	}
	evs := p.events(t, audit.TypeAdminChange)
	if len(evs) != 2 {
		t.Fatalf("%d events", len(evs))
	}
	if after, _ := evs[1].Details["after"].(map[string]any); after["events_endpoint"] != "https://events.files.example/events?key=xxxxx" {
		t.Errorf("after = %v, want the endpoint with its key masked", evs[1].Details["after"])
	}
	if got, _ := json.Marshal(evs[1].Details["secrets_changed"]); string(got) != `["events_endpoint"]` {
		t.Errorf("secrets_changed = %s, want the endpoint named", got)
	}
	if resp, b := p.send(t, http.MethodGet, "/admin/api/servers/files", "alice", ""); resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte(eps[1])) {
		t.Errorf("GET server: %d %s, want the endpoint as written", resp.StatusCode, b)
	}
}
