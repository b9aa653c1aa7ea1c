package mcpserver_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/xaa-idp/xaa-idp/resource/authserver"
	"github.com/xaa-idp/xaa-idp/resource/mcpserver"
)

// themeServer serves the MCP server of theme id, with scopes prefix.read
// and prefix.write, and returns its resource and a token maker for it.
func themeServer(t *testing.T, id, prefix string) (resource string, token func(scope string, edit func(*authserver.AccessToken)) string) {
	t.Helper()
	e := newEnv(t)
	srv, set := lateServer(t)
	resource = srv.URL + "/" + id + "/mcp"
	h, err := mcpserver.New(mcpserver.Config{ID: id, Resource: resource, Verifier: e.as, AuthServerIssuer: asIssuer,
		Scopes: []string{prefix + ".read", prefix + ".write"}, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	set(h)
	return resource, func(scope string, edit func(*authserver.AccessToken)) string {
		return e.token(scope, func(at *authserver.AccessToken) {
			at.Resource = resource
			if edit != nil {
				edit(at)
			}
		})
	}
}

// rawPost sends body to the MCP endpoint as a client would and returns
// the status and the whole response body.
func rawPost(t *testing.T, endpoint, token, body string, header map[string]string) (int, string) {
	t.Helper()
	return rawPostContext(t, context.Background(), endpoint, token, body, header)
}

func rawPostContext(t *testing.T, ctx context.Context, endpoint, token, body string, header map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, string(raw) + " " + err.Error()
	}
	return resp.StatusCode, string(raw)
}

// TestMCPServer_WriteToolsKeepBoundedData: the write tools keep what they
// are given for as long as the process runs, so one user with a write
// scope must not be able to grow the server's memory without end, neither
// by one huge record nor by many records.
func TestMCPServer_WriteToolsKeepBoundedData(t *testing.T) {
	huge := strings.Repeat("x", 1<<20)
	tests := []struct {
		id, prefix, tool string
		args             func(i int, text string) map[string]any
		firstID          func(cs *mcp.ClientSession) string // "" when args need no id
	}{
		{"tracker", "issues", "create_issue", func(i int, text string) map[string]any { return map[string]any{"title": text} }, nil},
		{"generic", "things", "create_item", func(i int, text string) map[string]any { return map[string]any{"title": text} }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			resource, token := themeServer(t, tt.id, tt.prefix)
			cs := connect(t, resource, token(tt.prefix+".read "+tt.prefix+".write", nil))
			call := func(args map[string]any) *mcp.CallToolResult {
				t.Helper()
				res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tt.tool, Arguments: args})
				if err != nil {
					t.Fatalf("%s: %v", tt.tool, err)
				}
				return res
			}
			if res := call(tt.args(0, huge)); !res.IsError {
				t.Errorf("%s kept a title of %d bytes", tt.tool, len(huge))
			}
			refused := 0
			for i := range 1000 {
				if res := call(tt.args(i, "record")); res.IsError {
					refused = i
					break
				}
			}
			if refused == 0 {
				t.Errorf("%s kept 1000 more records for one user", tt.tool)
			}
		})
	}

	t.Run("crm note", func(t *testing.T) {
		resource, token := themeServer(t, "crm", "crm")
		cs := connect(t, resource, token("crm.read crm.write", nil))
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "list_accounts"})
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		structured(t, res, &out)
		res, err = cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "update_account",
			Arguments: map[string]any{"account_id": firstID(out, "accounts"), "note": huge}})
		if err != nil {
			t.Fatal(err)
		}
		if !res.IsError {
			t.Errorf("update_account kept a note of %d bytes", len(huge))
		}
	})
}

// TestMCPServer_EditPageKeepsValidUTF8: the excerpt edit_page keeps is cut
// at a character boundary, not inside a multi-byte character.
func TestMCPServer_EditPageKeepsValidUTF8(t *testing.T) {
	resource, token := themeServer(t, "wiki", "wiki")
	cs := connect(t, resource, token("wiki.read wiki.write", nil))
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "search_pages"})
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	structured(t, res, &out)
	content := strings.Repeat("a", 119) + strings.Repeat("é", 10) // é is 2 bytes: byte 120 is inside one
	res, err = cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "edit_page",
		Arguments: map[string]any{"page_id": firstID(out, "pages"), "content": content}})
	if err != nil || res.IsError {
		t.Fatalf("edit_page: %v %s", err, textOf(res))
	}
	var page mcpserver.Page
	structured(t, res, &page)
	if !utf8.ValidString(page.Excerpt) || strings.ContainsRune(page.Excerpt, utf8.RuneError) {
		t.Errorf("excerpt %q is not the valid start of %q", page.Excerpt, content)
	}
}

// TestMCPServer_ScopeCheckReadsCallsAsTheSDKDoes: the HTTP-level scope
// check must see the tool a call names as the SDK will dispatch it: the
// SDK matches JSON keys exactly, ignores what follows the message and
// leaves a string as it was when a later duplicate key is null, so "Name"
// beside "name", trailing bytes, or "name":null after the name must not
// turn the 403 with the step-up challenge into a tool error.
func TestMCPServer_ScopeCheckReadsCallsAsTheSDKDoes(t *testing.T) {
	e := newEnv(t)
	token := e.accessToken("issues.read")
	for name, body := range map[string]string{
		"Name beside name":     `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_issue","Name":"whoami","arguments":{"title":"x"}}}`,
		"trailing bytes":       `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_issue","arguments":{"title":"x"}}} trailing`,
		"Method beside method": `{"jsonrpc":"2.0","id":1,"method":"tools/call","Method":"tools/list","params":{"name":"create_issue","arguments":{"title":"x"}}}`,
		"null name after name": `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_issue","name":null,"arguments":{"title":"x"}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			status, raw := rawPost(t, e.mcpURL, token, body, nil)
			if status != http.StatusForbidden || !strings.Contains(raw, "insufficient_scope") {
				t.Errorf("HTTP %d %s, want 403 insufficient_scope", status, raw)
			}
		})
	}
}

// TestMCPServer_StreamEndsWhenTheTokenExpires: a subscriptions/listen
// stream (protocol 2026-07-28) lasts until the client leaves; it must not
// outlive the access token it was opened with (by more than the 5 s any
// request gets).
func TestMCPServer_StreamEndsWhenTheTokenExpires(t *testing.T) {
	e := newEnv(t)
	token := e.token("issues.read", func(at *authserver.AccessToken) { at.Expiry = e.clock.Now().Add(time.Second) })
	const meta = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"x","version":"1"}}`
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	status, raw := rawPostContext(t, ctx, e.mcpURL, token,
		`{"jsonrpc":"2.0","id":1,"method":"subscriptions/listen","params":{"notifications":{"toolsListChanged":true},`+meta+`}}`,
		map[string]string{"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "subscriptions/listen"})
	if ctx.Err() != nil {
		t.Fatalf("the listen stream was still open %s after its access token expired", time.Since(start)-time.Second)
	}
	if status != http.StatusOK || !strings.Contains(raw, "subscriptions/acknowledged") {
		t.Errorf("listen: HTTP %d %s", status, raw)
	}
}
