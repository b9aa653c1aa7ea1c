package admin_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
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

// TestAdminAPI_RefusalAuditFailureLoggedOnce: while the audit log cannot
// be written, the admin API's refused logins (a wrong password, a user
// who is not an admin) say so in the log once, as the audit log's own
// failure is said, not once per request: anyone can send wrong passwords,
// and a line each would bury the log of a full disk, or fill it. Until
// 2026-12-06 each refusal added an ERROR line.
func TestAdminAPI_RefusalAuditFailureLoggedOnce(t *testing.T) {
	var logged logBuffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logged, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	base, srv := startIdP(t)
	if err := srv.Audit().Close(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if resp, body := get(t, base, "/admin/api/config", "alice", "wrong"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a wrong password: %d %s, want 401", resp.StatusCode, body)
		}
		if resp, body := get(t, base, "/admin/api/config", "bob", "bob-pw"); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("bob: %d %s, want 403", resp.StatusCode, body)
		}
	}
	if n := strings.Count(logged.String(), "level=ERROR"); n != 1 {
		t.Errorf("%d ERROR lines for 6 refusals that could not be audited, want 1:\n%s", n, logged.String())
	}
}
