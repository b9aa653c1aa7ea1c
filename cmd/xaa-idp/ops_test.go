package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/fixtures"
)

// syncBuffer is a bytes.Buffer that the server and the test may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serveWithLogs runs `serve` with its stderr captured; stop ends it and
// returns what it logged.
func serveWithLogs(t *testing.T, args ...string) (issuer string, stop func() string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	logs := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), pw, logs)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("serve printed no issuer: %v\n%s", err, logs)
	}
	go io.Copy(io.Discard, pr)
	stopped := false
	stop = func() string {
		if !stopped {
			stopped = true
			cancel()
			select {
			case code := <-done:
				if code != 0 {
					t.Errorf("serve exited %d", code)
				}
			case <-time.After(10 * time.Second):
				t.Error("serve did not stop")
			}
		}
		return logs.String()
	}
	t.Cleanup(func() { stop() })
	return strings.TrimSpace(line), stop
}

func TestServe_JSONLogsParseAndHoldNoTokens(t *testing.T) {
	issuer, stop := serveWithLogs(t, "--log-format", "json", "--log-level", "debug")
	tokens := loginAlice(t, issuer)
	idToken, _ := tokens["id_token"].(string)
	code, out, stderr := runCLI(t, "exchange", "--issuer", issuer, "--client-id", "mcp-client", "--client-secret", "mcp-secret",
		"--id-token", idToken, "--audience", "http://127.0.0.1:8101", "--resource", "http://127.0.0.1:8201/mcp", "--scope", "issues.read")
	if code != 0 {
		t.Fatalf("exchange exit %d: %s", code, stderr)
	}
	var exchanged map[string]any
	if err := json.Unmarshal([]byte(out), &exchanged); err != nil {
		t.Fatal(err)
	}
	runCLI(t, "login", "--issuer", issuer, "--client-id", "mcp-client", "--client-secret", "mcp-secret", "--username", "alice", "--password", "wrong")

	logs := stop()
	secrets := []string{idToken, tokens["refresh_token"].(string), tokens["access_token"].(string), exchanged["access_token"].(string)}
	var msgs []string
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("log line is not JSON: %q", line)
			continue
		}
		if rec["time"] == nil || rec["level"] == nil || rec["msg"] == nil {
			t.Errorf("log record lacks time, level or msg: %q", line)
		}
		msgs = append(msgs, rec["msg"].(string)+" "+stringOr(rec["type"])+" "+stringOr(rec["outcome"]))
	}
	for _, want := range []string{"serving  ", "audit login allowed", "audit login denied", "audit token allowed", "audit token_exchange allowed", "http request  "} {
		found := false
		for _, m := range msgs {
			found = found || m == want
		}
		if !found {
			t.Errorf("no %q record among %q", want, msgs)
		}
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			t.Errorf("the logs contain a token")
		}
	}
	if jwtLike := regexp.MustCompile(`eyJ[\w-]+\.eyJ[\w-]+`); jwtLike.MatchString(logs) {
		t.Errorf("the logs contain something like a JWT: %s", jwtLike.FindString(logs))
	}
	if strings.Contains(logs, "authRequestID") || strings.Contains(logs, "code_challenge") {
		t.Errorf("the logs contain a query string:\n%s", logs)
	}
}

func stringOr(v any) string { s, _ := v.(string); return s }

func TestServe_LogFlagsAreChecked(t *testing.T) {
	for _, args := range [][]string{{"--log-format", "xml"}, {"--log-level", "loud"}, {"--clock", "next tuesday"}} {
		if code, _, _ := runCLI(t, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...); code != exitUsage {
			t.Errorf("serve %v: exit %d, want %d", args, code, exitUsage)
		}
	}
}

