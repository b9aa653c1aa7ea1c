package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
)

// hangingServer accepts every request and never answers it, as a server
// stuck behind a load balancer does.
func hangingServer(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestClientCommands_AServerThatNeverAnswersTimesOut(t *testing.T) {
	hang := hangingServer(t)
	for _, args := range [][]string{
		{"login", "--issuer", hang, "--client-id", "c", "--username", "u", "--password", "p"},
		{"exchange", "--issuer", hang, "--client-id", "c", "--id-token", "x.y.z", "--audience", "https://as.example"},
		{"connect", "--issuer", hang, "--client-id", "c", "--username", "u", "--password", "p"},
		{"connect", "--issuer", hang, "--client-id", "c", "--username", "u", "--password", "p", "--watch"},
	} {
		start := time.Now()
		code, stderr := runCLIFor(t, 10*time.Second, append(args, "--timeout", "300ms")...)
		if code != exitFailure || !strings.Contains(stderr, "--timeout") {
			t.Errorf("%s: exit %d after %s, stderr %q; want %d and a word on --timeout", args[0], code, time.Since(start), stderr, exitFailure)
		}
	}
}

// evil is what a hostile server puts in every string the CLI may print:
// an OSC that retitles the terminal, a screen clear, a C1 CSI, a carriage
// return that overwrites the line, and a bidi override.
const evil = "\x1b]0;pwned\x07\x1b[2J\u009b31m\rfake\u202e"

// hostileIdP is an IdP whose every answer carries evil: a login page whose
// alert is evil, assigned servers named evil, token and admin errors
// described as evil.
func hostileIdP(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	var issuer string
	oauthError := func(w http.ResponseWriter, status int) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant" + evil, "error_description": evil})
	}
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": issuer, "authorization_endpoint": issuer + "/authorize", "token_endpoint": issuer + "/token"})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("client_id") == "refused" {
			_, _ = w.Write([]byte(`<input name="password">`))
			return
		}
		http.Redirect(w, r, r.URL.Query().Get("redirect_uri")+"?code=c&state="+url.QueryEscape(r.URL.Query().Get("state")), http.StatusFound)
	})
	mux.HandleFunc("POST /authorize", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`<p role="alert">` + evil + `</p>`))
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("grant_type") == "authorization_code" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"access_token":"at","token_type":"Bearer"}`))
			return
		}
		oauthError(w, http.StatusBadRequest)
	})
	mux.HandleFunc("GET /me/mcp-servers", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"mcp_servers": []map[string]any{
			{"name": evil, "resource": issuer + "/mcp", "assigned": true, "client_id": "c"},
			{"name": "x", "resource": issuer + "/mcp" + evil, "assigned": true, "client_id": "c"},
		}})
	})
	mux.HandleFunc("/mcp", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("WWW-Authenticate", "Bearer error=\"\u009b31m\u202e\"") // net/http sends no C0 in headers
		w.WriteHeader(http.StatusUnauthorized)
	})
	mux.HandleFunc("/admin/api/keys", func(w http.ResponseWriter, _ *http.Request) { oauthError(w, http.StatusForbidden) })
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	issuer = srv.URL
	return issuer
}

func TestClientCommands_ServerStringsCannotDriveTheTerminal(t *testing.T) {
	issuer := hostileIdP(t)
	for i, args := range [][]string{
		{"login", "--issuer", issuer, "--client-id", "refused", "--username", "u", "--password", "p"},
		{"exchange", "--issuer", issuer, "--client-id", "c", "--id-token", "x.y.z", "--audience", "https://as.example"},
		{"connect", "--issuer", issuer, "--client-id", "c", "--username", "u", "--password", "p"},
		{"connect", "--issuer", issuer, "--client-id", "c", "--username", "u", "--password", "p", "--verbose", "--watch", "--timeout", "1s", "--interval", "1h"},
		{"connect", "--issuer", issuer, "--client-id", "refused", "--username", "u", "--password", "p"},
		{"keys", "list", "--issuer", issuer, "--admin-user", "a", "--admin-password", "p"},
	} {
		lines := 0
		if slices.Contains(args, "--watch") {
			lines = 2 // one per server
		}
		out, errb := runWatch(t, lines, args...)
		for name, s := range map[string]string{"stdout": out, "stderr": errb} {
			if strings.ContainsFunc(s, func(r rune) bool {
				return (unicode.IsControl(r) && r != '\n' && r != '\t') || unicode.Is(unicode.Bidi_Control, r)
			}) {
				t.Errorf("%d %s: %s prints the server's control characters raw: %q", i, args[0], name, s)
			}
		}
		if !strings.Contains(out+errb, "pwned") {
			t.Errorf("%d %s: the server's text is not shown at all (neutralised, not dropped): %q %q", i, args[0], out, errb)
		}
	}
}

func TestTerminalSafe_KeepsTextAndJSON(t *testing.T) {
	var b bytes.Buffer
	w := terminalSafe(&b)
	// "é" split over two writes is one rune, not two bad bytes.
	for _, p := range []string{"José \xc3", "\xa9\tok\n", "\x1b[2J \xff"} {
		if n, err := w.Write([]byte(p)); n != len(p) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", p, n, err)
		}
	}
	if want := "José é\tok\n\\u001b[2J \\xff"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
	b.Reset()
	printJSON(w, map[string]string{"error_description": "a\u009bb\u202ec"})
	var back map[string]string
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || back["error_description"] != "a\u009bb\u202ec" {
		t.Errorf("JSON through terminalSafe: %q, %v, %v", b.String(), back, err)
	}
}

func TestClientCommands_AURLFlagThatIsNoHTTPURLIsBadUsage(t *testing.T) {
	for _, bad := range []string{"notaurl", "ftp://idp.example", "file:///etc/passwd", "http://"} {
		for _, args := range [][]string{
			{"login", "--issuer", bad, "--client-id", "c", "--username", "u", "--password", "p"},
			{"exchange", "--issuer", bad, "--client-id", "c", "--id-token", "x.y.z", "--audience", "https://as.example"},
			{"connect", "--issuer", bad, "--client-id", "c", "--username", "u", "--password", "p"},
			{"connect", "--client-id", "c", "--username", "u", "--password", "p", "--mcp", "https://mcp.example/mcp", "--mcp", bad},
			{"keys", "list", "--issuer", bad, "--admin-user", "a", "--admin-password", "p"},
			{"healthcheck", "--url", bad},
			{"load", "--issuer", bad},
		} {
			code, _, stderr := runCLI(t, args...)
			if code != exitUsage || !strings.Contains(stderr, bad) {
				t.Errorf("%s with %q: exit %d, %q; want %d naming the value", args[0], bad, code, stderr, exitUsage)
			}
		}
	}
}
