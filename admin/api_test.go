package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/policy"
)

const testConfig = `
groups: [{name: eng}, {name: mkt}]
users:
  - {username: alice, password: alice-pw, groups: [eng], admin: true}
  - {username: bob, password: bob-pw, groups: [mkt]}
clients:
  - {client_id: mcp-client, client_secret: s1, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}
mcp_servers:
  - id: files
    issuer: https://as.files.example
    resources: [https://mcp.files.example/mcp]
    scopes: [files.read]
    clients: {mcp-client: mcp-client-at-files}
    access: [{groups: [eng], scopes: [files.read]}]
`

// start serves the whole product (IdP and admin API) on a loopback port,
// after one login by bob so that the audit log has something to show.
func start(t *testing.T) string {
	t.Helper()
	issuer, _ := startIdP(t)
	if _, err := idpclient.Login(context.Background(), idpclient.LoginOptions{
		Issuer: issuer, ClientID: "mcp-client", ClientSecret: "s1", Username: "bob", Password: "bob-pw",
	}); err != nil {
		t.Fatal(err)
	}
	return issuer
}

func get(t *testing.T, base, path, user, password string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func TestAdminAPI_AccessControl(t *testing.T) {
	base := start(t)
	cases := []struct {
		name, user, password string
		status               int
	}{
		{"admin", "alice", "alice-pw", http.StatusOK},
		{"no credentials", "", "", http.StatusUnauthorized},
		{"wrong password", "alice", "bob-pw", http.StatusUnauthorized},
		{"unknown user", "zed", "x", http.StatusUnauthorized},
		{"not an admin", "bob", "bob-pw", http.StatusForbidden},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, path := range []string{"/admin/api/audit", "/admin/api/explain?user=bob&client=mcp-client&audience=files", "/admin/api/config"} {
				resp, body := get(t, base, path, c.user, c.password)
				if resp.StatusCode != c.status {
					t.Errorf("%s: status %d, want %d (%s)", path, resp.StatusCode, c.status, body)
				}
				if c.status == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
					t.Errorf("%s: 401 without a Basic challenge", path)
				}
			}
		})
	}
}

func TestAdminAPI_AuditListsEventsNewestFirst(t *testing.T) {
	base := start(t)
	resp, body := get(t, base, "/admin/api/audit?type=login&user=bob&outcome=allowed&limit=5", "alice", "alice-pw")
	var events []map[string]any
	if err := json.Unmarshal(body, &events); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, body %s", resp.StatusCode, body)
	}
	if len(events) != 1 || events[0]["user"] != "bob" || events[0]["type"] != "login" {
		t.Errorf("events = %s, want bob's one login", body)
	}
	if resp, _ := get(t, base, "/admin/api/audit?since=yesterday", "alice", "alice-pw"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad since: status %d, want 400", resp.StatusCode)
	}
}

func TestAdminAPI_ExplainsADenial(t *testing.T) {
	base := start(t)
	q := url.Values{"user": {"bob"}, "client": {"mcp-client"}, "audience": {"https://as.files.example/"}}
	resp, body := get(t, base, "/admin/api/explain?"+q.Encode(), "alice", "alice-pw")
	var e map[string]any
	if err := json.Unmarshal(body, &e); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, body %s", resp.StatusCode, body)
	}
	if e["allowed"] != false || e["error"] != "access_denied" || e["server"] != "files" || !strings.Contains(e["reason"].(string), "bob") {
		t.Errorf("explain = %s", body)
	}
	q.Set("user", "alice")
	_, body = get(t, base, "/admin/api/explain?"+q.Encode(), "alice", "alice-pw")
	if !strings.Contains(string(body), `"allowed": true`) || !strings.Contains(string(body), `"rule": "files access[0]"`) {
		t.Errorf("explain alice = %s", body)
	}
	resp, body = get(t, base, "/admin/api/explain?user=alice", "alice", "alice-pw")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "client, audience") {
		t.Errorf("explain without client and audience: %d %s, want 400 naming them", resp.StatusCode, body)
	}
	// The hint offers what the audience parameter takes: an issuer, an
	// alias, or a server's id, as `xaa-idp explain --audience` takes.
	if !strings.Contains(string(body), "issuer, alias or MCP server id") {
		t.Errorf("explain hint = %s, want the audience as an issuer, alias or id", body)
	}
	// A server id names that server, whose issuer is the audience (it was
	// invalid_target here, though the CLI and the console took it).
	q.Set("audience", "files")
	if _, body = get(t, base, "/admin/api/explain?"+q.Encode(), "alice", "alice-pw"); !strings.Contains(string(body), `"allowed": true`) ||
		!strings.Contains(string(body), `"server": "files"`) || !strings.Contains(string(body), `"audience": "https://as.files.example"`) {
		t.Errorf("explain with a server id as audience = %s, want files allowed, its issuer the audience", body)
	}
	q.Set("audience", "flies")
	if _, body = get(t, base, "/admin/api/explain?"+q.Encode(), "alice", "alice-pw"); !strings.Contains(string(body), `"error": "invalid_target"`) {
		t.Errorf("explain with an unknown id as audience = %s, want invalid_target", body)
	}
}