func TestServe_ClockFlagStartsAtAFixedTime(t *testing.T) {
	issuer, _ := serveWithLogs(t, "--clock", "2030-01-01T00:00:00Z", "--clock-frozen")
	tokens := loginAlice(t, issuer)
	_, claims, err := decodeJWT(tokens["id_token"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if iat, _ := claims["iat"].(float64); int64(iat) != time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).Unix() {
		t.Errorf("iat = %v, want 2030-01-01T00:00:00Z", claims["iat"])
	}

	body, err := adminCall(context.Background(), http.DefaultClient, http.MethodGet, issuer, "/admin/api/clock", "alice", "alice")
	if err != nil || !strings.Contains(string(body), `"time": "2030-01-01T00:00:00Z"`) || !strings.Contains(string(body), `"frozen": true`) {
		t.Errorf("GET /admin/api/clock: %v %s", err, body)
	}
	events, err := adminCall(context.Background(), http.DefaultClient, http.MethodGet, issuer, "/admin/api/audit?type=login&limit=1", "alice", "alice")
	if err != nil || !strings.Contains(string(events), `"time": "2030-01-01T00:00:00.000Z"`) {
		t.Errorf("the login's audit event is not stamped with the IdP clock: %v %s", err, events)
	}
}

func TestKeysRotate_PublishesANewKey(t *testing.T) {
	state := t.TempDir()
	issuer, _ := serveWithLogs(t, "--state-dir", state)
	jwksKids := func() []string {
		resp, err := http.Get(issuer + "/keys")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var set struct {
			Keys []struct {
				Kid string `json:"kid"`
			} `json:"keys"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&set)
		var kids []string
		for _, k := range set.Keys {
			kids = append(kids, k.Kid)
		}
		return kids
	}
	before := jwksKids()

	code, out, stderr := runCLI(t, "keys", "rotate", "--issuer", issuer, "--admin-user", "alice", "--admin-password", "alice")
	if code != 0 {
		t.Fatalf("keys rotate exit %d: %s", code, stderr)
	}
	var res struct {
		Rotated []struct {
			OldKID string `json:"old_kid"`
			NewKID string `json:"new_kid"`
		} `json:"rotated"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Rotated) != 2 {
		t.Fatalf("keys rotate printed %s", out)
	}
	after := jwksKids()
	if len(after) != len(before)+2 {
		t.Errorf("JWKS after the rotation = %v, want %v and two new keys", after, before)
	}

	if code, _, stderr := runCLI(t, "keys", "rotate", "--issuer", issuer, "--admin-user", "bob", "--admin-password", "bob"); code != exitFailure || !strings.Contains(stderr, "forbidden") {
		t.Errorf("keys rotate as a non-admin: exit %d %q, want 1 and forbidden", code, stderr)
	}
	if code, _, _ := runCLI(t, "keys", "spin", "--issuer", issuer); code != exitUsage {
		t.Errorf("keys spin: exit %d, want %d", code, exitUsage)
	}
	if code, out, _ := runCLI(t, "keys", "list", "--issuer", issuer, "--admin-user", "alice", "--admin-password", "alice"); code != 0 || !strings.Contains(out, `"previous"`) {
		t.Errorf("keys list: exit %d\n%s", code, out)
	}
}

// TestKeys_WithoutAdminPasswordIsAUsageError: no user has an empty
// password, so `keys` without --admin-password is bad usage (exit 2, as
// for a missing --password elsewhere), and asks the IdP nothing: a call
// with an empty password would only be a failed admin login, audited and
// counted towards the user's login throttle.
func TestKeys_WithoutAdminPasswordIsAUsageError(t *testing.T) {
	issuer := startServe(t)
	for _, action := range []string{"list", "rotate"} {
		code, out, stderr := runCLI(t, "keys", action, "--issuer", issuer, "--admin-user", "alice")
		if code != exitUsage || !strings.Contains(stderr, "--admin-password") || out != "" {
			t.Errorf("keys %s without --admin-password: exit %d, stdout %q, stderr %q; want %d naming the flag", action, code, out, stderr, exitUsage)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, issuer+"/admin/api/audit?type=login&outcome=denied", nil)
	req.SetBasicAuth("alice", "alice")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var events []map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&events); err != nil {
		t.Fatal(err)
	}
	for _, ev := range events {
		if ev["client_id"] == "admin-api" && ev["user"] == "alice" {
			t.Errorf("keys without --admin-password tried to sign in: %v", ev)
		}
	}
}

// TestServe_LogsConfigReloadErrors edits the watched configuration file of
// the real binary with a typo and expects the refused reload on stderr: an
// audit event appended by the configuration watcher, not by the IdP, is a
// log record like every other.
func TestServe_LogsConfigReloadErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "idp.yaml")
	if err := os.WriteFile(file, fixtures.Demo, 0o600); err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	startBinary(t, stderr, "serve", "--addr", "127.0.0.1:0", "--config", file)
	typo := bytes.Replace(fixtures.Demo, []byte("token_exchange: true"), []byte("token_exchang: true"), 1)
	if err := os.WriteFile(file, typo, 0o600); err != nil {
		t.Fatal(err)
	}
	logs := waitFor(t, stderr, "type=config_reload outcome=error")
	if !strings.Contains(logs, "token_exchang") {
		t.Errorf("the config_reload record does not name the problem:\n%s", logs)
	}
}

