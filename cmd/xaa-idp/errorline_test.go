package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// refusingIdP is an IdP that refuses everything with desc as the
// error_description: the login (an error redirect), the token endpoint
// and the admin API.
func refusingIdP(t *testing.T, desc string) string {
	t.Helper()
	mux := http.NewServeMux()
	var issuer string
	refuse := func(w http.ResponseWriter, status int) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant", "error_description": desc})
	}
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": issuer, "authorization_endpoint": issuer + "/authorize", "token_endpoint": issuer + "/token"})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := url.Values{"error": {"access_denied"}, "error_description": {desc}, "state": {r.URL.Query().Get("state")}}
		http.Redirect(w, r, r.URL.Query().Get("redirect_uri")+"?"+q.Encode(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, _ *http.Request) { refuse(w, http.StatusBadRequest) })
	mux.HandleFunc("/admin/api/keys", func(w http.ResponseWriter, _ *http.Request) { refuse(w, http.StatusForbidden) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	issuer = srv.URL
	return issuer
}

// TestClientCommands_ServerErrorIsOneBoundedLine: the IdP's
// error_description reached stderr with its newlines, so that a server
// could add lines of its own below the command's ("xaa-idp exchange:
// ..."), and whole, however long (up to the 1 MiB read). The line keeps
// the description verbatim but for its newlines and tabs, escaped as the
// other control characters are (\u000a), and cuts it at 2 KiB, saying how
// much it cut; the JSON on stdout keeps the whole answer.
func TestClientCommands_ServerErrorIsOneBoundedLine(t *testing.T) {
	const forged = "first\nxaa-idp exchange: forged\tline"
	long := strings.Repeat("A", 20000)
	for _, desc := range []string{forged, long} {
		issuer := refusingIdP(t, desc)
		for _, args := range [][]string{
			{"login", "--issuer", issuer, "--client-id", "c", "--username", "u", "--password", "p"},
			{"exchange", "--issuer", issuer, "--client-id", "c", "--id-token", "x.y.z", "--audience", "https://as.example"},
			{"connect", "--issuer", issuer, "--client-id", "c", "--username", "u", "--password", "p"},
			{"keys", "list", "--issuer", issuer, "--admin-user", "a", "--admin-password", "p"},
			{"load", "--issuer", issuer, "--requests", "1"},
		} {
			code, stdout, stderr := runBinary(t, args...)
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if code != exitFailure || len(lines) != 1 || strings.Contains(stderr, "\t") || len(stderr) > 2500 {
				t.Errorf("%s, description of %d bytes: exit %d, stderr (%d bytes) %.400q; want exit 1 and one line of at most 2.5 KiB", args[0], len(desc), code, len(stderr), stderr)
			}
			if desc == forged && !strings.Contains(stderr, `first\u000axaa-idp exchange: forged\u0009line`) {
				t.Errorf("%s: stderr %q; want the description with \\u000a and \\u0009", args[0], stderr)
			}
			if desc == long && !strings.Contains(stderr, "…[truncated 1") {
				t.Errorf("%s: stderr %.300q; want the cut said", args[0], stderr)
			}
			if args[0] == "login" || args[0] == "exchange" {
				var body map[string]any
				if err := json.Unmarshal([]byte(stdout), &body); err != nil || body["error_description"] != desc {
					t.Errorf("%s: stdout %.300q; want the answer's JSON, its error_description whole", args[0], stdout)
				}
			}
		}
	}
}
