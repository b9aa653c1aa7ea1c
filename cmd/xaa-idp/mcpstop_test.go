package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestMCPServerLimits_ListenStreamEndsAtStop serves, with a demo MCP
// server's limits, a handler that streams until its request's context
// ends, as the SDK serves a subscriptions/listen stream (which lasts as
// long as the token). Until 2026-12-06 such a stream held Ctrl-C of
// `demo` for the whole 5 s a stop gives requests, and the log warned that
// requests were cut off; now it ends a second after the stop begins, and
// a request answered within that second (a tool call) still gets its
// whole answer.
func TestMCPServerLimits_ListenStreamEndsAtStop(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/call" {
			time.Sleep(300 * time.Millisecond)
			io.WriteString(w, "answered")
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		http.NewResponseController(w).Flush()
		<-r.Context().Done()
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serveWithLimits(ctx, ln, h, mcpServerLimits(defaultLimits)) }()

	resp, err := http.Get(base + "/listen")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	call := make(chan string, 1)
	go func() {
		r, err := http.Get(base + "/call")
		if err != nil {
			call <- err.Error()
			return
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		call <- string(b)
	}()
	time.Sleep(100 * time.Millisecond) // the call is in progress
	start := time.Now()
	stop()
	select {
	case <-served:
	case <-time.After(shutdownWait + 2*time.Second):
		t.Fatal("serveWithLimits did not return")
	}
	if took := time.Since(start); took > shutdownWait/2 {
		t.Errorf("the stop took %s with a listen stream open: it waited for the stream", took)
	}
	if got := <-call; got != "answered" {
		t.Errorf("the call in progress at the stop got %q, want its whole answer", got)
	}
}