// TestServe_GCTarget: serve runs the GC at gcTarget, which keeps its
// resident memory down, unless GOGC says otherwise; read from the real
// binary's /metrics, as an operator would.
func TestServe_GCTarget(t *testing.T) {
	for _, c := range []struct{ env, want string }{{"", "50"}, {"200", "200"}} {
		t.Run("GOGC="+c.env, func(t *testing.T) {
			t.Setenv("GOGC", c.env)
			issuer, _ := startBinary(t, &syncBuffer{}, "serve", "--addr", "127.0.0.1:0")
			resp, err := http.Get(issuer + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if want := "\ngo_gc_gogc_percent " + c.want + "\n"; !strings.Contains(string(body), want) {
				t.Errorf("/metrics lacks %q", strings.TrimSpace(want))
			}
		})
	}
}

// TestServe_MisplacedTokensStayOutOfLogsAndAudit: a client that sends a
// token in the wrong parameter (its access token as the client_id of HTTP
// Basic, or as an exchange's resource or requested_token_type) gets a
// refusal, and neither the log on stderr, the audit log nor the error
// description holds the token: a short token (an opaque access token, a
// code) is not cut by the 512-byte bound of audit strings.
func TestServe_MisplacedTokensStayOutOfLogsAndAudit(t *testing.T) {
	dir := t.TempDir()
	issuer, stop := serveWithLogs(t, "--log-level", "debug", "--state-dir", dir)
	tokens := loginAlice(t, issuer)
	at, _ := tokens["access_token"].(string)
	idToken, _ := tokens["id_token"].(string)
	if !strings.HasPrefix(at, "eyJ") || len(at) > 400 {
		t.Fatalf("access token %q: the test needs a short JWT-shaped one", at)
	}
	post := func(user, pass string, form url.Values) string {
		req, _ := http.NewRequest(http.MethodPost, issuer+"/oauth/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(user, pass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode < 400 {
			t.Errorf("misplaced token: %d %s, want a refusal", resp.StatusCode, body)
		}
		return string(body)
	}
	exchange := func(k, v string) url.Values {
		f := url.Values{
			"grant_type":           {"urn:ietf:params:oauth:grant-type:token-exchange"},
			"requested_token_type": {"urn:ietf:params:oauth:token-type:id-jag"},
			"subject_token_type":   {"urn:ietf:params:oauth:token-type:id_token"},
			"subject_token":        {idToken},
			"audience":             {"http://127.0.0.1:8101"},
		}
		f.Set(k, v)
		return f
	}
	bodies := post(at, "x", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}) +
		post("mcp-client", "mcp-secret", exchange("resource", at)) +
		post("mcp-client", "mcp-secret", exchange("requested_token_type", at))
	logs := stop()
	file, err := os.ReadFile(filepath.Join(dir, "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"the log": logs, "the audit log": string(file), "the error descriptions": bodies} {
		if strings.Contains(text, at) {
			t.Errorf("%s holds the access token", name)
		}
	}
}

// TestServe_UnreadableConfigFileIsNamed: a --config file deleted or
// replaced by a directory while the server runs is refused, and the log
// record, /admin/api/status and the admin API's 409 name the file, as they
// do for a problem at a line: an operator with several configurations
// must see which one is gone.
func TestServe_UnreadableConfigFileIsNamed(t *testing.T) {
	file := filepath.Join(t.TempDir(), "idp.yaml")
	if err := os.WriteFile(file, fixtures.Demo, 0o600); err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	issuer, _ := startBinary(t, stderr, "serve", "--addr", "127.0.0.1:0", "--config", file)
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(file, 0o700); err != nil {
		t.Fatal(err)
	}
	logs := waitFor(t, stderr, "type=config_reload outcome=error")
	if want := file + ": cannot read the file: not a regular file but a directory"; !strings.Contains(logs, want) {
		t.Errorf("the config_reload record does not name the file (want %q):\n%s", want, logs)
	}
	_, body := configCall(t, http.MethodGet, issuer+"/admin/api/status", "")
	var st struct {
		Problems []struct {
			File    string `json:"file"`
			Message string `json:"message"`
		} `json:"last_reload_problems"`
	}
	if err := json.Unmarshal(body, &st); err != nil || len(st.Problems) != 1 || st.Problems[0].File != file {
		t.Errorf("status: %v %s", err, body)
	}
	resp, body := configCall(t, http.MethodPut, issuer+"/admin/api/groups/legal", `{"description":"Reads contracts"}`)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), `"file": "`+file+`"`) {
		t.Errorf("PUT while the file is a directory: %d %s", resp.StatusCode, body)
	}
	resp, _ = configCall(t, http.MethodGet, issuer+"/admin/api/servers/wiki", "")
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the last good configuration is not served: %d", resp.StatusCode)
	}
}
