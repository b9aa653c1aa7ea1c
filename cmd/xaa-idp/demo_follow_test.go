package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/idpclient"
)

// devCall makes an admin API request as dev, the admin of
// fixtures/samples/minimal.yaml, with a JSON body (nil: none), and
// decodes the JSON answer into out (nil: ignored).
func devCall(t *testing.T, method, url string, body any, out any, header ...string) *http.Response {
	t.Helper()
	var text []byte
	if body != nil {
		var err error
		if text, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	resp, raw := basicCall(t, "dev", "dev", method, url, string(text), header...)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: HTTP %d %s", method, url, resp.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, url, err, raw)
		}
	}
	return resp
}

// TestDemo_FollowsAdminEdits is the zero-touch onboarding of a new
// employee and a new MCP client, with `xaa-idp demo` running: an admin
// adds both through the admin API, connects the client to the MCP
// server and assigns the user; the user then connects (login, token
// exchange, JWT bearer grant at the demo authorization server, MCP call)
// and the demo servers know the user and the client. When the admin
// disconnects the client again, the authorization server refuses the
// next ID-JAG the client redeems. An MCP server added while the demo
// runs is logged as needing a restart.
func TestDemo_FollowsAdminEdits(t *testing.T) {
	asPort, mcpPort := freePort(t), freePort(t)
	asURL, mcpURL := fmt.Sprintf("http://127.0.0.1:%d", asPort), fmt.Sprintf("http://127.0.0.1:%d/mcp", mcpPort)
	stderr := &syncBuffer{}
	_, stdout := startBinary(t, stderr, "demo", "--addr", "127.0.0.1:0", "--config", minimalConfig(t, "http", asPort, mcpPort))
	banner := waitFor(t, stdout, "Ctrl-C stops everything.")
	issuer := strings.Fields(banner[strings.Index(banner, "  IdP"):])[1]
	api := issuer + "/admin/api"

	devCall(t, http.MethodPut, api+"/users/newbie", map[string]any{
		"username": "newbie", "password": "newbie-pw", "email": "newbie@example.com",
	}, nil)
	devCall(t, http.MethodPut, api+"/clients/new-app", map[string]any{
		"client_id": "new-app", "client_secret": "new-app-secret", "redirect_uris": []string{"http://127.0.0.1/callback"}, "token_exchange": true,
	}, nil)
	var notes map[string]any
	resp := devCall(t, http.MethodGet, api+"/servers/notes", nil, &notes)
	original := notes["clients"]
	notes["clients"] = map[string]string{"my-mcp-client": "my-mcp-client-at-notes", "new-app": "new-app-at-notes"}
	resp = devCall(t, http.MethodPut, api+"/servers/notes", notes, nil, "If-Match", resp.Header.Get("ETag"))
	access := append(notes["access"].([]any), map[string]any{"users": []string{"newbie"}, "scopes": []string{"notes.read"}})
	devCall(t, http.MethodPut, api+"/servers/notes/access", access, nil, "If-Match", resp.Header.Get("ETag"))

	code, out, errOut := runCLI(t, "connect", "--issuer", issuer, "--client-id", "new-app", "--client-secret", "new-app-secret",
		"--username", "newbie", "--password", "newbie-pw", "--json")
	var results []connectResult
	if err := json.Unmarshal([]byte(out), &results); err != nil || code != 0 || len(results) != 1 || !results[0].Connected {
		t.Fatalf("connect as the new user with the new client: exit %d, %v\n%s%s\ndemo log:\n%s", code, err, out, errOut, stderr)
	}
	// The username comes from the authorization server's local users.
	who := results[0].WhoAmI
	if who["username"] != "newbie" || who["client_id"] != "new-app-at-notes" || strings.Join(results[0].Scopes, " ") != "notes.read" {
		t.Errorf("whoami %v, scopes %v", who, results[0].Scopes)
	}

	// An ID-JAG the client got while connected, redeemed after the admin
	// disconnected it.
	ctx := context.Background()
	login, err := idpclient.Login(ctx, idpclient.LoginOptions{Issuer: issuer, ClientID: "new-app", ClientSecret: "new-app-secret", Username: "newbie", Password: "newbie-pw"})
	if err != nil {
		t.Fatal(err)
	}
	jag, err := idpclient.Exchange(ctx, idpclient.ExchangeOptions{Issuer: issuer, ClientID: "new-app", ClientSecret: "new-app-secret",
		SubjectToken: login.IDToken(), Audience: asURL, Resource: mcpURL})
	if err != nil {
		t.Fatal(err)
	}
	resp = devCall(t, http.MethodGet, api+"/servers/notes", nil, &notes)
	notes["clients"] = original
	devCall(t, http.MethodPut, api+"/servers/notes", notes, nil, "If-Match", resp.Header.Get("ETag"))

	status, refusal := redeemIDJAG(t, asURL, "new-app-at-notes", "new-app-secret", jag["access_token"].(string))
	if status != http.StatusUnauthorized || refusal["error"] != "invalid_client" ||
		!strings.Contains(fmt.Sprint(refusal["error_description"]), `unknown client 'new-app-at-notes'`) {
		t.Errorf("the disconnected client's ID-JAG: HTTP %d %v, want 401 invalid_client", status, refusal)
	}

	wikiAS := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	devCall(t, http.MethodPut, api+"/servers/wiki", map[string]any{
		"id": "wiki", "issuer": wikiAS, "resources": []string{fmt.Sprintf("http://127.0.0.1:%d/mcp", freePort(t))},
		"scopes": []string{"wiki.read"}, "clients": map[string]string{"my-mcp-client": "my-mcp-client-at-wiki"}, "access": []any{},
	}, nil)
	waitFor(t, stderr, "demo: server wiki ("+wikiAS+") is new; the demo serves it once it restarts")
}

