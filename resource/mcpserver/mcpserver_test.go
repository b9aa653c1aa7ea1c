package mcpserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/xaa-idp/xaa-idp/resource/authserver"
	"github.com/xaa-idp/xaa-idp/resource/mcpserver"
)

func TestMCPServer_ChallengesWithoutToken(t *testing.T) {
	e := newEnv(t)
	wantMeta := `resource_metadata="` + e.mcpOrigin + `/.well-known/oauth-protected-resource/mcp"`
	tests := []struct {
		name, authorization string
		wantError           string // the error= parameter, "" for none
	}{
		{"no Authorization header", "", ""},
		{"Basic instead of Bearer", "Basic Zm9vOmJhcg==", ""},
		{"a token the verifier refuses", "Bearer not-a-token", "invalid_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, e.mcpURL, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			if tt.authorization != "" {
				req.Header.Set("Authorization", tt.authorization)
			}
			r := do(t, req)
			if r.status != http.StatusUnauthorized {
				t.Fatalf("HTTP %d %s", r.status, r.raw)
			}
			challenge := r.header.Get("WWW-Authenticate")
			if !strings.HasPrefix(challenge, "Bearer ") || !strings.Contains(challenge, wantMeta) {
				t.Errorf("WWW-Authenticate %q lacks %s", challenge, wantMeta)
			}
			hasError := strings.Contains(challenge, `error="invalid_token"`)
			if hasError != (tt.wantError != "") {
				t.Errorf("WWW-Authenticate %q: want error %q", challenge, tt.wantError)
			}
			// RFC 6750 §3: a request without authentication information gets no error
			// information in the challenge (the body still says what to do).
			if tt.wantError == "" && (strings.Contains(challenge, "error=") || strings.Contains(challenge, "error_description=")) {
				t.Errorf("WWW-Authenticate %q carries error information for a request without a token", challenge)
			}
			var body map[string]string
			if err := json.Unmarshal([]byte(r.raw), &body); err != nil || body["error_description"] == "" {
				t.Errorf("body %s: want a JSON error_description", r.raw)
			}
		})
	}
}

func TestMCPServer_RefusesTokenForAnotherResource(t *testing.T) {
	e := newEnv(t)
	wikiToken := e.token("issues.read", func(at *authserver.AccessToken) { at.Resource = "http://127.0.0.1:9/wiki/mcp" })
	if _, err := tryConnect(e.mcpURL, wikiToken); err == nil || !strings.Contains(err.Error(), "Unauthorized") {
		t.Fatalf("a token for the wiki was not refused by the tracker: %v", err)
	}
}

func TestMCPServer_PublishesProtectedResourceMetadata(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"} {
		var prm map[string]any
		raw := getJSON(t, e.mcpOrigin+path, &prm)
		if prm["resource"] != e.mcpURL {
			t.Errorf("%s: resource %v", path, prm["resource"])
		}
		var pretty bytes.Buffer
		_ = json.Indent(&pretty, []byte(strings.NewReplacer(e.mcpURL, "RESOURCE", asIssuer, "ISSUER").Replace(string(raw))), "", "  ")
		golden(t, "protected-resource-metadata.json", pretty.Bytes())
	}
}

// TestMCPServer_WhoamiReportsTheMappedUser: a token for a local user
// (subject mapping) shows its username and sub.
func TestMCPServer_WhoamiReportsTheMappedUser(t *testing.T) {
	e := newEnv(t)
	token := e.token("issues.read", func(at *authserver.AccessToken) { at.Subject, at.Username = "u-alice", "alice" })
	res, err := connect(t, e.mcpURL, token).CallTool(context.Background(), &mcp.CallToolParams{Name: "whoami"})
	if err != nil {
		t.Fatal(err)
	}
	var who mcpserver.WhoAmI
	structured(t, res, &who)
	if who.Username != "alice" || who.Subject != "u-alice" {
		t.Errorf("whoami %+v", who)
	}
	if text := textOf(res); !strings.Contains(text, "You are alice (sub u-alice)") {
		t.Errorf("whoami text %q", text)
	}
}

