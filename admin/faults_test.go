package admin_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/idptest"
)

// faultAPI sends an admin API request with HTTP Basic as user:password (none
// when user is empty) and returns the status and body.
func faultAPI(t *testing.T, method, url, user, password, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestAdminAPI_FaultsNeedAnAdmin(t *testing.T) {
	srv := idptest.New(t, idptest.WithConfigYAML(testConfig))
	base := srv.Issuer() + "/admin/api/faults"
	for _, c := range []struct{ method, url, body string }{
		{http.MethodGet, base, ""},
		{http.MethodPost, base, `{"http_status": 500}`},
		{http.MethodDelete, base, ""},
		{http.MethodDelete, base + "/f1", ""},
	} {
		if status, body := faultAPI(t, c.method, c.url, "", "", c.body); status != http.StatusUnauthorized {
			t.Errorf("%s %s without credentials: %d %s, want 401", c.method, c.url, status, body)
		}
		if status, body := faultAPI(t, c.method, c.url, "bob", "bob-pw", c.body); status != http.StatusForbidden {
			t.Errorf("%s %s as a non-admin: %d %s, want 403", c.method, c.url, status, body)
		}
	}
	if fs := srv.Faults(); len(fs) != 0 {
		t.Errorf("faults were added without an admin: %+v", fs)
	}
}

func TestAdminAPI_FaultLifecycle(t *testing.T) {
	srv := idptest.New(t, idptest.WithConfigYAML(testConfig))
	base := srv.Issuer() + "/admin/api/faults"

	status, body := faultAPI(t, http.MethodPost, base, "alice", "alice-pw", `{
  "match": {"user": "alice", "server": "files", "grant_type": "token-exchange"},
  "error": {"code": "temporarily_unavailable", "description": "maintenance"},
  "times": 1
}`)
	var added map[string]any
	if status != http.StatusCreated || json.Unmarshal(body, &added) != nil {
		t.Fatalf("POST: %d %s", status, body)
	}
	id, _ := added["id"].(string)
	if id == "" || added["source"] != "admin" || added["remaining"] != float64(1) || added["fired"] != float64(0) {
		t.Errorf("POST answered %s", body)
	}

	// The fault is live: the exchange meets it, once.
	_, err := srv.TryIDJAG("alice", "files")
	var refusal *idpclient.Error
	if !errors.As(err, &refusal) || refusal.Code != "temporarily_unavailable" || refusal.Status != http.StatusServiceUnavailable || refusal.Description != "maintenance" {
		t.Errorf("exchange: %v, want 503 temporarily_unavailable", err)
	}
	if _, err := srv.TryIDJAG("alice", "files"); err != nil {
		t.Errorf("second exchange: %v", err)
	}

	// A list, in YAML this time, adds several at once.
	status, body = faultAPI(t, http.MethodPost, base, "alice", "alice-pw", "- {id: slow, delay: 10ms}\n- {http_status: 500, match: {user: bob}}\n")
	var list []map[string]any
	if status != http.StatusCreated || json.Unmarshal(body, &list) != nil || len(list) != 2 || list[0]["id"] != "slow" {
		t.Fatalf("POST list: %d %s", status, body)
	}
	status, body = faultAPI(t, http.MethodGet, base, "alice", "alice-pw", "")
	if status != http.StatusOK || json.Unmarshal(body, &list) != nil || len(list) != 3 || list[0]["id"] != id || list[0]["fired"] != float64(1) {
		t.Fatalf("GET: %d %s", status, body)
	}

	if status, body := faultAPI(t, http.MethodPost, base, "alice", "alice-pw", `{"id": "slow", "delay": "1s"}`); status != http.StatusBadRequest || !strings.Contains(string(body), `already active`) {
		t.Errorf("POST a used id: %d %s, want 400", status, body)
	}
	if status, _ := faultAPI(t, http.MethodDelete, base+"/slow", "alice", "alice-pw", ""); status != http.StatusNoContent {
		t.Errorf("DELETE slow: %d, want 204", status)
	}
	if status, body := faultAPI(t, http.MethodDelete, base+"/slow", "alice", "alice-pw", ""); status != http.StatusNotFound {
		t.Errorf("DELETE slow again: %d %s, want 404", status, body)
	}
	status, body = faultAPI(t, http.MethodDelete, base, "alice", "alice-pw", "")
	if status != http.StatusOK || string(body) != "{\n  \"cleared\": 2\n}\n" {
		t.Errorf("DELETE all: %d %s", status, body)
	}
	if fs := srv.Faults(); len(fs) != 0 {
		t.Errorf("faults after clearing: %+v", fs)
	}

	// Every change is an admin_change naming the admin.
	var changes []string
	for _, ev := range srv.Audit(audit.Filter{Type: audit.TypeAdminChange}) {
		if ev.Details["object"] == "faults" && ev.Admin == "alice" {
			changes = append(changes, ev.Details["action"].(string))
		}
	}
	if got := strings.Join(changes, " "); got != "cleared removed added added" {
		t.Errorf("admin changes, newest first: %q", got)
	}
}

func TestAdminAPI_FaultProblemsAre400WithLines(t *testing.T) {
	srv := idptest.New(t, idptest.WithConfigYAML(testConfig))
	status, body := faultAPI(t, http.MethodPost, srv.Issuer()+"/admin/api/faults", "alice", "alice-pw", `{
  "match": {"user": "zed", "sever": "files"},
  "error": {"code": "temporarily_unavailable"},
  "delay": "2s",
  "times": -1
}`)
	var answer struct {
		Error    string   `json:"error"`
		Problems []string `json:"problems"`
	}
	if status != http.StatusBadRequest || json.Unmarshal(body, &answer) != nil || answer.Error != "invalid_request" {
		t.Fatalf("%d %s, want 400 invalid_request", status, body)
	}
	want := []string{
		`request body:1: fault: gives error and delay; give exactly one of error, delay, http_status and id_jag per fault (list two faults to combine a delay with another)`,
		`request body:2: unknown key "sever" in fault.match; known keys: client, user, server, grant_type; did you mean "server"?`,
		`request body:2: fault.match.user: unknown user "zed"; known users: alice, bob`,
		`request body:5: fault.times: -1 is negative; give how many times the fault fires, or 0 (or nothing) for every time`,
	}
	if strings.Join(answer.Problems, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(answer.Problems, "\n"), strings.Join(want, "\n"))
	}
	if fs := srv.Faults(); len(fs) != 0 {
		t.Errorf("a fault with problems was added: %+v", fs)
	}
}

