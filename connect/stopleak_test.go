package connect_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/connect"
)

// stoppedAt is a context that reports itself ended (Err) once stopped is
// set, before its Done closes: a stop (Ctrl-C) that lands the moment an
// attempt to connect again has just opened its session.
type stoppedAt struct {
	context.Context
	stopped atomic.Bool
}

func (c *stoppedAt) Err() error {
	if c.stopped.Load() {
		return context.Canceled
	}
	return c.Context.Err()
}

// sdkGoroutines counts the goroutines running the MCP SDK's code: an
// open client session has some, a closed one none.
func sdkGoroutines() int {
	buf := make([]byte, 1<<22)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "modelcontextprotocol/go-sdk") {
			n++
		}
	}
	return n
}

// TestWatch_StoppedAsItConnectsAgainClosesTheSession: the CRM's MCP
// server fails a whoami call (the watch's session is closed), Watch
// opens a new session there, and the watch is stopped just as it did.
// Watch returned without closing that session: its goroutines ran on,
// for good, in the program that embeds Watch.
func TestWatch_StoppedAsItConnectsAgainClosesTheSession(t *testing.T) {
	s := newRestartStack(t)
	base, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ctx := &stoppedAt{Context: base}
	before := sdkGoroutines()
	reported := make(chan connect.Result, 100)
	done := make(chan error, 1)
	go func() {
		done <- connect.Watch(ctx, connect.Options{Issuer: s.idpURL, ClientID: "mcp-client", ClientSecret: "mcp-secret", Username: "bob", Password: "bob", Timeout: 10 * time.Second},
			50*time.Millisecond, func(r connect.Result) { reported <- r })
	}()
	if r := <-reported; !r.Connected {
		t.Fatalf("Watch did not connect: %v", r.Err)
	}
	// The restarted MCP server (and its authorization server) fails every request until Watch reported
	// the disconnection; the whoami call of the next session it opens
	// there stops the watch.
	var failing atomic.Bool
	failing.Store(true)
	s.as.stop()
	s.mc.stop()
	as, mc := s.stackHandlers(t)
	s.as.start(as)
	s.mc.start(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			http.Error(w, "restarting", http.StatusInternalServerError)
			return
		}
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
		mc.ServeHTTP(w, r)
		if bytes.Contains(body, []byte(`"whoami"`)) {
			ctx.stopped.Store(true)
		}
	}))
	if r := <-reported; r.Connected {
		t.Fatal("Watch reported no disconnection")
	}
	failing.Store(false)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Watch: %v", err)
		}
	case <-base.Done():
		t.Fatal("Watch did not end")
	}
	cancel()
	deadline := time.Now().Add(10 * time.Second)
	for sdkGoroutines() > before && time.Now().Before(deadline) {
		runtime.Gosched()
		time.Sleep(10 * time.Millisecond)
	}
	if n := sdkGoroutines(); n > before {
		t.Errorf("%d goroutines of an MCP session ran on after Watch returned (%d before it started)", n, before)
	}
}