func TestAdminAPI_ConfigHidesSecrets(t *testing.T) {
	base := start(t)
	resp, body := get(t, base, "/admin/api/config", "alice", "alice-pw")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"mcp-client-at-files"`) {
		t.Fatalf("status %d, body %s", resp.StatusCode, body)
	}
	for _, secret := range []string{"alice-pw", "bob-pw", `"s1"`} {
		if strings.Contains(string(body), secret) {
			t.Errorf("the configuration shows the secret %s:\n%s", secret, body)
		}
	}
}

// TestAdminAPI_ConfigShowsNoExpiryForAnEntryWithout: an access entry
// without expires never expires, so the running configuration shows none
// for it, not 1970-01-01 (the zero Timestamp), which read back as YAML
// would be an entry that expired long ago.
func TestAdminAPI_ConfigShowsNoExpiryForAnEntryWithout(t *testing.T) {
	base := start(t)
	resp, body := get(t, base, "/admin/api/config", "alice", "alice-pw")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, body %s", resp.StatusCode, body)
	}
	var cfg struct {
		MCPServers []struct {
			Access []map[string]any `json:"access"`
		} `json:"mcp_servers"`
	}
	if err := json.Unmarshal(body, &cfg); err != nil || len(cfg.MCPServers) != 1 || len(cfg.MCPServers[0].Access) != 1 {
		t.Fatalf("%v: %s", err, body)
	}
	if exp, ok := cfg.MCPServers[0].Access[0]["expires"]; ok {
		t.Errorf("an entry without expires shows expires %v", exp)
	}
}

// auditPage GETs path of the audit API as alice and returns its events
// and its Link header; any status but 200 fails the test.
func auditPage(t *testing.T, base, path string) ([]audit.Event, string) {
	t.Helper()
	resp, body := get(t, base, path, "alice", "alice-pw")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
	}
	var evs []audit.Event
	if err := json.Unmarshal(body, &evs); err != nil {
		t.Fatal(err)
	}
	return evs, resp.Header.Get("Link")
}

func TestAdminAPI_AuditPagesWithLink(t *testing.T) {
	base, srv := startIdP(t)
	for i := range 1250 {
		if _, err := srv.Audit().Append(audit.Event{Type: audit.TypeAdminChange, Outcome: audit.Allowed, Reason: "event " + strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	page := func(path string) ([]audit.Event, string) {
		t.Helper()
		evs, link := auditPage(t, base, path)
		if link == "" {
			return evs, ""
		}
		next, ok := strings.CutSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
		if !ok || !strings.HasPrefix(next, "/admin/api/audit?") {
			t.Fatalf("Link %q", link)
		}
		return evs, next
	}

	if evs, next := page("/admin/api/audit?type=admin_change"); len(evs) != 100 || next == "" {
		t.Fatalf("default page: %d events, next %q; want 100 and a Link", len(evs), next)
	}
	if evs, _ := page("/admin/api/audit?type=admin_change&limit=5000"); len(evs) != 1000 {
		t.Fatalf("limit=5000 answered %d events; want the cap, 1000", len(evs))
	}

	// Paging 300 at a time walks every event once, newest first, each
	// page strictly older than the one before; the filter is kept.
	seen := map[string]bool{}
	var all []audit.Event
	path, pages := "/admin/api/audit?type=admin_change&limit=300", 0
	for path != "" {
		var evs []audit.Event
		evs, path = page(path)
		pages++
		for _, e := range evs {
			if seen[e.ID] || e.Type != audit.TypeAdminChange {
				t.Fatalf("page %d: event %s again, or of another type (%s)", pages, e.ID, e.Type)
			}
			seen[e.ID] = true
		}
		all = append(all, evs...)
	}
	if pages != 5 || len(all) != 1250 {
		t.Fatalf("%d pages, %d events; want 5 pages (the last without Link), 1250 events", pages, len(all))
	}
	for i, e := range all {
		if want := "event " + strconv.Itoa(1249-i); e.Reason != want {
			t.Fatalf("event %d is %q, want %q: not newest first", i, e.Reason, want)
		}
	}
	if evs, next := page("/admin/api/audit?type=admin_change&before=" + all[1247].ID); len(evs) != 2 || next != "" {
		t.Fatalf("before the third oldest: %d events, next %q; want the two oldest and no Link", len(evs), next)
	}
}

// TestAdminAPI_UnknownRoutesAnswerJSON: a path that is no endpoint, or a method an endpoint does not
// take, is answered like every other refusal of the API, in JSON, and only to an admin.
func TestAdminAPI_UnknownRoutesAnswerJSON(t *testing.T) {
	base := start(t)
	resp, body := get(t, base, "/admin/api/no-such-thing", "alice", "alice-pw")
	var e map[string]string
	if err := json.Unmarshal(body, &e); err != nil || resp.StatusCode != http.StatusNotFound || e["error"] != "not_found" {
		t.Errorf("GET of no endpoint: %d %s, want 404 not_found in JSON", resp.StatusCode, body)
	}
	if resp, _ := get(t, base, "/admin/api/no-such-thing", "", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no endpoint, no credentials: %d, want 401 before anything is said about the path", resp.StatusCode)
	}

	req, _ := http.NewRequest(http.MethodDelete, base+"/admin/api/audit", nil)
	req.SetBasicAuth("alice", "alice-pw")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	e = nil
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || resp.StatusCode != http.StatusMethodNotAllowed || e["error"] != "method_not_allowed" {
		t.Errorf("DELETE /admin/api/audit: %d %v (%v), want 405 method_not_allowed in JSON", resp.StatusCode, e, err)
	}
	if allow := resp.Header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(e["error_description"], allow) {
		t.Errorf("Allow %q, description %q: want GET allowed, and said", allow, e["error_description"])
	}
}

// A page of the largest size (limit=1000, or any limit above the cap) must
// still say that older events exist: a script paging with the largest page
// would otherwise stop after the first and miss every older event.
func TestAdminAPI_AuditFullPageAtTheCapHasLink(t *testing.T) {
	base, srv := startIdP(t)
	for i := range 1500 {
		if _, err := srv.Audit().Append(audit.Event{Type: audit.TypeAdminChange, Outcome: audit.Allowed, Reason: "event " + strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, limit := range []string{"1000", "5000"} {
		resp, body := get(t, base, "/admin/api/audit?type=admin_change&limit="+limit, "alice", "alice-pw")
		var evs []audit.Event
		if err := json.Unmarshal(body, &evs); err != nil {
			t.Fatal(err)
		}
		if len(evs) != 1000 || resp.Header.Get("Link") == "" {
			t.Errorf("limit=%s: %d events, Link %q; want 1000 and a Link to the 500 older ones", limit, len(evs), resp.Header.Get("Link"))
		}
	}
}

// TestAdminAPI_ConfigShowsTheCIMDSettingsInEffect: a file without cimd:
// runs with metadata document clients on, allowed to exchange, under the
// default patterns. The running configuration says so, not null for the
// switches and an empty allow list, which would read as "nothing allowed".
func TestAdminAPI_ConfigShowsTheCIMDSettingsInEffect(t *testing.T) {
	base := start(t)
	resp, body := get(t, base, "/admin/api/config", "alice", "alice-pw")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, body %s", resp.StatusCode, body)
	}
	var cfg struct {
		CIMD struct {
			Enabled       *bool    `json:"enabled"`
			TokenExchange *bool    `json:"token_exchange"`
			Allow         []string `json:"allow"`
		} `json:"cimd"`
	}
	if err := json.Unmarshal(body, &cfg); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	c := cfg.CIMD
	if c.Enabled == nil || !*c.Enabled || c.TokenExchange == nil || !*c.TokenExchange || len(c.Allow) == 0 {
		t.Errorf("cimd shows enabled %v, token_exchange %v, allow %q; want true, true and the default patterns", c.Enabled, c.TokenExchange, c.Allow)
	}
}

// The admin API's explain reads its parameters as `xaa-idp explain` reads
// its flags: every `scope` counts (the CLI's --scope is repeatable, and a
// script building the query from a list repeats it), and a login age cannot
// be negative. Taking the first scope only answered invalid_scope for bob's
// scope=files.write&scope=files.read, where the token endpoint and the CLI
// grant files.read; a negative auth_age met every max_auth_age.
func TestAdminAPI_ExplainReadsItsParametersAsTheCLI(t *testing.T) {
	base, _ := serveConfig(t, `
groups: [{name: mkt}]
users:
  - {username: alice, password: alice-pw, admin: true}
  - {username: bob, password: bob-pw, groups: [mkt]}
clients:
  - {client_id: mcp-client, client_secret: s1, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}
mcp_servers:
  - id: files
    issuer: https://as.files.example
    resources: [https://mcp.files.example/mcp]
    scopes: [files.read, files.write]
    clients: {mcp-client: mcp-client-at-files}
    access: [{groups: [mkt], scopes: [files.read], max_auth_age: 5m}]
`, "explain.yaml")
	q := "/admin/api/explain?user=bob&client=mcp-client&audience=https://as.files.example"
	resp, body := get(t, base, q+"&scope=files.write&scope=files.read", "alice", "alice-pw")
	var e struct {
		Allowed bool     `json:"allowed"`
		Error   string   `json:"error"`
		Scopes  []string `json:"scopes"`
	}
	if err := json.Unmarshal(body, &e); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, body %s", resp.StatusCode, body)
	}
	if !e.Allowed || strings.Join(e.Scopes, " ") != "files.read" {
		t.Errorf("explain with scope repeated = %s, want allowed with files.read", body)
	}
	resp, body = get(t, base, q+"&auth_age=-1h", "alice", "alice-pw")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "auth_age") {
		t.Errorf("explain with a negative auth_age: %d %s, want 400 naming auth_age", resp.StatusCode, body)
	}
	for _, p := range []string{"user=bob", "client=mcp-client", "audience=https://as.files.example", "resource=https://mcp.files.example/mcp", "auth_age=1m"} {
		resp, body = get(t, base, q+"&resource=https://mcp.files.example/mcp&auth_age=1m&"+p, "alice", "alice-pw")
		if name, _, _ := strings.Cut(p, "="); resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), name) {
			t.Errorf("explain with %s twice: %d %s, want 400 naming it", name, resp.StatusCode, body)
		}
	}
}

// A filter of the audit API that can match nothing because it is misspelt
// (type=exchange, outcome=refused) or given twice (only one value could
// count) is refused with the values it takes, rather than answered with
// an empty page that reads as "nothing happened".
func TestAdminAPI_AuditRefusesAFilterThatCannotMatch(t *testing.T) {
	base := start(t)
	for _, q := range []string{"type=exchange", "outcome=refused", "type=login&type=token", "user=bob&user=alice", "limit=5&limit=6"} {
		resp, body := get(t, base, "/admin/api/audit?"+q, "alice", "alice-pw")
		name, _, _ := strings.Cut(q, "=")
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"invalid_request"`) || !strings.Contains(string(body), name) {
			t.Errorf("audit?%s: %d %s, want 400 invalid_request naming %s", q, resp.StatusCode, body, name)
		}
	}
	resp, body := get(t, base, "/admin/api/audit?type=exchange", "alice", "alice-pw")
	if resp.StatusCode == http.StatusBadRequest && !strings.Contains(string(body), "token_exchange") {
		t.Errorf("unknown type: %s, want the known types listed", body)
	}
	for _, q := range []string{"type=login&outcome=allowed", "type=access_request&outcome=expired", "type=fault"} {
		if resp, body := get(t, base, "/admin/api/audit?"+q, "alice", "alice-pw"); resp.StatusCode != http.StatusOK {
			t.Errorf("audit?%s: %d %s, want 200", q, resp.StatusCode, body)
		}
	}
}

