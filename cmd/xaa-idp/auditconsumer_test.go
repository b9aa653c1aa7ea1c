package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idpclient"
)

// The audit log as its consumer reads it: a security team ships audit.jsonl to a SIEM and writes
// alerts against the schema docs/audit.md promises. These tests drive the decisions of a real
// `serve` (real HTTP, a real state directory, a stop and a start) and read the file back.

// consumerYAML is the configuration of the consumer tests; PUSH is replaced by the receiver's
// URL. Every secret in it is one the audit log must never hold.
const consumerYAML = `signing: {id_token_alg: RS256, id_jag_alg: ES256}
groups:
  - name: eng
users:
  - {username: alice, password: alice-pw-7Qx, sub: 00u-alice, admin: true, groups: [eng]}
  - {username: bob, password: bob-pw-3Zq, sub: 00u-bob, groups: [eng]}
  - {username: erin, password: erin-pw-9Kd, sub: 00u-erin, disabled: true}
  - {username: mallory, password: mallory-pw-1Xv, sub: 00u-mallory, groups: [eng]}
  - {username: carl, password: carl-pw-6Tb, sub: 00u-carl, groups: [eng]}
clients:
  - {client_id: mcp-client, client_secret: client-secret-4Vw, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}
  - {client_id: other-client, client_secret: other-secret-6Pp, redirect_uris: [http://127.0.0.1/callback]}
scim:
  tokens:
    - {name: entra, token: scim-token-secret-0123456789}
mcp_servers:
  - id: chat
    issuer: https://as.chat.example
    resources: [https://mcp.chat.example/mcp]
    scopes: [chat.read, chat.write]
    clients: {mcp-client: mcp-client-at-chat}
    events_endpoint: PUSH
    access:
      - {groups: [eng], scopes: [chat.read]}
    deny:
      - {users: [mallory]}
  - id: tracker
    issuer: https://as.tracker.example
    resources: [https://mcp.tracker.example/mcp]
    scopes: [issues.read]
    clients: {mcp-client: mcp-client-at-tracker}
    access:
      - {users: [mallory], scopes: [issues.read], expires: "2020-01-01T00:00:00Z"}
`

// consumerSecrets are the passwords and secrets of consumerYAML and of the run.
var consumerSecrets = []string{"alice-pw-7Qx", "bob-pw-3Zq", "erin-pw-9Kd", "mallory-pw-1Xv", "client-secret-4Vw",
	"scim-token-secret-0123456789", "push-pw-5Rt", "wrong-pw-8Jm", "sam-pw-2Hn", "carl-pw-6Tb", "other-secret-6Pp"}

// consumerRun is one run against a serving IdP: its issuer, and every token it was handed.
type consumerRun struct {
	t      *testing.T
	issuer string
	tokens []string
}

func (r *consumerRun) keep(tokens ...string) {
	for _, tok := range tokens {
		if tok != "" {
			r.tokens = append(r.tokens, tok)
		}
	}
}

// do sends a request to the IdP and returns its status and body. user, if not "", is sent as
// HTTP Basic with password; a bearer is sent as such.
func (r *consumerRun) do(method, path string, body io.Reader, header http.Header) (int, []byte, http.Header) {
	r.t.Helper()
	req, err := http.NewRequest(method, r.issuer+path, body)
	if err != nil {
		r.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

func (r *consumerRun) admin(method, path, body string) (int, []byte) {
	r.t.Helper()
	h := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("alice:alice-pw-7Qx"))}}
	if body != "" {
		h.Set("Content-Type", "application/json")
	}
	code, b, _ := r.do(method, path, strings.NewReader(body), h)
	return code, b
}

