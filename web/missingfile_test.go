package web_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
)

// logBuffer is a bytes.Buffer safe for the handlers' goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// adminCall sends an admin API request with alice's HTTP Basic
// credentials and answers the status and the decoded body.
func adminCall(t *testing.T, p *product, method, path, ifMatch, body string) (int, map[string]any, http.Header) {
	t.Helper()
	code, data, header := adminRaw(t, p, method, path, ifMatch, body)
	var out map[string]any
	_ = json.Unmarshal(data, &out)
	return code, out, header
}

// adminRaw is adminCall with the body as it came.
func adminRaw(t *testing.T, p *product, method, path, ifMatch, body string) (int, []byte, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, p.URL+path, strings.NewReader(body))
	req.SetBasicAuth("alice", "alice")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if ifMatch != "" {
		req.Header.Set("If-Match", ifMatch)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data, resp.Header
}

// adminOK is adminRaw's body, once the request answered 200.
func adminOK(t *testing.T, p *product, method, path, body string) []byte {
	t.Helper()
	code, data, _ := adminRaw(t, p, method, path, "", body)
	if code != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, code, data)
	}
	return data
}

// TestConfigFile_DeletedWhileServing: the configuration file deleted while
// the IdP serves it is said once in the log, as a warning naming the file;
// the admin API's status and the console's banner say it is missing and
// what a change does then; a change writes the file again with the
// running configuration and the change, and the status's reload error is
// over (an event says the file is back). With its directory gone too, a
// change is a 409 naming the directory. Until 2026-12-06 the log had only
// the config_reload event, the console said the file was "invalid" and
// that changes were refused (they were not: the next one wrote the file
// again, and the status kept its error), and a change with the directory
// gone was a 500 about a lock.
func TestConfigFile_DeletedWhileServing(t *testing.T) {
	var logged logBuffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logged, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	p, file := startWithFile(t)
	b := p.browser(t)
	if resp, body := b.signIn("alice", "alice"); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d\n%s", resp.StatusCode, body)
	}
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		p.Store.CheckFile() // the watcher's looks
	}
	if n := strings.Count(logged.String(), "level=WARN"); n != 1 || !strings.Contains(logged.String(), "missing") || !strings.Contains(logged.String(), file) {
		t.Errorf("%d warnings, want 1 naming the missing file:\n%s", n, logged.String())
	}
	_, st, _ := adminCall(t, p, http.MethodGet, "/admin/api/status", "", "")
	if m, _ := st["missing"].(string); !strings.Contains(m, file) || !strings.Contains(m, "writes the file again") || st["editable"] != true {
		t.Errorf("status %v, want missing naming the file and what a change does, editable", st)
	}
	if _, page := b.get("/admin/"); !strings.Contains(page, `id="missing-file-banner"`) || strings.Contains(page, "changed on disk but is invalid") {
		t.Errorf("the console does not say the file is missing:\n%s", page)
	}

	_, _, h := adminCall(t, p, http.MethodGet, "/admin/api/servers/tracker/access", "", "")
	status, body, _ := adminCall(t, p, http.MethodPut, "/admin/api/servers/tracker/access", h.Get("ETag"), `[{"groups":["engineering"],"scopes":["issues.read"]}]`)
	if status != http.StatusOK {
		t.Fatalf("a change with the file missing: %d %v, want 200", status, body)
	}
	if data, err := os.ReadFile(file); err != nil || !strings.Contains(string(data), "engineering") {
		t.Fatalf("the file after the change: %v\n%s", err, data)
	}
	_, st, _ = adminCall(t, p, http.MethodGet, "/admin/api/status", "", "")
	if st["missing"] != nil || st["last_reload_error"] != nil {
		t.Errorf("status after the file was written again: %v, want neither missing nor a reload error", st)
	}
	if evs := p.IdP.Audit().Query(audit.Filter{Type: audit.TypeConfigReload, Limit: 1}); len(evs) != 1 || evs[0].Outcome != audit.Allowed {
		t.Errorf("the last config_reload event %+v, want the file back", evs)
	}

	// Its directory gone too.
	if err := os.RemoveAll(filepath.Dir(file)); err != nil {
		t.Fatal(err)
	}
	_, st, _ = adminCall(t, p, http.MethodGet, "/admin/api/status", "", "")
	if m, _ := st["missing"].(string); !strings.Contains(m, "directory") || st["editable"] != false {
		t.Errorf("status with the directory gone: %v, want missing naming the directory, not editable", st)
	}
	_, _, h = adminCall(t, p, http.MethodGet, "/admin/api/servers/tracker/access", "", "")
	status, body, _ = adminCall(t, p, http.MethodPut, "/admin/api/servers/tracker/access", h.Get("ETag"), `[{"groups":["sales"],"scopes":["issues.read"]}]`)
	if desc, _ := json.Marshal(body); status != http.StatusConflict || body["error"] != "conflict" || !strings.Contains(string(desc), filepath.Dir(file)) {
		t.Errorf("a change with the directory gone: %d %v, want 409 conflict naming the directory", status, body)
	}
}