// TestMCPServer_WhoamiWithTheSDKClient runs the official client with a
// bearer token.
func TestMCPServer_WhoamiWithTheSDKClient(t *testing.T) {
	e := newEnv(t)
	cs := connect(t, e.mcpURL, e.accessToken("issues.read"))
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "whoami"})
	if err != nil {
		t.Fatal(err)
	}
	var who mcpserver.WhoAmI
	structured(t, res, &who)
	if who.Subject != alice || who.Email != aliceEmail || who.ClientID != clientID ||
		!slices.Equal(who.Scopes, []string{"issues.read"}) || who.Resource != e.mcpURL || who.Issuer != asIssuer {
		t.Errorf("whoami %+v", who)
	}
	if text := textOf(res); !strings.Contains(text, alice) || !strings.Contains(text, clientID) {
		t.Errorf("whoami text %q", text)
	}

	tools, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range tools.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	if want := []string{"create_issue", "list_issues", "whoami"}; !slices.Equal(names, want) {
		t.Errorf("tools %v, want %v", names, want)
	}
}

func TestMCPServer_ReadToolIsDeterministicPerUser(t *testing.T) {
	e := newEnv(t)
	list := func(sub string) []mcpserver.Issue {
		t.Helper()
		token := e.token("issues.read", func(at *authserver.AccessToken) { at.Subject, at.Email = sub, "" })
		res, err := connect(t, e.mcpURL, token).CallTool(context.Background(), &mcp.CallToolParams{Name: "list_issues"})
		if err != nil || res.IsError {
			t.Fatalf("list_issues: %v %v", err, textOf(res))
		}
		var out struct{ Issues []mcpserver.Issue }
		structured(t, res, &out)
		return out.Issues
	}
	a1, a2, b := list("00u-alice"), list("00u-alice"), list("00u-bob")
	if len(a1) == 0 || !slices.Equal(a1, a2) {
		t.Errorf("alice sees %v then %v", a1, a2)
	}
	if slices.Equal(a1, b) {
		t.Errorf("alice and bob see the same issues %v", a1)
	}
	if a1[0].Assignee != "00u-alice" {
		t.Errorf("issue %+v is not assigned to alice", a1[0])
	}
}

func TestMCPServer_WriteToolNeedsWriteScope(t *testing.T) {
	e := newEnv(t)
	args := map[string]any{"title": "Printer on fire"}

	t.Run("refused over HTTP before dispatch", func(t *testing.T) {
		body := `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"create_issue","arguments":{"title":"x"}}}`
		req, _ := http.NewRequest(http.MethodPost, e.mcpURL, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Authorization", "Bearer "+e.accessToken("issues.read"))
		r := do(t, req)
		challenge := r.header.Get("WWW-Authenticate")
		if r.status != http.StatusForbidden || !strings.Contains(challenge, `error="insufficient_scope"`) ||
			!strings.Contains(challenge, `scope="issues.read issues.write"`) || !strings.Contains(challenge, "resource_metadata=") {
			t.Fatalf("HTTP %d, WWW-Authenticate %q, body %s", r.status, challenge, r.raw)
		}
		// The body is the JSON-RPC error for call 7.
		rpcErr, _ := r.body["error"].(map[string]any)
		if r.body["id"] != float64(7) || rpcErr == nil || !strings.Contains(rpcErr["message"].(string), "needs scope issues.write") {
			t.Errorf("body %s", r.raw)
		}
	})

	t.Run("refused to the SDK client", func(t *testing.T) {
		cs := connect(t, e.mcpURL, e.accessToken("issues.read"))
		_, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "create_issue", Arguments: args})
		if err == nil || !strings.Contains(err.Error(), "insufficient_scope") {
			t.Fatalf("create_issue without issues.write: err = %v", err)
		}
		// The refusal fails the call, not the session.
		if res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "list_issues"}); err != nil || res.IsError {
			t.Fatalf("list_issues: %v", err)
		}
	})

	t.Run("allowed with the write scope", func(t *testing.T) {
		cs := connect(t, e.mcpURL, e.accessToken("issues.read issues.write"))
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "create_issue", Arguments: args})
		if err != nil || res.IsError {
			t.Fatalf("create_issue: %v %s", err, textOf(res))
		}
		var created mcpserver.Issue
		structured(t, res, &created)
		if created.Title != "Printer on fire" || created.Assignee != aliceEmail {
			t.Errorf("created %+v", created)
		}
		res, err = cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "list_issues", Arguments: map[string]any{"status": "open"}})
		if err != nil {
			t.Fatal(err)
		}
		var out struct{ Issues []mcpserver.Issue }
		structured(t, res, &out)
		if !slices.Contains(out.Issues, created) {
			t.Errorf("list_issues %v lacks the new issue", out.Issues)
		}
	})
}

