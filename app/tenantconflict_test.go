package app_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

// tenantLines is the first and last line of each tenant's entry in the
// file: a tenant's admin may be told of its own lines only.
func tenantLines(t *testing.T, data []byte) map[string][2]int {
	t.Helper()
	out := map[string][2]int{}
	id, start, n := "", 0, 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		n++
		if rest, ok := strings.CutPrefix(sc.Text(), "  - id: "); ok {
			if id != "" {
				out[id] = [2]int{start, n - 1}
			}
			id, start = strings.Fields(rest)[0], n
		}
	}
	out[id] = [2]int{start, n}
	return out
}

// A tenant admin whose change conflicts with another tenant's
// configuration (a client_id at a shared authorization server that the
// other tenant maps with another secret) gets invalid_config naming its
// own keys and lines alone, and "conflicts with another tenant's
// configuration (ask the operator)": not the other tenant's path, client
// or lines, whichever of the two the validation reports the problem at.
// The operator's edit of the whole file is told the details.
func TestTenants_ConflictWithAnotherTenantNamesNothingOfIt(t *testing.T) {
	data, err := os.ReadFile("../fixtures/samples/tenants.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lines := tenantLines(t, data)
	store, file := openTenantsFile(t, data)
	ts, _, _ := startTenantsOf(t, store)
	put := func(tenant, admin, body string) (int, string, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPut, ts.URL+"/t/"+tenant+"/admin/api/servers/notes", strings.NewReader(body))
		req.SetBasicAuth(admin, admin)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		return resp.StatusCode, string(raw), m
	}
	server := func(client, at string) string {
		return `{"name": "Notes", "issuer": "http://127.0.0.1:9101", "resources": ["http://127.0.0.1:9201/mcp"],
			"scopes": ["notes.read", "notes.write"], "clients": {"` + client + `": "` + at + `"},
			"access": [{"users": ["alice"], "scopes": ["notes.read"]}]}`
	}
	for _, c := range []struct {
		tenant, other       string
		client, at          string
		own, others, leaked []string
	}{
		// okta (tenants[1]) maps its client to acme's client_id: the
		// problem is found at okta's key, naming acme's as the first.
		{"okta", "acme", "0oa-desktop", "acme-desktop", []string{"tenants[1].mcp_servers[0].clients.0oa-desktop"}, []string{"tenants[0]"}, []string{"clients.desktop", "tenant acme", "/t/acme"}},
		// acme (tenants[0]) maps its client to okta's: found at okta's
		// key, naming acme's.
		{"acme", "okta", "desktop", "okta-desktop", []string{"tenants[0].mcp_servers[0].clients.desktop"}, []string{"tenants[1]"}, []string{"0oa-desktop", "tenant okta", "/t/okta"}},
	} {
		status, raw, body := put(c.tenant, "alice", server(c.client, c.at))
		if status != http.StatusBadRequest || body["error"] != "invalid_config" {
			t.Fatalf("%s's conflicting change: %d %s, want 400 invalid_config", c.tenant, status, raw)
		}
		for _, s := range append(c.others, c.leaked...) {
			if strings.Contains(raw, s) {
				t.Errorf("%s's admin is told of %q of tenant %s:\n%s", c.tenant, s, c.other, raw)
			}
		}
		for _, s := range append(c.own, "conflicts with another tenant's configuration (ask the operator)") {
			if !strings.Contains(raw, s) {
				t.Errorf("%s's admin is not told %q:\n%s", c.tenant, s, raw)
			}
		}
		problems, _ := body["problems"].([]any)
		if len(problems) == 0 {
			t.Errorf("%s: no problems listed: %s", c.tenant, raw)
		}
		for _, p := range problems {
			line, _ := p.(map[string]any)["line"].(float64)
			if r := lines[c.tenant]; line != 0 && (int(line) < r[0] || int(line) > r[1]) {
				t.Errorf("%s's admin is given line %v, outside its lines %d-%d: %v", c.tenant, line, r[0], r[1], p)
			}
		}
	}
	if got, _ := os.ReadFile(file); !bytes.Equal(got, data) {
		t.Error("a refused change was written")
	}
	const OtherTenantSentence = "conflicts with another tenant's configuration (ask the operator)"

	// A file changed on disk with a problem in okta's part: acme's admin
	// is refused its change (409), and told of okta's problem, in the
	// answer, the status and its audit, as one sentence without a line.
	bad := strings.Replace(string(data), "0oa-desktop: okta-desktop", "0oa-desktop: acme-desktop", 1)
	if err := os.WriteFile(file, []byte(bad+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	status, raw, _ := put("acme", "alice", server("desktop", "acme-desktop"))
	get := func(path string) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, ts.URL+path, nil)
		req.SetBasicAuth("alice", "alice")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	for what, text := range map[string]string{
		"the refused change": raw,
		"the status":         get("/t/acme/admin/api/status"),
		"the reload's audit": get("/t/acme/admin/api/audit?type=config_reload"),
	} {
		if !strings.Contains(text, OtherTenantSentence) || strings.Contains(text, "tenants[1]") || strings.Contains(text, "0oa-desktop") {
			t.Errorf("acme's admin, %s (%d): %s\nwant okta's problem as %q alone", what, status, text, OtherTenantSentence)
		}
	}
	if text := get("/t/okta/admin/api/status"); !strings.Contains(text, "tenants[1].mcp_servers[0].clients.0oa-desktop") || strings.Contains(text, "tenants[0]") {
		t.Errorf("okta's admin is not told its own side of the problem: %s", text)
	}

	// The operator's check of the whole file names both sides.
	_, err = policy.Parse([]byte(bad), "tenants.yaml")
	if err == nil || !strings.Contains(err.Error(), "tenants[1].mcp_servers[0].clients.0oa-desktop") || !strings.Contains(err.Error(), "tenants[0].mcp_servers[0].clients.desktop") {
		t.Errorf("the operator's check: %v, want both tenants' keys named", err)
	}
}

// A tenant admin may set its own client's secret, so the answer to
// mapping that client at a shared authorization server to a client_id
// another tenant maps there must not depend on the other tenant's secret:
// refused only when the secrets differ, it let acme's admin try secrets
// until okta's client's was found (a change accepted). It is refused
// alike whatever the secrets, and nothing is written.
func TestTenants_ConflictAnswerTellsNothingOfTheOtherSecret(t *testing.T) {
	data, err := os.ReadFile("../fixtures/samples/tenants.yaml")
	if err != nil {
		t.Fatal(err)
	}
	store, file := openTenantsFile(t, data)
	ts, _, _ := startTenantsOf(t, store)
	call := func(method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, ts.URL+"/t/acme/admin/api/"+path, strings.NewReader(body))
		req.SetBasicAuth("alice", "alice")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(raw)
	}
	// acme maps its client to okta's client_id at the notes server, which
	// both tenants list.
	mapping := `{"name": "Notes", "issuer": "http://127.0.0.1:9101", "resources": ["http://127.0.0.1:9201/mcp"],
		"scopes": ["notes.read", "notes.write"], "clients": {"desktop": "okta-desktop"},
		"access": [{"users": ["alice"], "scopes": ["notes.read", "notes.write"]}]}`
	client := func(secret string) string {
		return `{"client_secret": "` + secret + `", "redirect_uris": ["http://127.0.0.1/callback"], "token_exchange": true}`
	}
	var answers []string
	for _, secret := range []string{"a-wrong-guess", "okta-desktop-secret"} { // okta's, as the file has it
		if status, raw := call(http.MethodPut, "clients/desktop", client(secret)); status != http.StatusOK {
			t.Fatalf("acme's client secret %q: %d %s", secret, status, raw)
		}
		before, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		status, raw := call(http.MethodPut, "servers/notes", mapping)
		if status != http.StatusBadRequest || !strings.Contains(raw, "conflicts with another tenant's configuration") {
			t.Errorf("acme's mapping with client secret %q: %d %s, want 400 invalid_config: conflicts with another tenant's configuration", secret, status, raw)
		}
		if after, _ := os.ReadFile(file); !bytes.Equal(after, before) {
			t.Errorf("acme's mapping with client secret %q was written", secret)
		}
		answers = append(answers, raw)
	}
	if answers[0] != answers[1] {
		t.Errorf("the answers differ with the secret guessed:\n%s\n%s", answers[0], answers[1])
	}

	// A file that gives both tenants' clients the one client_id and
	// secret at the server (the operator's choice, which check accepts)
	// still lets acme's admin edit that server.
	shared := strings.Replace(strings.Replace(string(data), "client_secret: acme-desktop-secret", "client_secret: okta-desktop-secret", 1),
		"desktop: acme-desktop ", "desktop: okta-desktop ", 1)
	store, _ = openTenantsFile(t, []byte(shared))
	ts, _, _ = startTenantsOf(t, store)
	if status, raw := call(http.MethodPut, "servers/notes/access", `[{"users": ["alice"], "scopes": ["notes.read"]}]`); status != http.StatusOK {
		t.Errorf("acme's edit of a server whose client_id okta shares by the file: %d %s", status, raw)
	}
}