// TestAdminAPI_FaultNamedAsMCPJamNamesIt: a team moving its negative tests
// from MCPJam's XAA flow sends its mode names; each refusal names ours.
func TestAdminAPI_FaultNamedAsMCPJamNamesIt(t *testing.T) {
	srv := idptest.New(t, idptest.WithConfigYAML(testConfig))
	for mode, ours := range map[string]string{
		"wrong_audience":      `"wrong_aud"`,
		"wrong_issuer":        `"wrong_iss"`,
		"invalid_type_header": `"wrong_typ"`,
		"resource_mismatch":   `"wrong_resource"`,
		"client_id_mismatch":  `"unmapped_client_id"`,
		"missing_claims":      `"missing_sub" or "missing_jti"`,
		"scope_denial":        `"unknown_scope"`,
		"unknown_sub":         `no fault but a user`,
	} {
		status, body := faultAPI(t, http.MethodPost, srv.Issuer()+"/admin/api/faults", "alice", "alice-pw", `{"id_jag": "`+mode+`"}`)
		var answer struct {
			Problems []string `json:"problems"`
		}
		want := fmt.Sprintf(`MCPJam's %q is %s`, mode, ours)
		if status != http.StatusBadRequest || json.Unmarshal(body, &answer) != nil || len(answer.Problems) != 1 || !strings.Contains(answer.Problems[0], want) {
			t.Errorf("%s: %d %s; want 400 saying %s", mode, status, body, want)
		}
	}
	if fs := srv.Faults(); len(fs) != 0 {
		t.Errorf("a fault with problems was added: %+v", fs)
	}
}