// TestMCPServer_Themes checks that every theme offers whoami, a read tool
// guarded by .read and a write tool guarded by .write.
func TestMCPServer_Themes(t *testing.T) {
	tests := []struct {
		id, prefix, read, write string
		writeArgs               func(readResult map[string]any) map[string]any
	}{
		{"tracker", "issues", "list_issues", "create_issue", func(map[string]any) map[string]any {
			return map[string]any{"title": "t"}
		}},
		{"wiki", "wiki", "search_pages", "edit_page", func(r map[string]any) map[string]any {
			return map[string]any{"page_id": firstID(r, "pages"), "content": "new text"}
		}},
		{"design", "design", "list_files", "add_comment", func(r map[string]any) map[string]any {
			return map[string]any{"file_id": firstID(r, "files"), "text": "love it"}
		}},
		{"crm", "crm", "list_accounts", "update_account", func(r map[string]any) map[string]any {
			return map[string]any{"account_id": firstID(r, "accounts"), "stage": "customer"}
		}},
		{"something-else", "things", "list_items", "create_item", func(map[string]any) map[string]any {
			return map[string]any{"title": "t"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			scopes := []string{tt.prefix + ".read", tt.prefix + ".write"}
			srv, set := lateServer(t)
			resourceURL := srv.URL + "/" + tt.id + "/mcp"
			e := newEnv(t)
			h, err := mcpserver.New(mcpserver.Config{ID: tt.id, Resource: resourceURL, Verifier: e.as, AuthServerIssuer: asIssuer, Scopes: scopes})
			if err != nil {
				t.Fatal(err)
			}
			set(h)
			call := func(scope, tool string, args map[string]any) *mcp.CallToolResult {
				t.Helper()
				token := e.token(scope, func(at *authserver.AccessToken) { at.Resource = resourceURL })
				res, err := connect(t, resourceURL, token).CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: args})
				if err != nil {
					return nil
				}
				return res
			}
			read := call(scopes[0], tt.read, nil)
			if read == nil || read.IsError {
				t.Fatalf("%s refused with %s", tt.read, scopes[0])
			}
			var readOut map[string]any
			structured(t, read, &readOut)
			if res := call(scopes[0], tt.write, tt.writeArgs(readOut)); res != nil && !res.IsError {
				t.Errorf("%s allowed without %s", tt.write, scopes[1])
			}
			if res := call(scopes[1], tt.read, nil); res != nil && !res.IsError {
				t.Errorf("%s allowed without %s", tt.read, scopes[0])
			}
			if res := call(strings.Join(scopes, " "), tt.write, tt.writeArgs(readOut)); res == nil || res.IsError {
				t.Errorf("%s refused with %s: %v", tt.write, scopes, textOf(res))
			}
			// The PRM is served under this server's own path.
			var prm map[string]any
			getJSON(t, srv.URL+"/.well-known/oauth-protected-resource/"+tt.id+"/mcp", &prm)
			if prm["resource"] != resourceURL {
				t.Errorf("PRM %v", prm)
			}
		})
	}
}