func (r *consumerRun) form(path string, v url.Values) (int, []byte) {
	r.t.Helper()
	code, b, _ := r.do(http.MethodPost, path, strings.NewReader(v.Encode()), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	return code, b
}

func (r *consumerRun) login(user, password string) (idpclient.Tokens, error) {
	tok, err := idpclient.Login(context.Background(), idpclient.LoginOptions{Issuer: r.issuer, ClientID: "mcp-client",
		ClientSecret: "client-secret-4Vw", Username: user, Password: password})
	if err == nil {
		r.keep(tok.IDToken(), tok.RefreshToken(), fmt.Sprint(tok["access_token"]))
	}
	return tok, err
}

func (r *consumerRun) mustLogin(user, password string) idpclient.Tokens {
	r.t.Helper()
	tok, err := r.login(user, password)
	if err != nil {
		r.t.Fatalf("login %s: %v", user, err)
	}
	return tok
}

// exchange posts a token exchange with these parameters over the defaults (alice's client).
func (r *consumerRun) exchange(v url.Values) (int, map[string]any) {
	r.t.Helper()
	form := url.Values{
		"grant_type":           {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"requested_token_type": {idpclient.TokenTypeIDJAG},
		"subject_token_type":   {idpclient.TokenTypeIDToken},
		"client_id":            {"mcp-client"},
		"client_secret":        {"client-secret-4Vw"},
	}
	for k, vs := range v {
		form[k] = vs
	}
	code, b := r.form("/oauth/token", form)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		r.t.Fatalf("token exchange answered %d, not JSON: %q", code, b)
	}
	if jag, ok := m["access_token"].(string); ok {
		r.keep(jag)
	}
	return code, m
}

// waitForEvent waits until the audit file holds an event that match accepts, and returns it.
func waitForEvent(t *testing.T, path string, what string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		for _, ev := range readAuditFile(t, path) {
			if match(ev) {
				return ev
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s in the audit log after 60 s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readAuditFile decodes every line of the file, failing the test on a line that is not one JSON
// object.
func readAuditFile(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for i, line := range bytes.SplitAfter(data, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if line[len(line)-1] != '\n' {
			t.Fatalf("%s:%d does not end with a newline: %q", path, i+1, line)
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		var ev map[string]any
		if err := dec.Decode(&ev); err != nil {
			t.Fatalf("%s:%d is not a JSON object: %v: %q", path, i+1, err, line)
		}
		if dec.More() {
			t.Fatalf("%s:%d holds more than one JSON value: %q", path, i+1, line)
		}
		out = append(out, ev)
	}
	return out
}

func is(ev map[string]any, typ, outcome string) bool {
	return ev["type"] == typ && ev["outcome"] == outcome
}

func str(v any) string { s, _ := v.(string); return s }

// TestAuditConsumer_EveryDecisionAsDocumented drives each kind of decision through a real serve
// with a state directory, stops and starts it, and checks every line of audit.jsonl against
// docs/audit.md: the fields and their types, the fields each type and outcome always has, the
// outcomes, ids unique and ordered, the time format, one object per line, valid UTF-8, strings cut
// to 512 bytes, and no token, secret or password of the run anywhere.
func TestAuditConsumer_EveryDecisionAsDocumented(t *testing.T) {
	// The receiver takes the first SET, refuses the second (RFC 8935 section 2.3) and fails
	// every later one.
	var pushes atomic.Int32
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		switch pushes.Add(1) {
		case 1:
			w.WriteHeader(http.StatusAccepted)
		case 2:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"err": "invalid_request", "description": "not today"}`)
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer receiver.Close()
	push := strings.Replace(receiver.URL, "http://", "http://user:push-pw-5Rt@", 1) + "/events"

	dir := t.TempDir()
	config := filepath.Join(dir, "idp.yaml")
	yaml := strings.Replace(consumerYAML, "PUSH", push, 1)
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	auditFile := filepath.Join(state, "audit.jsonl")

	issuer, stop := serveWithLogs(t, "--config", config, "--state-dir", state)
	r := &consumerRun{t: t, issuer: issuer}

	// Logins: allowed, a wrong password, an unknown user, a disabled one, a username too long.
	alice := r.mustLogin("alice", "alice-pw-7Qx")
	bob := r.mustLogin("bob", "bob-pw-3Zq")
	mallory := r.mustLogin("mallory", "mallory-pw-1Xv")
	for _, bad := range [][2]string{{"bob", "wrong-pw-8Jm"}, {"nobody", "wrong-pw-8Jm"}, {"erin", "erin-pw-9Kd"}, {strings.Repeat("u", 300), "wrong-pw-8Jm"}, {"bad\xff\xfename", "wrong-pw-8Jm"}} {
		if _, err := r.login(bad[0], bad[1]); err == nil {
			t.Fatalf("login %.20s with %s succeeded", bad[0], bad[1])
		}
	}

	// Refresh: allowed, and a refresh token that is no token of this IdP.
	refreshed, err := idpclient.Refresh(context.Background(), idpclient.RefreshOptions{Issuer: issuer, ClientID: "mcp-client",
		ClientSecret: "client-secret-4Vw", RefreshToken: alice.RefreshToken()})
	if err != nil {
		t.Fatal(err)
	}
	r.keep(refreshed.IDToken(), refreshed.RefreshToken(), fmt.Sprint(refreshed["access_token"]))
	if code, _ := r.form("/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt_not-a-token"},
		"client_id": {"mcp-client"}, "client_secret": {"client-secret-4Vw"}}); code != 400 {
		t.Fatalf("unknown refresh token: %d, want 400", code)
	}

	// Token exchanges: allowed, and each kind of refusal.
	idTok := refreshed.IDToken()
	chat := url.Values{"subject_token": {idTok}, "audience": {"https://as.chat.example"}, "resource": {"https://mcp.chat.example/mcp"}, "scope": {"chat.read"}}
	if code, m := r.exchange(chat); code != 200 {
		t.Fatalf("exchange: %d %v", code, m)
	}
	with := func(base url.Values, kv ...string) url.Values {
		v := url.Values{}
		for k, vs := range base {
			v[k] = slices.Clone(vs)
		}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	refusals := []struct {
		v    url.Values
		code string
	}{
		{with(chat, "subject_token", mallory.IDToken()), "access_denied"}, // deny entry
		{with(chat, "subject_token", bob.IDToken(), "audience", "https://as.tracker.example", "resource", "https://mcp.tracker.example/mcp", "scope", "issues.read"), "access_denied"}, // no access
		{with(chat, "audience", "https://unknown.example"), "invalid_target"},
		{with(chat, "subject_token", "not-a-jwt"), "invalid_request"},
		{with(chat, "client_secret", "wrong-pw-8Jm"), "invalid_client"},
		{with(chat, "scope", "chat.admin"), "invalid_scope"},
		{with(chat, "resource", bob.IDToken()), "invalid_target"},                                                 // a token in the wrong parameter
		{with(chat, "resource", "https://mcp.chat.example/\xff\xfe"+strings.Repeat("x", 2000)), "invalid_target"}, // invalid UTF-8, long
		{with(chat, "client_id", "mcp-\xff-client", "client_secret", "x"), "invalid_client"},
	}
	for i, c := range refusals {
		code, m := r.exchange(c.v)
		if code < 400 || code >= 500 || m["error"] != c.code {
			t.Errorf("refusal %d: %d %v, want 4xx %s", i, code, m, c.code)
		}
	}

	// Access requests: bob asks for tracker, alice approves; mallory asks for chat, denied at once.
	bearer := func(tok idpclient.Tokens) http.Header {
		return http.Header{"Authorization": {"Bearer " + fmt.Sprint(tok["access_token"])}, "Content-Type": {"application/json"}}
	}
	code, body, _ := r.do(http.MethodPost, "/me/access-requests", strings.NewReader(`{"server": "tracker", "reason": "triage rota `+strings.Repeat("r", 700)+`"}`), bearer(bob))
	if code != 201 {
		t.Fatalf("access request: %d %s", code, body)
	}
	var req struct{ ID string }
	json.Unmarshal(body, &req)
	if code, body := r.admin(http.MethodPost, "/admin/api/access-requests/"+req.ID+"/approve", `{"expires_in": "8h"}`); code != 200 {
		t.Fatalf("approve: %d %s", code, body)
	}
	if code, body, _ := r.do(http.MethodPost, "/me/access-requests", strings.NewReader(`{"server": "chat"}`), bearer(mallory)); code != 403 {
		t.Fatalf("mallory's access request: %d %s, want 403", code, body)
	}

	// Admin: a refused Basic login, an edit that takes chat from bob (a revocation push), a
	// fault that fires at the JWKS, a key rotation, a SCIM user.
	code, _, _ = r.do(http.MethodGet, "/admin/api/config", nil, http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("alice:wrong-pw-8Jm"))}})
	if code != 401 {
		t.Fatalf("admin API with a wrong password: %d, want 401", code)
	}
	// Three edits of chat's access, each taking it from one user: pushed, refused, failed.
	for _, c := range []struct{ access, user, outcome string }{
		{`[{"users": ["alice", "carl"], "scopes": ["chat.read"]}]`, "bob", "allowed"},
		{`[{"users": ["carl"], "scopes": ["chat.read"]}]`, "alice", "denied"},
		{`[]`, "carl", "error"},
	} {
		if code, body := r.admin(http.MethodPut, "/admin/api/servers/chat/access", c.access); code != 200 {
			t.Fatalf("access edit: %d %s", code, body)
		}
		waitForEvent(t, auditFile, "event_push "+c.outcome+" of "+c.user, func(ev map[string]any) bool { return is(ev, "event_push", c.outcome) && ev["user"] == c.user })
	}

	// Another client's token at revocation; a public client's introspection is none here, as
	// every client has a secret.
	if code, body := r.form("/revoke", url.Values{"token": {refreshed.RefreshToken()}, "client_id": {"other-client"}, "client_secret": {"other-secret-6Pp"}}); code != 401 {
		t.Fatalf("revocation of another client's token: %d %s", code, body)
	}
	if code, body := r.form("/oauth/introspect", url.Values{"token": {fmt.Sprint(alice["access_token"])}, "client_id": {"other-client"}, "client_secret": {"wrong-pw-8Jm"}}); code != 401 {
		t.Fatalf("introspection with a wrong secret: %d %s", code, body)
	}
	if code, body := r.admin(http.MethodPost, "/admin/api/faults", `{"endpoint": "jwks", "http_status": 503, "times": 1}`); code != 201 {
		t.Fatalf("fault: %d %s", code, body)
	}
	if code, _, _ := r.do(http.MethodGet, "/keys", nil, nil); code != 503 {
		t.Fatalf("JWKS under the fault: %d, want 503", code)
	}
	if code, body := r.admin(http.MethodPost, "/admin/api/faults", `{"endpoint": "discovery", "delay": "1ms", "times": 1}`); code != 201 {
		t.Fatalf("fault: %d %s", code, body)
	}
	if code, _, _ := r.do(http.MethodGet, "/.well-known/openid-configuration", nil, nil); code != 200 {
		t.Fatalf("discovery under a delay: %d, want 200", code)
	}
	if code, body := r.admin(http.MethodPost, "/admin/api/keys/rotate", ""); code != 200 {
		t.Fatalf("rotate: %d %s", code, body)
	}
	code, body, _ = r.do(http.MethodPost, "/admin/api/scim/v2/Users",
		strings.NewReader(`{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "sam", "password": "sam-pw-2Hn", "active": true}`),
		http.Header{"Authorization": {"Bearer scim-token-secret-0123456789"}, "Content-Type": {"application/scim+json"}})
	if code != 201 {
		t.Fatalf("SCIM create: %d %s", code, body)
	}

	// Logout of bob's session by his ID token; a refused one.
	if code, body, _ := r.do(http.MethodGet, "/end_session?id_token_hint="+url.QueryEscape(bob.IDToken()), nil, nil); code >= 500 {
		t.Fatalf("end_session: %d %s", code, body)
	}
	if code, _, _ := r.do(http.MethodGet, "/end_session?id_token_hint=not-a-token", nil, nil); code != 400 {
		t.Fatalf("end_session with a bad hint: %d, want 400", code)
	}

	// A metadata document client whose document does not resolve.
	cimd := "http://127.0.0.1:1/client.json"
	if code, _, _ := r.do(http.MethodGet, "/authorize?"+url.Values{"client_id": {cimd}, "response_type": {"code"}, "redirect_uri": {"http://127.0.0.1/cb"},
		"scope": {"openid"}, "code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}.Encode(), nil, nil); code < 400 || code >= 500 {
		t.Fatalf("authorize with a metadata document that does not resolve: %d, want 4xx", code)
	}

	// Reloads: an edit of the file, then one refused.
	yaml2 := strings.Replace(yaml, "  - name: eng\n", "  - name: eng\n  - name: ops\n", 1)
	writeConsumerConfig(t, config, yaml2)
	waitForEvent(t, auditFile, "config_reload allowed", func(ev map[string]any) bool { return is(ev, "config_reload", "allowed") })
	writeConsumerConfig(t, config, yaml2+"bogus_key: 1\n")
	refused := waitForEvent(t, auditFile, "config_reload error", func(ev map[string]any) bool { return is(ev, "config_reload", "error") })
	writeConsumerConfig(t, config, yaml2)
	waitForEvent(t, auditFile, "the config_reload allowed after the refused one", func(ev map[string]any) bool {
		return is(ev, "config_reload", "allowed") && str(ev["id"]) > str(refused["id"])
	})
	stop()

	// Start again on the same state directory: ids go on from where they were.
	issuer, stop = serveWithLogs(t, "--config", config, "--state-dir", state)
	r.issuer = issuer
	r.mustLogin("alice", "alice-pw-7Qx")
	if _, err := r.login("bob", "wrong-pw-8Jm"); err == nil {
		t.Fatal("wrong password accepted after the restart")
	}
	stop()

	events := checkAuditFile(t, auditFile, r.tokens)
	seen := map[string]bool{}
	for _, ev := range events {
		seen[str(ev["type"])+" "+str(ev["outcome"])] = true
	}
	for _, want := range []string{"login allowed", "login denied", "login error", "logout allowed", "logout error", "token allowed", "token error",
		"token_exchange allowed", "token_exchange denied", "token_exchange error", "admin_change allowed", "config_reload allowed",
		"config_reload error", "key_rotation allowed", "access_request requested", "access_request approved", "access_request denied",
		"event_push allowed", "event_push denied", "event_push error", "fault allowed", "token denied", "access_request expired"} {
		if !seen[want] {
			t.Errorf("no %s event in the run; the test drove one", want)
		}
	}
}

// writeConsumerConfig replaces the configuration file as an editor would (a new file renamed over
// it), so that the watcher never reads half of it.
func writeConsumerConfig(t *testing.T, path, text string) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// auditField is a row of docs/audit.md's Fields table: a field name and its JSON type.
type auditField struct{ name, typ string }

// docFields reads docs/audit.md's Fields table, in its order.
func docFields(t *testing.T) []auditField {
	t.Helper()
	rest := docSection(t, "docs/audit.md", "Fields")
	row := regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\| ([a-z]+) \\|")
	var fields []auditField
	for _, m := range row.FindAllStringSubmatch(rest, -1) {
		fields = append(fields, auditField{m[1], m[2]})
	}
	if len(fields) == 0 {
		t.Fatal("docs/audit.md's Fields table has no rows")
	}
	return fields
}

// docTypes reads the event types of docs/audit.md's Types table.
func docTypes(t *testing.T) []string {
	t.Helper()
	rest := docSection(t, "docs/audit.md", "Types")
	var types []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\|").FindAllStringSubmatch(rest, -1) {
		if m[1] != "type" { // the header row
			types = append(types, m[1])
		}
	}
	return types
}

// requiredFields is what docs/audit.md promises each type and outcome always carries, besides
// time, id, type and outcome: "details.x" is a member of details.
var requiredFields = map[string][]string{
	"login allowed":            {"user", "sub", "client_id", "reason"},
	"login denied":             {"error", "reason"},
	"login error":              {"error", "reason", "client_id"},
	"logout allowed":           {"user", "sub", "reason"},
	"logout error":             {"error", "reason"},
	"token allowed":            {"grant_type", "client_id", "sub", "user", "scope_granted"},
	"token error":              {"error", "reason"},
	"token denied":             {"error", "reason", "client_id"},
	"token_exchange allowed":   {"grant_type", "client_id", "user", "sub", "server", "audience", "scope_granted", "rule", "reason", "jti", "details.client_id_at_server", "details.subject_token_type"},
	"token_exchange denied":    {"grant_type", "error", "client_id", "user", "sub", "server", "audience", "reason"},
	"token_exchange error":     {"grant_type", "error", "reason"},
	"admin_change allowed":     {"admin", "reason", "details.object", "details.action"},
	"admin_change error":       {"admin", "reason", "error", "details.changed"},
	"config_reload allowed":    {"reason", "details.file", "details.version", "details.previous_version"},
	"config_reload error":      {"error", "reason", "details.file", "details.problems"},
	"key_rotation allowed":     {"admin", "reason", "details.alg", "details.use", "details.old_kid", "details.new_kid", "details.retire_at"},
	"key_rotation error":       {"error", "reason", "details.alg", "details.old_kid", "details.new_kid"},
	"access_request requested": {"user", "sub", "server", "client_id", "scope_requested", "reason", "details.request"},
	"access_request approved":  {"user", "sub", "server", "admin", "scope_granted", "reason", "details.request", "details.expires"},
	"access_request denied":    {"user", "sub", "server", "reason"},
	"access_request expired":   {"user", "server", "rule", "reason", "details.expires", "details.names", "details.scopes"},
	"event_push allowed":       {"server", "user", "sub", "audience", "jti", "reason", "details.endpoint", "details.event", "details.result", "details.attempt"},
	"event_push denied":        {"server", "user", "sub", "audience", "jti", "reason", "error", "details.endpoint", "details.event", "details.result", "details.attempt"},
	"event_push error":         {"server", "user", "sub", "audience", "jti", "reason", "error", "details.endpoint", "details.event"},
	"fault allowed":            {"reason", "injected", "details.endpoint", "details.path", "details.faults"},
	"fault error":              {"reason", "injected", "details.endpoint", "details.path", "details.faults"},
}

// checkAuditFile checks every line of the audit file against docs/audit.md and returns the events.
func checkAuditFile(t *testing.T, path string, tokens []string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !utf8.Valid(data) {
		t.Errorf("%s is not valid UTF-8", path)
	}
	for _, s := range consumerSecrets {
		if bytes.Contains(data, []byte(s)) {
			t.Errorf("the audit log holds the secret %q", s)
		}
	}
	for _, tok := range tokens {
		// A JWT's header may stand in the log as a redacted token's trace; its payload and
		// signature may not.
		parts := strings.Split(tok, ".")
		for i, p := range parts {
			if (len(parts) == 1 || i > 0) && len(p) >= 16 && bytes.Contains(data, []byte(p)) {
				t.Errorf("the audit log holds a token issued in the run (part %d of %.30s…)", i, tok)
			}
		}
	}

	schema := newAuditSchema(t)
	events := readAuditFile(t, path)
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	prev := ""
	for i, ev := range events {
		where := fmt.Sprintf("line %d (%s %s)", i+1, str(ev["type"]), str(ev["outcome"]))
		schema.check(t, where, string(lines[i]), ev)
		id := str(ev["id"])
		if id <= prev {
			t.Errorf("%s: id %s does not follow %s", where, id, prev)
		}
		prev = id
	}
	return events
}

// auditSchema is what docs/audit.md says of every event: the Fields table, in its order.
type auditSchema struct {
	types map[string]string
	order []string
}

func newAuditSchema(t *testing.T) auditSchema {
	s := auditSchema{types: map[string]string{}}
	for _, f := range docFields(t) {
		s.types[f.name] = f.typ
		s.order = append(s.order, f.name)
	}
	return s
}

var (
	auditTimeRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	auditIDRE   = regexp.MustCompile(`^[0-9a-f]{24}$`)
)

// check checks one event, line as written and ev as decoded, against docs/audit.md: its fields
// are the Fields table's, of its types and in its order; time and id in their formats; type and
// outcome among the documented ones; the fields its type and outcome always have
// (requiredFields); every string, at any depth, valid UTF-8 of at most 512 bytes.
func (s auditSchema) check(t *testing.T, where, line string, ev map[string]any) {
	t.Helper()
	if !strings.HasPrefix(line, `{"time":`) {
		t.Errorf("%s does not start with time: %.80s", where, line)
	}
	var keys []string
	dec := json.NewDecoder(strings.NewReader(line))
	dec.Token()
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var skip json.RawMessage
		dec.Decode(&skip)
	}
	last := -1
	for _, k := range keys {
		at := slices.Index(s.order, k)
		if at < 0 {
			t.Errorf("%s has the field %q, which docs/audit.md's Fields table does not list", where, k)
			continue
		}
		if at < last {
			t.Errorf("%s has %q after %q, out of the Fields table's order", where, k, s.order[last])
		}
		last = max(last, at)
		if got := jsonType(ev[k]); got != s.types[k] {
			t.Errorf("%s: %s is a %s, docs/audit.md says %s", where, k, got, s.types[k])
		}
	}
	for _, k := range []string{"time", "id", "type", "outcome"} {
		if ev[k] == nil {
			t.Errorf("%s lacks %s", where, k)
		}
	}
	if !auditTimeRE.MatchString(str(ev["time"])) {
		t.Errorf("%s: time %q is not UTC with three digits of milliseconds", where, ev["time"])
	}
	if id := str(ev["id"]); !auditIDRE.MatchString(id) {
		t.Errorf("%s: id %q is not 24 lower-case hex digits", where, id)
	}
	typ, outcome := str(ev["type"]), str(ev["outcome"])
	if !slices.Contains(audit.Types, typ) {
		t.Errorf("%s: type %q is none of docs/audit.md's", where, typ)
	}
	switch outcome {
	case "allowed", "denied", "error":
	case "requested", "approved", "expired":
		if typ != "access_request" {
			t.Errorf("%s: outcome %q is an access_request's", where, outcome)
		}
	default:
		t.Errorf("%s: outcome %q is none of docs/audit.md's", where, outcome)
	}
	required, ok := requiredFields[typ+" "+outcome]
	if !ok {
		t.Errorf("%s: docs/audit.md gives %s no outcome %s", where, typ, outcome)
	}
	details, _ := ev["details"].(map[string]any)
	for _, f := range required {
		var v any
		if name, ok := strings.CutPrefix(f, "details."); ok {
			v = details[name]
		} else {
			v = ev[f]
		}
		if v == nil || v == "" {
			t.Errorf("%s lacks %s: %s", where, f, line)
		}
	}
	walkStrings(ev, func(s string) {
		if len(s) > 512 {
			t.Errorf("%s holds a string of %d bytes, over 512: %.80s…", where, len(s), s)
		}
		if !utf8.ValidString(s) {
			t.Errorf("%s holds a string that is not UTF-8: %q", where, s)
		}
	})
}

func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case bool:
		return "bool"
	case map[string]any:
		return "object"
	case json.Number:
		return "number"
	case []any:
		return "array"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

func walkStrings(v any, f func(string)) {
	switch v := v.(type) {
	case string:
		f(v)
	case map[string]any:
		for k, e := range v {
			f(k)
			walkStrings(e, f)
		}
	case []any:
		for _, e := range v {
			walkStrings(e, f)
		}
	}
}

// TestAuditConsumer_FieldsTableIsTheEventType: docs/audit.md's Fields table lists every field an
// event can have, with its type, in the order the IdP writes them; its Types table every type.
// A field added to audit.Event, renamed or reordered without the doc fails here.
func TestAuditConsumer_FieldsTableIsTheEventType(t *testing.T) {
	fields := docFields(t)
	ev := audit.Event{Time: time.Unix(1, 0), ID: "x", Type: "t", Tenant: "t", Outcome: "o", Error: "e", User: "u", Sub: "s", ClientID: "c",
		Server: "s", Audience: "a", Resource: "r", ScopeRequested: "s", ScopeGranted: "s", Rule: "r", Reason: "r", JTI: "j", Admin: "a",
		GrantType: "g", Injected: true, Details: map[string]any{"k": 1}}
	line, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.Token()
	var written []auditField
	for dec.More() {
		k, _ := dec.Token()
		var v any
		dec.Decode(&v)
		written = append(written, auditField{k.(string), jsonType(v)})
	}
	if fmt.Sprint(written) != fmt.Sprint(fields) {
		t.Errorf("an event with every field set is written as\n%v\ndocs/audit.md's Fields table says\n%v", written, fields)
	}
	if got := docTypes(t); !slices.Equal(sorted(got), sorted(audit.Types)) {
		t.Errorf("docs/audit.md's Types table lists %v, the IdP writes %v", got, audit.Types)
	}
	if got := docTypes(t); !slices.Equal(sorted(got), sorted(typesOf(requiredFields))) {
		t.Errorf("the required fields of this test cover %v, docs/audit.md's Types table lists %v", sorted(typesOf(requiredFields)), got)
	}
}

func typesOf(m map[string][]string) []string {
	var out []string
	for k := range m {
		typ, _, _ := strings.Cut(k, " ")
		if !slices.Contains(out, typ) {
			out = append(out, typ)
		}
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

// auditPage gets one page of GET /admin/api/audit and the next page's address from its Link.
func (r *consumerRun) auditPage(pathAndQuery string) (events []map[string]any, next string) {
	r.t.Helper()
	h := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("alice:alice-pw-7Qx"))}}
	code, body, header := r.do(http.MethodGet, pathAndQuery, nil, h)
	if code != 200 {
		r.t.Fatalf("GET %s: %d %s", pathAndQuery, code, body)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&events); err != nil {
		r.t.Fatalf("GET %s: %v: %.200s", pathAndQuery, err, body)
	}
	if link := header.Get("Link"); link != "" {
		m := regexp.MustCompile(`^<([^>]+)>; rel="next"$`).FindStringSubmatch(link)
		if m == nil {
			r.t.Fatalf("GET %s: Link %q is not one rel=next", pathAndQuery, link)
		}
		next = m[1]
	}
	return events, next
}

// TestAuditConsumer_APIPagesAreTheFileWhileEventsAreAppended: a SIEM that reads GET
// /admin/api/audit page by page (before=, the Link header) and polls for new events (after=)
// while the IdP appends gets exactly what the file holds for the same filter: every event once,
// none missing between pages, newest first, each as the file has it.
func TestAuditConsumer_APIPagesAreTheFileWhileEventsAreAppended(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "idp.yaml")
	if err := os.WriteFile(config, []byte(strings.Replace(consumerYAML, "    events_endpoint: PUSH\n", "", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	issuer, stop := serveWithLogs(t, "--config", config, "--state-dir", state)
	r := &consumerRun{t: t, issuer: issuer}
	alice := r.mustLogin("alice", "alice-pw-7Qx")
	mallory := r.mustLogin("mallory", "mallory-pw-1Xv")

	// Writers: allowed exchanges (alice), denied ones (mallory), refused clients, until told to
	// stop; each answer comes after its event is in the file and the index.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 3)
	subjects := []string{alice.IDToken(), mallory.IDToken(), "not-a-jwt"}
	for _, subject := range subjects {
		go func() {
			form := url.Values{
				"grant_type":           {"urn:ietf:params:oauth:grant-type:token-exchange"},
				"requested_token_type": {idpclient.TokenTypeIDJAG},
				"subject_token_type":   {idpclient.TokenTypeIDToken},
				"subject_token":        {subject},
				"client_id":            {"mcp-client"},
				"client_secret":        {"client-secret-4Vw"},
				"audience":             {"https://as.chat.example"},
				"scope":                {"chat.read"},
			}
			for n := 0; ctx.Err() == nil; n++ {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, issuer+"/oauth/token", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					if ctx.Err() != nil {
						break
					}
					done <- err
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			done <- nil
		}()
	}

	// Wait for some traffic, then read while it goes on.
	since := time.Now().UTC().Add(-time.Hour)
	for {
		if evs, _ := r.auditPage("/admin/api/audit?type=token_exchange&limit=200"); len(evs) >= 120 {
			break
		}
	}
	queries := []string{
		"type=token_exchange&limit=7",
		"type=token_exchange&outcome=denied&limit=5",
		"user=alice&limit=11",
		"client=mcp-client&outcome=error&limit=6",
		"server=chat&limit=9",
		"since=" + url.QueryEscape(since.Format(time.RFC3339Nano)) + "&limit=13",
	}
	type read struct {
		query string
		pages [][]map[string]any
	}
	var reads []read
	for _, q := range queries {
		rd := read{query: q}
		next := "/admin/api/audit?" + q
		for next != "" {
			var evs []map[string]any
			evs, next = r.auditPage(next)
			rd.pages = append(rd.pages, evs)
		}
		reads = append(reads, rd)
	}
	// Polling for new events as a tail would: after= the newest id seen, page after page.
	first, _ := r.auditPage("/admin/api/audit?type=token_exchange&limit=1")
	tailFrom := str(first[0]["id"])
	var tail []map[string]any
	deadline := time.Now().Add(60 * time.Second)
	for cursor := tailFrom; len(tail) < 20 && time.Now().Before(deadline); {
		evs, _ := r.auditPage("/admin/api/audit?type=token_exchange&limit=4&after=" + cursor)
		if len(evs) == 0 {
			continue
		}
		for j := len(evs) - 1; j >= 0; j-- { // newest first within a page
			tail = append(tail, evs[j])
		}
		cursor = str(evs[0]["id"])
	}
	cancel()
	for range subjects {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	stop()

	file := readAuditFile(t, filepath.Join(state, "audit.jsonl"))
	byID := map[string]map[string]any{}
	for _, ev := range file {
		byID[str(ev["id"])] = ev
	}
	matches := func(q url.Values, ev map[string]any) bool {
		for k, field := range map[string]string{"type": "type", "outcome": "outcome", "client": "client_id", "server": "server", "user": "user"} {
			if v := q.Get(k); v != "" && str(ev[field]) != v {
				return false
			}
		}
		if v := q.Get("since"); v != "" {
			s, _ := time.Parse(time.RFC3339Nano, v)
			at, _ := time.Parse(time.RFC3339Nano, str(ev["time"]))
			if at.Before(s) {
				return false
			}
		}
		return true
	}
	for _, rd := range reads {
		q, _ := url.ParseQuery(rd.query)
		var got []string
		for i, page := range rd.pages {
			limit, _ := strconv.Atoi(q.Get("limit"))
			if len(page) > limit || (len(page) < limit && i < len(rd.pages)-1) {
				t.Errorf("%s: page %d has %d events, limit %d", rd.query, i, len(page), limit)
			}
			for _, ev := range page {
				id := str(ev["id"])
				got = append(got, id)
				if fev, ok := byID[id]; !ok {
					t.Errorf("%s: the API answered %s, which the file does not hold", rd.query, id)
				} else if fmt.Sprint(fev) != fmt.Sprint(ev) {
					t.Errorf("%s: the API's %s differs from the file's:\n%v\n%v", rd.query, id, ev, fev)
				}
			}
		}
		if len(got) == 0 {
			t.Errorf("%s: no events", rd.query)
			continue
		}
		var want []string
		for i := len(file) - 1; i >= 0; i-- {
			if id := str(file[i]["id"]); id <= got[0] && matches(q, file[i]) {
				want = append(want, id)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: %d pages answered %d events, the file holds %d up to the first page's newest:\n got %v\nwant %v",
				rd.query, len(rd.pages), len(got), len(want), got, want)
		}
	}
	var tailIDs, wantTail []string
	for _, ev := range tail {
		tailIDs = append(tailIDs, str(ev["id"]))
	}
	if len(tailIDs) == 0 {
		t.Fatal("polling with after= found no new events while the writers ran")
	}
	for _, ev := range file {
		if id := str(ev["id"]); ev["type"] == "token_exchange" && id > tailFrom && id <= tailIDs[len(tailIDs)-1] {
			wantTail = append(wantTail, id)
		}
	}
	if !slices.Equal(tailIDs, wantTail) {
		t.Errorf("polling with after=: got %v\nwant %v", tailIDs, wantTail)
	}
}

// tenantsConsumerYAML is consumerYAML twice, as the tenants t1 and t2, without the push.
func tenantsConsumerYAML() string {
	one := strings.Replace(consumerYAML, "    events_endpoint: PUSH\n", "", 1)
	var b strings.Builder
	b.WriteString("tenants:\n")
	for _, id := range []string{"t1", "t2"} {
		b.WriteString("  - id: " + id + "\n")
		for _, line := range strings.Split(strings.TrimSuffix(one, "\n"), "\n") {
			b.WriteString("    " + line + "\n")
		}
	}
	return b.String()
}

// TestAuditConsumer_TenantsEveryEventNamesItsTenant: with two tenants, every line of the one file
// carries the tenant whose IdP wrote it, and a tenant's audit API answers exactly the file's lines
// of that tenant.
func TestAuditConsumer_TenantsEveryEventNamesItsTenant(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "idp.yaml")
	yaml := tenantsConsumerYAML()
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	issuer, stop := serveWithLogs(t, "--config", config, "--state-dir", state)
	base := strings.TrimSuffix(issuer, "/t/t1")
	var runs []*consumerRun
	for _, id := range []string{"t1", "t2"} {
		r := &consumerRun{t: t, issuer: base + "/t/" + id}
		runs = append(runs, r)
		alice := r.mustLogin("alice", "alice-pw-7Qx")
		if _, err := r.login("bob", "wrong-pw-8Jm"); err == nil {
			t.Fatal("wrong password accepted")
		}
		r.exchange(url.Values{"subject_token": {alice.IDToken()}, "audience": {"https://as.chat.example"}, "scope": {"chat.read"}})
		r.exchange(url.Values{"subject_token": {alice.IDToken()}, "audience": {"https://as.tracker.example"}})
		if code, body := r.admin(http.MethodPut, "/admin/api/servers/tracker/access", `[{"users": ["bob"], "scopes": ["issues.read"]}]`); code != 200 {
			t.Fatalf("%s: access edit: %d %s", id, code, body)
		}
		if code, body := r.admin(http.MethodPost, "/admin/api/keys/rotate", ""); code != 200 {
			t.Fatalf("%s: rotate: %d %s", id, code, body)
		}
	}
	// Another tenant's token at t2: refused there, audited at t2.
	t1alice := runs[0].mustLogin("alice", "alice-pw-7Qx")
	if code, m := runs[1].exchange(url.Values{"subject_token": {t1alice.IDToken()}, "audience": {"https://as.chat.example"}}); code < 400 || code >= 500 {
		t.Fatalf("t1's ID token at t2: %d %v", code, m)
	}
	writeConsumerConfig(t, config, strings.Replace(yaml, "  - name: eng\n", "  - name: eng\n  - name: ops\n", 1))
	auditFile := filepath.Join(state, "audit.jsonl")
	waitForEvent(t, auditFile, "config_reload of t1", func(ev map[string]any) bool { return ev["type"] == "config_reload" && ev["tenant"] == "t1" })

	pages := map[string][]map[string]any{}
	for i, r := range runs {
		next := "/admin/api/audit?limit=5"
		for next != "" {
			var evs []map[string]any
			evs, next = r.auditPage(strings.TrimPrefix(next, "/t/"+[]string{"t1", "t2"}[i]))
			pages[[]string{"t1", "t2"}[i]] = append(pages[[]string{"t1", "t2"}[i]], evs...)
		}
	}
	stop()

	events := checkAuditFile(t, auditFile, append(runs[0].tokens, runs[1].tokens...))
	want := map[string][]string{}
	for i := len(events) - 1; i >= 0; i-- {
		ev := events[i]
		tenant := str(ev["tenant"])
		if tenant != "t1" && tenant != "t2" {
			t.Errorf("%s %s %s: tenant %q, want t1 or t2", ev["id"], ev["type"], ev["outcome"], tenant)
			continue
		}
		want[tenant] = append(want[tenant], str(ev["id"]))
	}
	for _, tenant := range []string{"t1", "t2"} {
		var got []string
		for _, ev := range pages[tenant] {
			got = append(got, str(ev["id"]))
		}
		// The file may hold events after the last page was read (the reload's own tail).
		w := want[tenant]
		for len(w) > 0 && len(got) > 0 && w[0] > got[0] {
			w = w[1:]
		}
		if !slices.Equal(got, w) {
			t.Errorf("%s's audit API answered %v, the file's %s lines are %v", tenant, got, tenant, w)
		}
	}
}

// docTypeRows reads docs/audit.md's Types table: each type's row.
func docTypeRows(t *testing.T) map[string]string {
	t.Helper()
	rest := docSection(t, "docs/audit.md", "Types")
	rows := map[string]string{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\|(.*)$").FindAllStringSubmatch(rest, -1) {
		rows[m[1]] = m[2]
	}
	return rows
}

// TestAuditConsumer_DocsNameWhatEachTypeAlwaysHas: each field this test requires of a type and
// outcome (requiredFields, which every line of the runs above is checked against) is named in
// that type's row of docs/audit.md's Types table, and each outcome too: a field renamed in the
// product or in the docs alone fails here or there.
func TestAuditConsumer_DocsNameWhatEachTypeAlwaysHas(t *testing.T) {
	rows := docTypeRows(t)
	for key, fields := range requiredFields {
		typ, outcome, _ := strings.Cut(key, " ")
		row, ok := rows[typ]
		if !ok {
			t.Errorf("docs/audit.md's Types table has no row for %s", typ)
			continue
		}
		if !strings.Contains(row, "`"+outcome+"`") {
			t.Errorf("docs/audit.md's row of %s does not name the outcome `%s`", typ, outcome)
		}
		for _, f := range fields {
			name := strings.TrimPrefix(f, "details.")
			if !strings.Contains(row, "`"+name+"`") && !strings.Contains(row, "`"+f+"`") && !strings.Contains(row, "`"+name+":") {
				t.Errorf("docs/audit.md's row of %s does not name %s, which every %s event has", typ, f, key)
			}
		}
	}
}

// TestAuditConsumer_DocExamplesFollowTheSchema: every example line of docs/audit.md but the first
// (a synthetic event the text says is no consistent decision) passes the checks every written
// line passes, and there is one of each type.
func TestAuditConsumer_DocExamplesFollowTheSchema(t *testing.T) {
	examples := docSection(t, "docs/audit.md", "Examples")
	blocks := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllStringSubmatch(examples, -1)
	if len(blocks) < 2 {
		t.Fatalf("docs/audit.md has %d examples", len(blocks))
	}
	schema := newAuditSchema(t)
	types := map[string]bool{}
	for i, b := range blocks[1:] {
		for j, line := range strings.Split(strings.TrimSuffix(b[1], "\n"), "\n") {
			dec := json.NewDecoder(strings.NewReader(line))
			dec.UseNumber()
			var ev map[string]any
			if err := dec.Decode(&ev); err != nil || dec.More() {
				t.Errorf("example %d, line %d is not one JSON object: %v: %s", i+2, j+1, err, line)
				continue
			}
			schema.check(t, fmt.Sprintf("example %d, line %d (%s %s)", i+2, j+1, str(ev["type"]), str(ev["outcome"])), line, ev)
			types[str(ev["type"])] = true
		}
	}
	for _, typ := range audit.Types {
		if !types[typ] {
			t.Errorf("docs/audit.md has no example of a %s event", typ)
		}
	}
}
