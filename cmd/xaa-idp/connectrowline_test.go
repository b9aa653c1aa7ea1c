package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// forgedRow is what a hostile server puts in a server's name and in its
// error_description: a line break, then a row that reads as connect's
// own, saying a server connected.
const forgedRow = "x\nconnected  files  https://files.example/mcp  as u-alice, scopes files:read"

// forgingIdP is an IdP, an MCP server and its authorization server in
// one: the login succeeds, the one assigned server is named forgedRow,
// and the token exchange is refused with forgedRow as its description.
func forgingIdP(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	var issuer string
	js := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		js(w, 200, map[string]any{"issuer": issuer, "authorization_endpoint": issuer + "/authorize", "token_endpoint": issuer + "/token", "code_challenge_methods_supported": []string{"S256"}})
	})
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", func(w http.ResponseWriter, _ *http.Request) {
		js(w, 200, map[string]any{"issuer": issuer, "authorization_endpoint": issuer + "/authorize", "token_endpoint": issuer + "/token", "response_types_supported": []string{"code"}, "code_challenge_methods_supported": []string{"S256"}})
	})
	mux.HandleFunc("GET /.well-known/oauth-protected-resource/mcp", func(w http.ResponseWriter, _ *http.Request) {
		js(w, 200, map[string]any{"resource": issuer + "/mcp", "authorization_servers": []string{issuer}})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("redirect_uri")+"?code=c&state="+url.QueryEscape(r.URL.Query().Get("state")), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("grant_type") == "authorization_code" {
			js(w, 200, map[string]string{"access_token": "at", "token_type": "Bearer", "id_token": "x.y.z"})
			return
		}
		js(w, 400, map[string]string{"error": "invalid_grant", "error_description": forgedRow})
	})
	mux.HandleFunc("GET /me/mcp-servers", func(w http.ResponseWriter, _ *http.Request) {
		js(w, 200, map[string]any{"mcp_servers": []map[string]any{
			{"name": forgedRow, "resource": issuer + "/mcp", "assigned": true, "client_id": "c"},
		}})
	})
	mux.HandleFunc("/mcp", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="`+issuer+`/.well-known/oauth-protected-resource/mcp"`)
		w.WriteHeader(http.StatusUnauthorized)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	issuer = srv.URL
	return issuer
}

// TestConnect_AServerCannotForgeARow: connect's table, and --watch's
// lines, print each server's name and refusal as a server sent them, so
// that a name or error_description holding a newline printed a row of
// its own, "connected" to a server that refused. Each row is one line,
// its server text escaped as the error line's is (\u000a); --json keeps
// the strings whole.
func TestConnect_AServerCannotForgeARow(t *testing.T) {
	issuer := forgingIdP(t)
	for _, args := range [][]string{
		{"connect", "--issuer", issuer, "--client-id", "c", "--username", "u", "--password", "p", "--timeout", "5s"},
		{"connect", "--issuer", issuer, "--client-id", "c", "--username", "u", "--password", "p", "--timeout", "5s", "--watch", "--interval", "1h"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second) // ends the --watch
		var out, errb bytes.Buffer
		run(ctx, args, &out, &errb)
		cancel()
		for _, line := range strings.Split(out.String(), "\n") {
			if strings.Contains(line, "connected  files") && !strings.Contains(line, "refused") && !strings.Contains(line, "disconnected") {
				t.Errorf("%v: stdout has a forged row %q:\n%s", args[len(args)-1], line, out.String())
			}
		}
		if !strings.Contains(out.String(), `x\u000aconnected  files`) {
			t.Errorf("%v: stdout %q; want the server's text with \\u000a", args[len(args)-1], out.String())
		}
	}
}
