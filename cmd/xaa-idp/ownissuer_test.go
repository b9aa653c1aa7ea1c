package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCheck_RefusesTheIdPsOwnIssuerAsAnMCPServer: an MCP server whose
// authorization server is the IdP itself (its issuer, or an alias, the
// IdP's issuer) passed check, and every exchange for it got an ID-JAG
// whose aud is the IdP: the IdP does not take the JWT bearer grant, and
// no other authorization server has that issuer, so the ID-JAG could be
// redeemed nowhere (ConductorOne refuses such a server: "the audience
// must not be your own tenant URL"). check now says so at the line.
func TestCheck_RefusesTheIdPsOwnIssuerAsAnMCPServer(t *testing.T) {
	for _, c := range []struct{ name, server, line string }{
		{"issuer", "    issuer: http://127.0.0.1:20201\n", ":8: mcp_servers[0].issuer: "},
		{"issuer with a trailing slash", "    issuer: http://127.0.0.1:20201/\n", ":8: mcp_servers[0].issuer: "},
		// Dot segments resolve away (RFC 3986 §5.2.4); until 2026-12-06
		// these passed.
		{"issuer with a dot segment", "    issuer: http://127.0.0.1:20201/.\n", ":8: mcp_servers[0].issuer: "},
		{"issuer with a dot-dot segment", "    issuer: http://127.0.0.1:20201/a/..\n", ":8: mcp_servers[0].issuer: "},
		{"alias", "    issuer: http://127.0.0.1:20203\n    aliases: [HTTP://127.0.0.1:20201]\n", ":9: mcp_servers[0].aliases[0]: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "idp.yaml")
			config := `issuer: http://127.0.0.1:20201
users: [{username: ann, password: ann}]
clients:
  - {client_id: app, client_secret: app-secret, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}
mcp_servers:
  - id: notes
    resources: [http://127.0.0.1:20202/mcp]
` + c.server + `    scopes: [notes.read]
    clients: {app: app}
    access: [{users: [ann], scopes: [notes.read]}]
`
			if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := runCLI(t, "check", "--config", file)
			want := file + c.line
			if code != exitUsage || !strings.Contains(stderr, want) || !strings.Contains(stderr, "the IdP's own issuer") {
				t.Errorf("check: exit %d\nstdout %s\nstderr %s\nwant exit 2 and %q... the IdP's own issuer", code, stdout, stderr, want)
			}
		})
	}
}

// TestServe_WarnsOfAnMCPServerAtTheIdPsIssuer: with the issuer from
// --issuer (or --addr), which check cannot know, an MCP server whose
// issuer is the IdP's own passed check and met invalid_target only at
// the first exchange. serve now says so at start.
func TestServe_WarnsOfAnMCPServerAtTheIdPsIssuer(t *testing.T) {
	file := filepath.Join(t.TempDir(), "idp.yaml")
	config := `users: [{username: ann, password: ann}]
clients:
  - {client_id: app, client_secret: app-secret, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}
mcp_servers:
  - id: notes
    issuer: https://idp.example.com/
    resources: [http://127.0.0.1:20202/mcp]
    scopes: [notes.read]
    clients: {app: app}
    access: [{users: [ann], scopes: [notes.read]}]
`
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stop := serveWithLogs(t, "--config", file, "--issuer", "https://idp.example.com")
	logs := stop()
	if !strings.Contains(logs, "MCP server notes: its issuer https://idp.example.com/ is this IdP's issuer") {
		t.Errorf("serve did not warn of the MCP server at its own issuer:\n%s", logs)
	}
	_, stop = serveWithLogs(t, "--config", file, "--issuer", "https://other.example.com")
	if logs := stop(); strings.Contains(logs, "is this IdP's issuer") {
		t.Errorf("serve warned with another issuer:\n%s", logs)
	}
}

