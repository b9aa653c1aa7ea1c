package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
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
		done := make(chan struct{})
		var code int
		var stderr string
		go func() {
			defer close(done)
			code, _, stderr = runCLI(t, append(args, "--timeout", "300ms")...)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: still waiting after 10s for a server that never answers", strings.Join(args, " "))
		}
		if code != exitFailure || !strings.Contains(stderr, "--timeout") {
			t.Errorf("%s: exit %d after %s, stderr %q; want %d and a word on --timeout", args[0], code, time.Since(start), stderr, exitFailure)
		}
	}
}