func firstID(r map[string]any, list string) string {
	items, _ := r[list].([]any)
	if len(items) == 0 {
		return ""
	}
	id, _ := items[0].(map[string]any)["id"].(string)
	return id
}

// connect opens an SDK client session that sends token as a bearer token.
func connect(t *testing.T, endpoint, token string) *mcp.ClientSession {
	t.Helper()
	cs, err := tryConnect(endpoint, token)
	if err != nil {
		t.Fatalf("connect %s: %v", endpoint, err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

func tryConnect(endpoint, token string) (*mcp.ClientSession, error) {
	client := mcp.NewClient(&mcp.Implementation{Name: "resource-test", Version: "0"}, nil)
	return client.Connect(context.Background(), &mcp.StreamableClientTransport{
		Endpoint:   endpoint,
		HTTPClient: &http.Client{Transport: bearer{token: token, base: http.DefaultTransport}},
	}, nil)
}

// bearer adds an RFC 6750 Authorization header to every request.
type bearer struct {
	token string
	base  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}

// structured decodes a tool result's structured content into v.
func structured(t *testing.T, res *mcp.CallToolResult, v any) {
	t.Helper()
	raw, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("structured content %s: %v", raw, err)
	}
}

func textOf(res *mcp.CallToolResult) string {
	if res == nil {
		return "<nil>"
	}
	var parts []string
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n")
}

func TestNew_RejectsBadConfig(t *testing.T) {
	e := newEnv(t)
	tests := map[string]mcpserver.Config{
		"relative resource":        {ID: "tracker", Resource: "/mcp", Verifier: e.as, AuthServerIssuer: asIssuer},
		"resource with a fragment": {ID: "tracker", Resource: e.mcpURL + "#x", Verifier: e.as, AuthServerIssuer: asIssuer},
		"no verifier":              {ID: "tracker", Resource: e.mcpURL, AuthServerIssuer: asIssuer},
		"verifier without issuer":  {ID: "tracker", Resource: e.mcpURL, Verifier: e.as},
		"not an http(s) resource":  {ID: "tracker", Resource: "ftp://x", Verifier: e.as, AuthServerIssuer: asIssuer},
	}
	for name, cfg := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := mcpserver.New(cfg); err == nil {
				t.Error("no error")
			}
		})
	}
}

// TestMCPServer_ChecksTheConfiguredResource serves an MCP server for the
// tracker's resource from another origin: the verifier checks the token's
// audience against the configured resource, not the request URL, and the
// metadata names the configured authorization server.
func TestMCPServer_ChecksTheConfiguredResource(t *testing.T) {
	e := newEnv(t)
	srv, set := lateServer(t)
	h, err := mcpserver.New(mcpserver.Config{
		ID: "wiki", Resource: e.mcpURL, AuthServerIssuer: asIssuer, Scopes: []string{"wiki.read", "wiki.write"},
		Verifier: e.as,
	})
	if err != nil {
		t.Fatal(err)
	}
	set(h)
	cs := connect(t, srv.URL+"/mcp", e.accessToken("issues.read"))
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "whoami"})
	if err != nil {
		t.Fatal(err)
	}
	var who mcpserver.WhoAmI
	structured(t, res, &who)
	if who.Subject != alice {
		t.Errorf("whoami %+v", who)
	}
	var prm map[string]any
	getJSON(t, srv.URL+"/.well-known/oauth-protected-resource/mcp", &prm)
	if servers, _ := prm["authorization_servers"].([]any); len(servers) != 1 || servers[0] != asIssuer {
		t.Errorf("PRM %v", prm)
	}
}