// TestServe_RefusesAnMCPServerAtAnotherTenantsIssuer: with tenants, an MCP
// server whose issuer is another tenant's (the base URL from --issuer or
// --addr, which check cannot know, and that tenant's path) passed, and the
// exchange issued an ID-JAG whose aud is that tenant, which redeems no
// ID-JAG (it serves no JWT bearer grant) as no other authorization server
// has its issuer. The exchange now answers invalid_target, as for the
// tenant's own issuer, and serve warns of it at start.
func TestServe_RefusesAnMCPServerAtAnotherTenantsIssuer(t *testing.T) {
	file := filepath.Join(t.TempDir(), "idp.yaml")
	config := func(issuer string) []byte {
		return []byte(`tenants:
  - id: acme
    users: [{username: ann, password: ann}]
    clients:
      - {client_id: app, client_secret: app-secret, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}
    mcp_servers:
      - id: notes
        issuer: ` + issuer + `
        resources: [http://127.0.0.1:20202/mcp]
        scopes: [notes.read]
        clients: {app: app}
        access: [{users: [ann], scopes: [notes.read]}]
  - id: beta
    users: [{username: bob, password: bob}]
`)
	}
	if err := os.WriteFile(file, config("http://127.0.0.1:20201"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The exchange, through a reload: the base URL is known once serve
	// listens.
	acme, _ := serveWithLogs(t, "--config", file)
	base := strings.TrimSuffix(acme, "/t/acme")
	if err := os.WriteFile(file, config(base+"/t/beta/"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, idToken, stderr := runCLI(t, "login", "--issuer", acme, "--client-id", "app", "--client-secret", "app-secret",
		"--username", "ann", "--password", "ann", "--print", "id_token")
	if code != 0 {
		t.Fatalf("login: exit %d: %s", code, stderr)
	}
	var status string
	var body map[string]any
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := http.PostForm(acme+"/oauth/token", url.Values{
			"grant_type":           {"urn:ietf:params:oauth:grant-type:token-exchange"},
			"requested_token_type": {"urn:ietf:params:oauth:token-type:id-jag"},
			"subject_token":        {strings.TrimSpace(idToken)},
			"subject_token_type":   {"urn:ietf:params:oauth:token-type:id_token"},
			"audience":             {base + "/t/beta"},
			"client_id":            {"app"},
			"client_secret":        {"app-secret"},
		})
		if err != nil {
			t.Fatal(err)
		}
		body = nil
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		status = resp.Status
		if desc, _ := body["error_description"].(string); !strings.Contains(desc, "unknown audience") {
			break // the reload is in
		}
	}
	desc, _ := body["error_description"].(string)
	if status != "400 Bad Request" || body["error"] != "invalid_target" || !strings.Contains(desc, "is the issuer of tenant beta") {
		t.Errorf("exchange for a server at tenant beta's issuer: %s %v, want 400 invalid_target naming tenant beta", status, body)
	}

	// The warning at start, with the base URL from --issuer.
	if err := os.WriteFile(file, config("https://idp.example.com/t/beta/"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stop := serveWithLogs(t, "--config", file, "--issuer", "https://idp.example.com")
	if logs := stop(); !strings.Contains(logs, "MCP server notes of tenant acme: its issuer https://idp.example.com/t/beta/ is tenant beta's issuer") {
		t.Errorf("serve did not warn of the MCP server at another tenant's issuer:\n%s", logs)
	}
}

// TestAdminAPI_RefusesAnMCPServerAtAnIdPsIssuer: the admin API took a
// PUT of an MCP server whose issuer is the IdP's own, from --issuer or
// --addr, which check and a reload cannot know (201), or, with tenants,
// another tenant's; every exchange for it was then invalid_target. The
// admin API knows them: it refuses the edit with 400 invalid_config at
// the field, and the file stays as it was.
func TestAdminAPI_RefusesAnMCPServerAtAnIdPsIssuer(t *testing.T) {
	put := func(t *testing.T, base, user, id, issuer, aliases string) (int, string) {
		t.Helper()
		body := `{"id":"` + id + `","issuer":"` + issuer + `","aliases":[` + aliases + `],"resources":["http://127.0.0.1:20209/` + id + `"],"scopes":["notes.read"],"clients":{"app":"app"}}`
		req, _ := http.NewRequest(http.MethodPut, base+"/admin/api/servers/"+id, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(user, user)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	refused := func(t *testing.T, status int, body, field, why string) {
		t.Helper()
		var e struct {
			Error    string `json:"error"`
			Problems []struct {
				Line    int    `json:"line"`
				Message string `json:"message"`
			} `json:"problems"`
		}
		_ = json.Unmarshal([]byte(body), &e)
		if status != http.StatusBadRequest || e.Error != "invalid_config" || len(e.Problems) != 1 ||
			e.Problems[0].Line == 0 || !strings.HasPrefix(e.Problems[0].Message, field+": ") || !strings.Contains(e.Problems[0].Message, why) {
			t.Errorf("PUT: %d %s\nwant 400 invalid_config with one problem at a line, %s: ...%s...", status, body, field, why)
		}
	}

	t.Run("own issuer", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "idp.yaml")
		config := `users: [{username: ann, password: ann, admin: true}]
clients:
  - {client_id: app, client_secret: app-secret, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}
mcp_servers:
  - id: notes
    issuer: http://127.0.0.1:20201
    resources: [http://127.0.0.1:20202/mcp]
    scopes: [notes.read]
    clients: {app: app}
`
		if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
		issuer, _ := serveWithLogs(t, "--config", file)
		status, body := put(t, issuer, "ann", "files", issuer+"/", "")
		refused(t, status, body, "mcp_servers[1].issuer", "the IdP's own issuer")
		status, body = put(t, issuer, "ann", "notes", "http://127.0.0.1:20201", `"`+strings.ToUpper(issuer[:4])+issuer[4:]+`"`)
		refused(t, status, body, "mcp_servers[0].aliases[0]", "the IdP's own issuer")
		// Dot segments resolve away (RFC 3986 §5.2.4): the IdP's issuer
		// too; until 2026-12-06 these were 201.
		for _, dots := range []string{"/.", "/./", "/a/.."} {
			status, body = put(t, issuer, "ann", "files", issuer+dots, "")
			refused(t, status, body, "mcp_servers[1].issuer", "the IdP's own issuer")
		}
		if data, _ := os.ReadFile(file); string(data) != config {
			t.Errorf("a refused edit changed the file:\n%s", data)
		}
		if status, body := put(t, issuer, "ann", "files", "http://127.0.0.1:20203", ""); status != http.StatusCreated {
			t.Errorf("PUT of a server at another issuer: %d %s", status, body)
		}
	})

	t.Run("another tenant's issuer", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "idp.yaml")
		config := `tenants:
  - id: acme
    users: [{username: ann, password: ann, admin: true}]
    clients:
      - {client_id: app, client_secret: app-secret, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}
  - id: beta
    users: [{username: bob, password: bob, admin: true}]
`
		if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
		acme, _ := serveWithLogs(t, "--config", file)
		base := strings.TrimSuffix(acme, "/t/acme")
		status, body := put(t, acme, "ann", "files", base+"/t/beta", "")
		refused(t, status, body, "tenants[0].mcp_servers[0].issuer", "tenant beta")
		status, body = put(t, acme, "ann", "files", base+"/t/beta/.", "")
		refused(t, status, body, "tenants[0].mcp_servers[0].issuer", "tenant beta")
		status, body = put(t, acme, "ann", "files", base+"/t/x/../beta", "")
		refused(t, status, body, "tenants[0].mcp_servers[0].issuer", "tenant beta")
		status, body = put(t, acme, "ann", "files", acme, "")
		refused(t, status, body, "tenants[0].mcp_servers[0].issuer", "the IdP's own issuer")
		if data, _ := os.ReadFile(file); string(data) != config {
			t.Errorf("a refused edit changed the file:\n%s", data)
		}
	})
}