// A reader who paged back through the audit log pages forward with
// after=, the first event of the page: the events just newer, still newest
// first; its Link leads to the older page again, and no Link is given when
// nothing older matches.
func TestAdminAPI_AuditAfterPagesForward(t *testing.T) {
	base, srv := startIdP(t)
	var ids []string
	for i := range 10 {
		e, err := srv.Audit().Append(audit.Event{Type: audit.TypeAdminChange, Outcome: audit.Allowed, Reason: "event " + strconv.Itoa(i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
	}
	page := func(path string) (reasons []string, link string) {
		t.Helper()
		evs, link := auditPage(t, base, path)
		for _, e := range evs {
			reasons = append(reasons, e.Reason)
		}
		return reasons, link
	}
	got, link := page("/admin/api/audit?type=admin_change&limit=3&after=" + ids[2])
	if want := []string{"event 5", "event 4", "event 3"}; !slices.Equal(got, want) {
		t.Fatalf("after event 2: %q, want %q", got, want)
	}
	if want := `</admin/api/audit?before=` + ids[3] + `&limit=3&type=admin_change>; rel="next"`; link != want {
		t.Errorf("after event 2: Link %q, want %q (the older page, without after)", link, want)
	}
	if got, _ := page("/admin/api/audit?type=admin_change&limit=3&after=" + ids[7]); !slices.Equal(got, []string{"event 9", "event 8"}) {
		t.Errorf("after event 7: %q, want the two newest", got)
	}
	if _, link := page("/admin/api/audit?type=admin_change&limit=9&after=" + ids[0]); !strings.Contains(link, "before="+ids[1]) {
		t.Errorf("after event 0: Link %q, want the older page, event 0", link)
	}
	if got, link := page("/admin/api/audit?type=admin_change&limit=3&user=nobody&after=" + ids[0]); len(got) != 0 || link != "" {
		t.Errorf("after event 0, a filter no event matches: %q, Link %q; want nothing", got, link)
	}
}

// TestAdminAPI_ConfigReadsBackAsTheConfiguration: GET /admin/api/config
// is the running configuration under its YAML key names, and a key the
// file leaves out is left out there too (docs/http.md, "Reading"), as an
// access entry's expires is. Shown as their zero values, an access entry's
// unset max_auth_age ("0s"), a client's unset jwks ({}), and a file
// without tenants' id, path and tenants ("", "", []) read back as a file
// check refuses (a step-up of 0, a JWK Set without keys, an empty tenant
// list beside top-level keys). Only the removed passwords are missing.
func TestAdminAPI_ConfigReadsBackAsTheConfiguration(t *testing.T) {
	base, _ := serveConfig(t, `
groups: [{name: eng}]
users:
  - {username: alice, password: alice-pw, admin: true, groups: [eng]}
clients:
  - {client_id: app, client_secret: s1, redirect_uris: ["http://127.0.0.1/cb"], token_exchange: true}
mcp_servers:
  - id: files
    issuer: https://as.files.example
    scopes: [files.read]
    clients: {app: app-at-files}
    access:
      - {groups: [eng], scopes: [files.read]}
`, "x.yaml")
	resp, body := get(t, base, "/admin/api/config", "alice", "alice-pw")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, body %s", resp.StatusCode, body)
	}
	var top map[string]any
	if err := json.Unmarshal(body, &top); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "path", "tenants"} {
		if v, ok := top[k]; ok {
			t.Errorf("a file without tenants shows %s: %v", k, v)
		}
	}
	for _, k := range []string{`"max_auth_age"`, `"jwks"`, `"password"`, `"password_bcrypt"`} {
		if bytes.Contains(body, []byte(k)) {
			t.Errorf("the configuration shows %s, which the file leaves out:\n%s", k, body)
		}
	}
	// JSON is YAML: with the password put back, the answer is a valid file.
	users := top["users"].([]any)
	users[0].(map[string]any)["password"] = "alice-pw"
	back, _ := json.Marshal(top)
	if _, err := policy.Parse(back, "back.yaml"); err != nil {
		t.Errorf("the running configuration read back: %v", err)
	}
}