// TestAdminAPI_JWKSFault: a JWKS fault added through the API acts on the
// JWKS only, shows in GET with its endpoint and count, and goes with
// DELETE; one with match or error is refused with its lines.
func TestAdminAPI_JWKSFault(t *testing.T) {
	srv := idptest.New(t, idptest.WithConfigYAML(testConfig))
	base := srv.Issuer() + "/admin/api/faults"
	status, body := faultAPI(t, http.MethodPost, base, "alice", "alice-pw", `{"id": "jwks-down", "endpoint": "jwks", "http_status": 503, "times": 1}`)
	if status != http.StatusCreated {
		t.Fatalf("POST: %d %s", status, body)
	}
	if status, body := faultAPI(t, http.MethodGet, srv.Issuer()+"/keys", "", "", ""); status != http.StatusServiceUnavailable {
		t.Errorf("JWKS: %d %s, want the fault's 503", status, body)
	}
	if status, body := faultAPI(t, http.MethodGet, srv.Issuer()+"/keys", "", "", ""); status != http.StatusOK {
		t.Errorf("JWKS after the fault: %d %s", status, body)
	}
	var list []map[string]any
	status, body = faultAPI(t, http.MethodGet, base, "alice", "alice-pw", "")
	if status != http.StatusOK || json.Unmarshal(body, &list) != nil || len(list) != 1 ||
		list[0]["endpoint"] != "jwks" || list[0]["fired"] != float64(1) || list[0]["remaining"] != float64(0) {
		t.Fatalf("GET: %d %s", status, body)
	}
	if status, _ := faultAPI(t, http.MethodDelete, base+"/jwks-down", "alice", "alice-pw", ""); status != http.StatusNoContent {
		t.Errorf("DELETE: %d, want 204", status)
	}

	status, body = faultAPI(t, http.MethodPost, base, "alice", "alice-pw", "endpoint: jwks\nmatch: {user: alice}\nid_jag: wrong_aud\n")
	var answer struct {
		Problems []string `json:"problems"`
	}
	want := []string{
		"request body:2: fault.match: a fault of the jwks endpoint matches every request to it: no client or user is known on that request; remove match",
		"request body:3: fault.id_jag: only the token endpoint answers with an ID-JAG; a fault of the jwks endpoint gives delay, http_status or jwks: empty",
	}
	if status != http.StatusBadRequest || json.Unmarshal(body, &answer) != nil || strings.Join(answer.Problems, "\n") != strings.Join(want, "\n") {
		t.Errorf("POST a JWKS fault with match and id_jag: %d %s", status, body)
	}
	if fs := srv.Faults(); len(fs) != 0 {
		t.Errorf("faults after a refused POST: %+v", fs)
	}
}

