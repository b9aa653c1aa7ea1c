package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// forgingServers is an IdP that logs anyone in and lists one MCP server,
// the MCP server, and its authorization server, in one: the server's
// name and the authorization server's JWT-bearer refusal hold a newline
// and a tab, so that a line of connect's output would become two, the
// second a forged "connected".
func forgingServers(t *testing.T) string {
	t.Helper()
	const forged = "\nconnected\tforged\thttps://evil.example/mcp\tas root"
	mux := http.NewServeMux()
	var base string
	writeJSON := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	meta := func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"issuer": base, "authorization_endpoint": base + "/authorize", "token_endpoint": base + "/token",
			"code_challenge_methods_supported": []string{"S256"}, "grant_types_supported": []string{"authorization_code", "urn:ietf:params:oauth:grant-type:token-exchange", "urn:ietf:params:oauth:grant-type:jwt-bearer"}})
	}
	mux.HandleFunc("GET /.well-known/openid-configuration", meta)
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", meta)
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("redirect_uri")+"?code=c&state="+r.URL.Query().Get("state"), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		switch r.FormValue("grant_type") {
		case "authorization_code":
			writeJSON(w, http.StatusOK, map[string]string{"access_token": "at", "token_type": "Bearer", "id_token": "x.y.z"})
		case "urn:ietf:params:oauth:grant-type:token-exchange":
			writeJSON(w, http.StatusOK, map[string]any{"access_token": "a.b.c", "issued_token_type": "urn:ietf:params:oauth:token-type:id-jag", "token_type": "N_A", "expires_in": 300})
		default:
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "no" + forged})
		}
	})
	mux.HandleFunc("GET /me/mcp-servers", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"mcp_servers": []map[string]any{
			{"name": "notes" + forged, "resource": base + "/mcp", "assigned": true, "client_id": "c"},
		}})
	})
	mux.HandleFunc("GET /.well-known/oauth-protected-resource/mcp", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"resource": base + "/mcp", "authorization_servers": []string{base}})
	})
	mux.HandleFunc("/mcp", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="`+base+`/.well-known/oauth-protected-resource/mcp"`)
		w.WriteHeader(http.StatusUnauthorized)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	base = srv.URL
	return base
}

// TestConnect_AServerCannotForgeALine: connect prints one line per MCP
// server, in the table and with --watch; the server's name and its
// authorization server's refusal reached those lines with their newlines
// and tabs, so that a third-party server could add a "connected" line of
// its own; so did each step --verbose prints on stderr. They are escaped
// as in connect's error line (\u000a, \u0009).
func TestConnect_AServerCannotForgeALine(t *testing.T) {
	issuer := forgingServers(t)
	for _, extra := range [][]string{nil, {"--verbose"}, {"--watch", "--interval", "1h", "--verbose"}} {
		args := append([]string{"connect", "--issuer", issuer, "--client-id", "c", "--username", "u", "--password", "p", "--timeout", "5s"}, extra...)
		lines := 0
		if slices.Contains(extra, "--watch") {
			lines = 1
		}
		out, errb := runWatch(t, lines, args...)
		if lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n"); len(lines) != 1 || strings.Contains(out, "\t") || !strings.Contains(out, `no\u000aconnected\u0009forged`) ||
			!strings.Contains(out, `notes\u000aconnected`) {
			t.Errorf("%v: stdout %q (stderr %q); want one line, the name and the refusal with \\u000a and \\u0009", extra, out, errb)
		}
		if strings.Contains(errb, "\nconnected") || strings.Contains(errb, "\t") {
			t.Errorf("%v: stderr %q; the --verbose steps hold the refusal's newline or tab", extra, errb)
		}
	}
}
