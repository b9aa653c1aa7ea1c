package idp_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

// lockedBuffer is a bytes.Buffer safe for the handlers' goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestFaults_AuditFailureLoggedOnce: while the audit log cannot be
// written, an injected fault that fires (at the JWKS, at the token
// endpoint) says so in the log once, as the audit log's own failure is
// said, not once per request: a client retrying against a fault would
// bury the log. Until 2026-12-06 each fired fault added an ERROR line.
func TestFaults_AuditFailureLoggedOnce(t *testing.T) {
	var logged lockedBuffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logged, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	p := startConformanceIdP(t)
	if _, err := p.AddFaults(policy.Fault{Endpoint: policy.FaultEndpointJWKS, HTTPStatus: http.StatusServiceUnavailable},
		policy.Fault{Error: policy.FaultError{Code: "invalid_grant"}}); err != nil {
		t.Fatal(err)
	}
	if err := p.Audit.Close(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		resp, err := http.Get(p.URL + "/keys")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("/keys with the fault: %d, want 503", resp.StatusCode)
		}
		p.postToken(t, b("x"), basic("mcp-client", "s1"))
	}
	if n := strings.Count(logged.String(), "level=ERROR"); n != 1 {
		t.Errorf("%d ERROR lines for 6 fired faults that could not be audited, want 1:\n%s", n, logged.String())
	}
}