// TestAdminAPI_FaultsAreBounded: the active faults are a list every token
// request walks and every POST copies, so a test suite that adds a one-shot
// fault per test to a long-running IdP must not grow it without bound. Past
// idp.MaxFaults, the faults whose times are spent are forgotten, oldest
// first; when none is spent, the POST is refused with 400 and nothing is
// added.
func TestAdminAPI_FaultsAreBounded(t *testing.T) {
	srv := idptest.New(t, idptest.WithConfigYAML(testConfig))
	base := srv.Issuer() + "/admin/api/faults"
	post := func(n int, fault string) (int, []byte) {
		t.Helper()
		return faultAPI(t, http.MethodPost, base, "alice", "alice-pw", strings.Repeat("- "+fault+"\n", n))
	}
	const limit = 1000 // idp.MaxFaults
	for added := 0; added < limit; added += 200 {
		if status, body := post(200, "{endpoint: jwks, delay: 1ns, times: 1}"); status != http.StatusCreated {
			t.Fatalf("POST 200 faults after %d: %d %.300s", added, status, body)
		}
	}
	status, body := post(1, "{http_status: 500, match: {user: bob}}")
	if status != http.StatusBadRequest || !strings.Contains(string(body), "1000 faults are active") {
		t.Fatalf("POST a fault past the limit, none spent: %d %.300s, want 400", status, body)
	}
	if n := len(srv.Faults()); n != limit {
		t.Fatalf("%d faults active after a refused POST, want %d", n, limit)
	}

	// One GET of the JWKS spends them all; then new faults take the place
	// of the oldest spent ones.
	resp, err := http.Get(srv.Issuer() + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if status, body := post(300, "{http_status: 500, match: {user: bob}}"); status != http.StatusCreated {
		t.Fatalf("POST 300 faults with every active one spent: %d %.300s", status, body)
	}
	fs := srv.Faults()
	if len(fs) != limit {
		t.Fatalf("%d faults active, want %d", len(fs), limit)
	}
	if fs[0].ID != "f301" || fs[limit-1].ID != "f1300" {
		t.Errorf("active faults run from %s to %s, want f301 (the oldest spent ones forgotten) to f1300", fs[0].ID, fs[limit-1].ID)
	}
	if status, body := post(700, "{http_status: 500, match: {user: bob}}"); status != http.StatusCreated {
		t.Fatalf("POST 700 faults in the place of the 700 spent ones: %d %.300s", status, body)
	}
	if status, body := post(1, "{http_status: 500, match: {user: bob}}"); status != http.StatusBadRequest {
		t.Errorf("POST past the limit, none spent: %d %.300s, want 400", status, body)
	}
	if fs := srv.Faults(); len(fs) != limit || fs[0].ID != "f1001" {
		t.Errorf("%d faults active, the first %v; want %d from f1001", len(fs), fs[0].ID, limit)
	}
}

// TestAdminAPI_FaultNullInYAMLRefused: null was refused in a JSON body
// only (json.Valid), and anything else read as YAML, where null (~, null,
// or nothing after the colon) is the zero value: "times: ~", or the JSON
// {"times": null} with a trailing comma, added a fault that fires every
// time, the outage the admin meant to bound. Null is refused in either
// syntax, with its line, and nothing is added (docs/http.md, "Changing the configuration").
func TestAdminAPI_FaultNullInYAMLRefused(t *testing.T) {
	srv := idptest.New(t, idptest.WithConfigYAML(testConfig))
	for _, tt := range []struct{ body, want string }{
		{"{endpoint: jwks, http_status: 503, times: ~}", "request body:1: times is null"},
		{"endpoint: jwks\nhttp_status: 503\ntimes:\n", "request body:3: times is null"},
		{"- {http_status: 500}\n- {http_status: 503, times: null}\n", "request body:2: [1].times is null"},
		{`{"endpoint": "jwks", "http_status": 503, "times": null,}`, "request body:1: times is null"},
		{"{http_status: 500, match: {user: ~}}", "request body:1: match.user is null"},
	} {
		status, body := faultAPI(t, http.MethodPost, srv.Issuer()+"/admin/api/faults", "alice", "alice-pw", tt.body)
		var answer struct {
			Error    string   `json:"error"`
			Problems []string `json:"problems"`
		}
		if status != http.StatusBadRequest || json.Unmarshal(body, &answer) != nil || answer.Error != "invalid_request" ||
			len(answer.Problems) != 1 || !strings.HasPrefix(answer.Problems[0], tt.want) {
			t.Errorf("%q: %d %s, want 400 invalid_request with the problem %q…", tt.body, status, body, tt.want)
		}
		if fs := srv.Faults(); len(fs) != 0 {
			t.Fatalf("%q: a fault was added: %+v", tt.body, fs)
		}
	}
}