// TestDemo_AllowIDJAGReuse: with allow_id_jag_reuse: true in the file,
// the demo authorization server redeems one ID-JAG twice, for two access
// tokens; the admin API shows the key, and an admin turning it off makes
// the running server refuse that ID-JAG at once.
func TestDemo_AllowIDJAGReuse(t *testing.T) {
	asPort, mcpPort := freePort(t), freePort(t)
	asURL, mcpURL := fmt.Sprintf("http://127.0.0.1:%d", asPort), fmt.Sprintf("http://127.0.0.1:%d/mcp", mcpPort)
	file := minimalConfig(t, "http", asPort, mcpPort)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	withKey := strings.Replace(string(data), "    scopes: [notes.read, notes.write]\n", "    scopes: [notes.read, notes.write]\n    allow_id_jag_reuse: true\n", 1)
	if withKey == string(data) {
		t.Fatal("minimal.yaml changed: no place for the key")
	}
	if err := os.WriteFile(file, []byte(withKey), 0o600); err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	_, stdout := startBinary(t, stderr, "demo", "--addr", "127.0.0.1:0", "--config", file)
	banner := waitFor(t, stdout, "Ctrl-C stops everything.")
	issuer := strings.Fields(banner[strings.Index(banner, "  IdP"):])[1]
	api := issuer + "/admin/api"

	ctx := context.Background()
	login, err := idpclient.Login(ctx, idpclient.LoginOptions{Issuer: issuer, ClientID: "my-mcp-client", ClientSecret: "change-me", Username: "dev", Password: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	jag, err := idpclient.Exchange(ctx, idpclient.ExchangeOptions{Issuer: issuer, ClientID: "my-mcp-client", ClientSecret: "change-me",
		SubjectToken: login.IDToken(), Audience: asURL, Resource: mcpURL})
	if err != nil {
		t.Fatal(err)
	}
	redeem := func() (int, map[string]any) {
		t.Helper()
		return redeemIDJAG(t, asURL, "my-mcp-client-at-notes", "change-me", jag["access_token"].(string))
	}
	var tokens []any
	for i := range 2 {
		status, body := redeem()
		if status != http.StatusOK || body["access_token"] == nil {
			t.Fatalf("use %d of one ID-JAG with allow_id_jag_reuse: HTTP %d %v\ndemo log:\n%s", i+1, status, body, stderr)
		}
		tokens = append(tokens, body["access_token"])
	}
	if tokens[0] == tokens[1] {
		t.Error("both uses gave the same access token")
	}

	var notes map[string]any
	resp := devCall(t, http.MethodGet, api+"/servers/notes", nil, &notes)
	if notes["allow_id_jag_reuse"] != true {
		t.Fatalf("GET /admin/api/servers/notes: %v, want allow_id_jag_reuse true", notes)
	}
	notes["allow_id_jag_reuse"] = false
	var put map[string]any
	devCall(t, http.MethodPut, api+"/servers/notes", notes, &put, "If-Match", resp.Header.Get("ETag"))
	if _, has := put["allow_id_jag_reuse"]; has {
		t.Errorf("PUT answered %v, want allow_id_jag_reuse left out (false)", put)
	}
	if saved, _ := os.ReadFile(file); strings.Contains(string(saved), "allow_id_jag_reuse") {
		t.Errorf("the file still has the key:\n%s", saved)
	}
	status, body := redeem()
	if status != http.StatusBadRequest || body["error"] != "invalid_grant" || !strings.Contains(fmt.Sprint(body["error_description"]), "already redeemed") {
		t.Errorf("after the admin turned reuse off: HTTP %d %v, want 400 invalid_grant", status, body)
	}
	if strings.Contains(stderr.String(), "restart") {
		t.Errorf("the demo asks for a restart:\n%s", stderr)
	}
}

// redeemIDJAG posts the ID-JAG jag to the token endpoint of the demo
// authorization server asURL (RFC 7523 JWT bearer grant) as the client
// id (client_secret_basic) and returns the status and the JSON answer.
func redeemIDJAG(t *testing.T, asURL, id, secret, jag string) (int, map[string]any) {
	t.Helper()
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {jag}}
	req, _ := http.NewRequest(http.MethodPost, asURL+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("token response: HTTP %d, %v", resp.StatusCode, err)
	}
	return resp.StatusCode, body
}
