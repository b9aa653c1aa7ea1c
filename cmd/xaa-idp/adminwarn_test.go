package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServe_AdminChangeAnswersAndLogsItsWarnings: check and the start warn
// of a subject: email server whose ID-JAGs carry no email, but a change
// through the admin API that turned include_email off was answered 200
// and said nothing, though from then on the server's demo authorization
// server refuses every ID-JAG. The change is still made; its answer
// carries the new configuration's warnings ("warnings", with file and
// line), and serve logs them. A change with nothing to warn of has no
// "warnings" member.
func TestServe_AdminChangeAnswersAndLogsItsWarnings(t *testing.T) {
	file := filepath.Join(t.TempDir(), "idp.yaml")
	config := `users: [{username: alice, password: alice-pw, email: alice@acme.example, admin: true}]
clients: [{client_id: c, client_secret: s, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}]
mcp_servers:
  - id: notes
    issuer: http://127.0.0.1:1
    resources: [http://127.0.0.1:2/mcp]
    scopes: [n]
    clients: {c: c-at-notes}
    access: [{users: [alice], scopes: [n]}]
    subject: email
    include_email: true
`
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	issuer, _ := startBinary(t, stderr, "serve", "--addr", "127.0.0.1:0", "--config", file)
	issuer = strings.TrimSpace(issuer)
	waitFor(t, stderr, "level=INFO msg=serving")
	if strings.Contains(stderr.String(), "warning:") {
		t.Fatalf("a warning at start:\n%s", stderr)
	}
	put := func(includeEmail bool) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, issuer+"/admin/api/servers/notes", nil)
		req.SetBasicAuth("alice", "alice-pw")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var server map[string]any
		err = json.NewDecoder(resp.Body).Decode(&server)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET the server: %d %v", resp.StatusCode, err)
		}
		server["include_email"] = includeEmail
		body, _ := json.Marshal(server)
		req, _ = http.NewRequest(http.MethodPut, issuer+"/admin/api/servers/notes", bytes.NewReader(body))
		req.SetBasicAuth("alice", "alice-pw")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("If-Match", "*")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var out map[string]any
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("PUT: %d %s", resp.StatusCode, raw)
		}
		return resp.StatusCode, out
	}

	status, out := put(false)
	ws, _ := out["warnings"].([]any)
	if status != http.StatusOK || out["include_email"] == true || len(ws) != 1 {
		t.Fatalf("include_email off: %d %v, want 200 with one warning", status, out)
	}
	w, _ := ws[0].(map[string]any)
	msg, _ := w["message"].(string)
	if w["file"] != file || w["line"] != float64(10) || !strings.HasPrefix(msg, "warning: server notes: ") || !strings.Contains(msg, "include_email: true") {
		t.Errorf("the warning: %v", w)
	}
	waitFor(t, stderr, file+":10: warning: server notes: ")

	if status, out := put(true); status != http.StatusOK || out["warnings"] != nil {
		t.Errorf("include_email back on: %d %v, want 200 without warnings", status, out)
	}
}
